// migrate.js - a card's Migrate: the #migrate dialog asks for the receiving host (one of
// kxld.conf's relocation_peers, or its relocation server's HOST:PORT), then POST /api/v1/domains/{name}/migrate (always a job of the API). While memory
// moves, the card's job line shows the supervisor's "migrate" job (progress, Cancel:
// dashboard.js); the API's job is read once a second only for how it ended. A peer host's
// domain (hosts.js) moves the same way, by the same calls relayed to that host: its
// relocation_peers offered (GET /api/v1/hosts/{from}/peers), POST
// /api/v1/hosts/{from}/domains/{name}/migrate, its job read at /api/v1/hosts/{from}/jobs/{id}.

import { api, request, ApiError } from './api.js';

function $(id) {
  return document.getElementById(id);
}

// The path of the API of host from (a name of GET /api/v1/hosts) or, without one, this host's.
function apiOf(from, suffix) {
  return from ? `/api/v1/hosts/${encodeURIComponent(from)}${suffix}` : `/api/v1${suffix}`;
}

// The peers the sending host's kxld.conf names (GET .../peers), offered as the host's choices.
async function loadPeers(from) {
  try {
    const peers = await api('GET', apiOf(from, '/peers'));
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
async function ask(name, host, from) {
  await loadPeers(from);
  return new Promise((resolve) => {
    const dlg = $('migrate');
    $('migrate-title').textContent = from ? `Migrate ${name} from ${from}` : `Migrate ${name}`;
    $('migrate-host').value = host || '';
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

// Migrates the domain of host from (a peer's name; null: this host's) where the user says
// (host: the dialog's answer filled in, the receiving host's name as the sending host's
// relocation_peers have it); throws ApiError when it failed (refused at once, or the job's
// error). Resolves false when the user cancelled the dialog.
export async function migrateDomain(name, host, from = null) {
  const to = await ask(name, host, from);
  if (!to) return false;
  let job = (await request('POST', apiOf(from, `/domains/${encodeURIComponent(name)}/migrate`), to)).data;
  while (job.state === 'running') {
    await sleep(1000);
    job = await api('GET', apiOf(from, `/jobs/${job.id}`));
  }
  if (job.state === 'failed') throw new ApiError(job.status, { error: job.error });
  return true;
}
