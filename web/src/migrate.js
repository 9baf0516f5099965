// migrate.js - a card's Migrate: the #migrate dialog asks for the receiving host (one of
// kxld.conf's relocation_peers, or its relocation server's HOST:PORT), then POST /api/v1/domains/{name}/migrate (always a job of the API). While memory
// moves, the card's job line shows the supervisor's "migrate" job (progress, Cancel:
// dashboard.js); the API's job is read once a second only for how it ended.

import { api, request, ApiError } from './api.js';

function $(id) {
  return document.getElementById(id);
}

// The peers kxld.conf names (GET /api/v1/peers), offered as the host's choices.
async function loadPeers() {
  try {
    const peers = await api('GET', '/api/v1/peers');
    $('migrate-peers').replaceChildren(...peers.map((p) => {
      const o = document.createElement('option');
      o.value = p.name;
      o.label = `${p.name} (${p.relocation})`;
      return o;
    }));
  } catch (e) {
    $('migrate-peers').replaceChildren(); // a host can still be typed
  }
}

// Asks where to (host: the answer filled in, e.g. the peer a card was dropped on); resolves
// {host, bandwidth_mib} or null.
async function ask(name, host) {
  await loadPeers();
  return new Promise((resolve) => {
    const dlg = $('migrate');
    $('migrate-title').textContent = `Migrate ${name}`;
    if (host) $('migrate-host').value = host;
    dlg.onclose = () => {
      const host = $('migrate-host').value.trim();
      const bw = $('migrate-bandwidth').value.trim();
      resolve(dlg.returnValue === 'ok' && host ? { host, ...(bw ? { bandwidth_mib: Number(bw) } : {}) } : null);
    };
    dlg.returnValue = '';
    dlg.showModal();
  });
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

// Migrates the domain where the user says (host: the dialog's answer filled in); throws
// ApiError when it failed (refused at once, or the job's error). Resolves false when the user
// cancelled the dialog.
export async function migrateDomain(name, host) {
  const to = await ask(name, host);
  if (!to) return false;
  let job = (await request('POST', `/api/v1/domains/${encodeURIComponent(name)}/migrate`, to)).data;
  while (job.state === 'running') {
    await sleep(1000);
    job = await api('GET', `/api/v1/jobs/${job.id}`);
  }
  if (job.state === 'failed') throw new ApiError(job.status, { error: job.error });
  return true;
}
