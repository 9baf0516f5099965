// devices.js - a domain's devices in the Devices dialog of its card: its snapshots (GET, POST
// .../snapshots; POST .../snapshots/{s}/revert; DELETE .../snapshots/{s}), the media of its
// CD-ROM drives (PUT, DELETE .../disks/{vdev}/medium), its disks (GET, POST .../disks;
// DELETE .../disks/{vdev}) and its network interfaces (GET /api/v1/domains/{name}'s
// vif_counters and config; POST .../vifs; DELETE .../vifs/{devid}). A long operation runs as a job of the API (202; a snapshot's
// create always, the others asked with Prefer: respond-async): its URL is read once a second
// while it runs, never otherwise, and the supervisor's "job" events (the dashboard's events
// WebSocket) tell its progress.

import { ApiError, api, request } from './api.js';
import { confirmAction } from './confirm.js';
import { el } from './format.js';
import { snapshotRows } from './snaptext.js';

let domain = null; // the name the dialog shows
let busy = false;
let onAuthLost = () => {};
let wired = false;

function $(id) {
  return document.getElementById(id);
}

function domPath(suffix) {
  return `/api/v1/domains/${encodeURIComponent(domain)}${suffix}`;
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

function status(text) {
  $('devices-job').textContent = text;
}

function setBusy(on) {
  busy = on;
  $('devices').dataset.busy = String(on);
  for (const b of $('devices').querySelectorAll('[data-needs-idle]')) b.disabled = on;
}

// Runs one operation (what: its words for people); a 202 is followed to its job's end.
// Returns the operation's result; throws ApiError on a failure, the job's included.
async function run(what, method, path, body) {
  setBusy(true);
  $('devices-error').textContent = '';
  status(`${what}…`);
  const started = Date.now();
  try {
    const r = await request(method, path, body, { async: true });
    let result = r.data;
    if (r.status === 202) {
      let job = r.data;
      $('devices').dataset.job = String(job.id);
      while (job.state === 'running') {
        await sleep(1000);
        job = await api('GET', `/api/v1/jobs/${job.id}`);
        const secs = Math.round((Date.now() - started) / 1000);
        const { phase, progress } = $('devices').dataset;
        const how = [phase, progress && `${progress} %`].filter(Boolean).join(', ');
        status(`${what}… ${secs} s${how ? ` (${how})` : ''}`);
      }
      delete $('devices').dataset.job;
      if (job.state === 'failed') throw new ApiError(job.status, { error: job.error });
      result = job.result;
    }
    status(`${what}: done.`);
    return result;
  } catch (e) {
    status('');
    if (e.status === 401) onAuthLost();
    $('devices-error').textContent = `${what}: ${e.message}`;
    throw e;
  } finally {
    delete $('devices').dataset.progress;
    delete $('devices').dataset.phase;
    setBusy(false);
  }
}

// The same, its error shown only (the dialog is redrawn either way).
async function act(what, method, path, body) {
  try {
    await run(what, method, path, body);
  } catch {
    // shown in the dialog
  }
  await load();
  keepFocus();
}

// A redrawn row took the focused button with it: the focus goes back to the dialog, not to
// the page behind it.
function keepFocus() {
  const dlg = $('devices');
  if (dlg.open && !dlg.contains(document.activeElement)) dlg.focus();
}

const button = (label, action, onclick, cls) => el('button', { type: 'button', 'data-action': action, 'data-needs-idle': true, class: cls, onclick }, label);

function snapshotRow(s) {
  const revert = button('Revert', 'revert', async () => {
    if (await confirmAction(`Revert domain ${domain} to snapshot ${s.name}? Its disks and memory go back to when the snapshot was taken; what changed since is lost.`, `Revert ${domain} to ${s.name}`)) {
      await act(`Revert ${domain} to ${s.name}`, 'POST', domPath(`/snapshots/${encodeURIComponent(s.name)}/revert`));
    }
  }, 'danger');
  revert.hidden = s.partial;
  return el('tr', { 'data-snapshot': s.name },
    el('td', {}, el('span', { class: 'name' }, s.name), s.partial ? el('span', { class: 'muted' }, ' (not on every disk)') : ''),
    el('td', {}, s.date),
    el('td', {}, s.size),
    el('td', { class: 'actions' }, revert,
      button('Delete', 'delete', async () => {
        if (await confirmAction(`Delete snapshot ${s.name} of domain ${domain}?`, `Delete ${s.name}`)) {
          await act(`Delete ${s.name}`, 'DELETE', domPath(`/snapshots/${encodeURIComponent(s.name)}`));
        }
      }, 'danger')));
}

function cdromRow(d) {
  const file = el('input', { type: 'text', 'data-field': 'iso', placeholder: '/srv/iso/disc.iso', spellcheck: 'false', 'aria-label': `ISO file for ${d.vdev}` });
  const eject = button('Eject', 'eject', () => act(`Eject ${d.vdev}`, 'DELETE', domPath(`/disks/${encodeURIComponent(d.vdev)}/medium`)));
  eject.disabled = busy || !d.target;
  const insert = el('form', { class: 'inline', onsubmit: (e) => {
    e.preventDefault();
    const path = file.value.trim();
    if (path) act(`Insert ${path} in ${d.vdev}`, 'PUT', domPath(`/disks/${encodeURIComponent(d.vdev)}/medium`), { file: path });
  } }, file, el('button', { type: 'submit', 'data-action': 'insert', 'data-needs-idle': true }, 'Insert'));
  return el('tr', { 'data-vdev': d.vdev },
    el('td', {}, d.vdev),
    el('td', { 'data-field': 'medium' }, d.target || el('span', { class: 'muted' }, 'empty')),
    el('td', { class: 'actions' }, insert, eject));
}

function diskRow(d) {
  return el('tr', { 'data-vdev': d.vdev },
    el('td', {}, d.vdev),
    el('td', { 'data-field': 'target' }, d.target || ''),
    el('td', {}, `${d.format}, ${d.mode === 'w' ? 'read-write' : 'read-only'}`),
    el('td', { class: 'actions' }, button('Detach', 'detach', async () => {
      if (await confirmAction(`Detach disk ${d.vdev} from domain ${domain}? The guest should not be using it.`, `Detach ${d.vdev}`)) {
        await act(`Detach ${d.vdev}`, 'DELETE', domPath(`/disks/${encodeURIComponent(d.vdev)}`));
      }
    }, 'danger')));
}

// nic: a vif_counters entry; vif: the config's vif of that index (mac, bridge), if known.
function nicRow(nic, vif) {
  const where = [vif && vif.mac, vif && vif.bridge && `bridge ${vif.bridge}`].filter(Boolean).join(', ');
  return el('tr', { 'data-devid': String(nic.devid) },
    el('td', {}, String(nic.devid)),
    el('td', { 'data-field': 'vifname' }, nic.vifname),
    el('td', { 'data-field': 'where' }, where),
    el('td', { class: 'actions' }, button('Detach', 'detach', async () => {
      if (await confirmAction(`Detach network interface ${nic.devid} (${nic.vifname}) from domain ${domain}?`, `Detach ${nic.vifname}`)) {
        await act(`Detach ${nic.vifname}`, 'DELETE', domPath(`/vifs/${nic.devid}`));
      }
    }, 'danger')));
}

// The dialog drawn again from the API.
async function load() {
  const name = domain;
  try {
    const [snaps, disks, detail] = await Promise.all([api('GET', domPath('/snapshots')),
      api('GET', domPath('/disks')), api('GET', domPath(''))]);
    if (name !== domain) return;
    const list = snapshotRows(snaps);
    $('snapshots').tBodies[0].replaceChildren(...list.map(snapshotRow));
    $('snapshots').hidden = list.length === 0;
    $('snapshots-none').hidden = list.length > 0;
    const cds = disks.filter((d) => d.type === 'cdrom');
    $('cdroms').tBodies[0].replaceChildren(...cds.map(cdromRow));
    $('cdroms').hidden = cds.length === 0;
    $('cdroms-none').hidden = cds.length > 0;
    const plain = disks.filter((d) => d.type !== 'cdrom');
    $('disks').tBodies[0].replaceChildren(...plain.map(diskRow));
    $('disks').hidden = plain.length === 0;
    $('disks-none').hidden = plain.length > 0;
    const nics = detail.vif_counters || [];
    const vifs = (detail.config && detail.config.vifs) || [];
    $('nics').tBodies[0].replaceChildren(...nics.map((n) => nicRow(n, vifs[n.devid])));
    $('nics').hidden = nics.length === 0;
    $('nics-none').hidden = nics.length > 0;
    for (const b of $('devices').querySelectorAll('[data-needs-idle]')) if (busy) b.disabled = true;
    $('devices').dataset.loaded = String(Date.now());
  } catch (e) {
    if (e.status === 401) onAuthLost();
    $('devices-error').textContent = `devices: ${e.message}`;
  }
}

async function takeSnapshot(e) {
  e.preventDefault();
  const name = $('snapshot-name').value.trim();
  if (!name || busy) return;
  try {
    await run(`Snapshot ${name} of ${domain}`, 'POST', domPath('/snapshots'), { name });
    $('snapshot-name').value = '';
  } catch {
    // shown in the dialog
  }
  await load();
}

async function attachDisk(e) {
  e.preventDefault();
  const spec = $('disk-spec').value.trim();
  if (!spec || busy) return;
  try {
    await run(`Attach ${spec}`, 'POST', domPath('/disks'), { spec });
    $('disk-spec').value = '';
  } catch {
    // shown in the dialog
  }
  await load();
}

async function attachNic(e) {
  e.preventDefault();
  const spec = $('nic-spec').value.trim();
  if (busy) return;
  try {
    await run(`Attach a network interface${spec ? ` (${spec})` : ''}`, 'POST', domPath('/vifs'), spec ? { spec } : {});
    $('nic-spec').value = '';
  } catch {
    // shown in the dialog
  }
  await load();
}

function wire() {
  if (wired) return;
  wired = true;
  $('snapshot-form').addEventListener('submit', takeSnapshot);
  $('disk-form').addEventListener('submit', attachDisk);
  $('nic-form').addEventListener('submit', attachNic);
  $('devices-close').addEventListener('click', () => $('devices').close());
}

// The Devices dialog of domain name.
export function openDevices(name, authLost) {
  wire();
  onAuthLost = authLost;
  if (domain !== name && !busy) status('');
  domain = name;
  $('devices-title').textContent = `Devices of ${name}`;
  $('devices-error').textContent = '';
  $('snapshots').tBodies[0].replaceChildren();
  $('cdroms').tBodies[0].replaceChildren();
  $('disks').tBodies[0].replaceChildren();
  $('nics').tBodies[0].replaceChildren();
  delete $('devices').dataset.loaded;
  $('devices').showModal();
  load();
}

// An event of the events WebSocket: a job of the shown domain tells its progress; a domain
// that is gone closes its dialog.
export function devicesEvent(ev) {
  if (ev.event === 'gone' && ev.domain === domain && $('devices').open && !busy) $('devices').close();
  if (ev.event !== 'job' || ev.domain !== domain || !busy || !ev.data) return;
  // (progress -1: not known in this phase)
  const dlg = $('devices');
  if (typeof ev.data.progress === 'number' && ev.data.progress >= 0) dlg.dataset.progress = String(ev.data.progress);
  else delete dlg.dataset.progress;
  if (typeof ev.data.phase === 'string') dlg.dataset.phase = ev.data.phase;
}
