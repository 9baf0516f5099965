// hosts.js - several hosts in one view: each peer kxld of kxld.conf's api_peers
// (GET /api/v1/hosts) is a section under this host's domains. Its domains are read through this
// kxld's relay (GET /api/v1/hosts/NAME/domains) once its events WebSocket, relayed too
// (GET /api/v1/hosts/NAME/events), is open, and again only when an event says something
// changed (no polling: a pause on the peer shows here within a second); its actions are the
// same API calls through the relay, its console opens through the relayed console WebSocket
// and its display (a domain with vnc) in noVNC through the relayed VNC WebSocket. A peer that does not answer shows as unreachable, why, and is asked again every
// few seconds until it does; the rest of the page goes on. A card dragged onto a host is
// migrated there after the Migrate dialog's confirmation (the keyboard's way is the card's
// Migrate button): a card of this host onto a peer's section, a peer's card onto this host's
// card (#host) or onto another peer's section; the browser asks only this kxld, which relays a
// peer's migration to that peer (migrate.js). The receiving host is filled in by the name the
// hosts give it: a peer's api_peers name, this host's name to its peers (GET /api/v1/host's
// peer_name, its certificate's), as the sending host's relocation_peers are to name them.

import { api, socket } from './api.js';
import { cardAction } from './cardaction.js';
import { confirmAction } from './confirm.js';
import { openConsole } from './console.js';
import { migrateDomain } from './migrate.js';
import { openVnc } from './vnc.js';
import { el } from './format.js';

export const PEER_RETRY_MS = 3000; // an unreachable peer is asked again after this long
const DRAG_TYPE = 'application/x-kxl-domain';

// name -> {name, api, root, status, list, cards: Map, events: WebSocket, retry, refreshTimer}
const peers = new Map();
let stopped = true;
let onAuthLost = () => {};
let onMigrated = () => {};
let selfName = ''; // this host's name to its peers (GET /api/v1/host's peer_name)

function hostPath(host, suffix) {
  return `/api/v1/hosts/${encodeURIComponent(host)}${suffix}`;
}

function domPath(host, name, suffix = '') {
  return hostPath(host, `/domains/${encodeURIComponent(name)}${suffix}`);
}

// Runs an action on a peer's domain; its error shows in the card; its events bring the change.
async function act(peer, card, what, fn) {
  await cardAction(card, what, fn, onAuthLost);
  refreshSoon(peer);
}

function makeCard(peer, d) {
  const card = { name: d.name, state: d.state };
  const btn = (label, action, fn, cls) => el('button', { type: 'button', 'data-action': action, class: cls, onclick: fn }, label);
  card.stateEl = el('span', { class: 'state', 'data-field': 'state' });
  card.facts = el('span', { class: 'muted', 'data-field': 'facts' });
  card.pauseBtn = btn('Pause', 'pause', () => {
    const verb = card.state === 'paused' ? 'unpause' : 'pause';
    act(peer, card, verb, () => api('POST', domPath(peer.name, card.name, `/${verb}`)));
  });
  card.error = el('p', { class: 'error', role: 'alert' });
  card.displayBtn = btn('Display', 'display', () => openVnc(card.name, peer.name));
  card.displayBtn.hidden = true; // until the domain's config says it has vnc (loadDetail)
  card.root = el('article', { class: 'card peer-domain', 'data-host-domain': d.name, 'data-host-of': peer.name },
    el('header', {}, el('h3', {}, d.name), card.stateEl, card.facts),
    el('div', { class: 'actions' },
      btn('Console', 'console', () => openConsole(card.name, peer.name)),
      card.displayBtn,
      btn('Migrate', 'migrate', () => migrateFrom(peer, card.name, '')),
      card.pauseBtn,
      btn('Shutdown', 'shutdown', () => act(peer, card, 'Shutdown', () => api('POST', domPath(peer.name, card.name, '/shutdown'), {}))),
      btn('Reboot', 'reboot', () => act(peer, card, 'Reboot', () => api('POST', domPath(peer.name, card.name, '/reboot'), {}))),
      btn('Destroy', 'destroy', async () => {
        if (await confirmAction(`Destroy domain ${card.name} on ${peer.name}? Its QEMU is killed at once, as with kxl destroy.`, `Destroy ${card.name}`)) {
          act(peer, card, 'Destroy', () => api('DELETE', domPath(peer.name, card.name)));
        }
      }, 'danger')),
    card.error);
  draggable(card.root, d.name, peer.name);
  return card;
}

// Whether a peer's domain has a graphical console (its config's vnc): the Display button.
async function loadDetail(peer, card) {
  try {
    const d = await api('GET', domPath(peer.name, card.name));
    card.displayBtn.hidden = !(d.config && d.config.gfx && d.config.gfx.vnc);
  } catch (e) {
    if (e.status === 401) onAuthLost();
  }
}

function showCard(card, d) {
  card.last = d;
  card.state = d.state;
  card.stateEl.textContent = d.state;
  card.stateEl.className = `state state-${d.state}`;
  card.facts.textContent = `id ${d.domid}, ${d.memory_mib} MiB, ${d.vcpus} vCPU${d.vcpus === 1 ? '' : 's'}`;
  card.pauseBtn.textContent = d.state === 'paused' ? 'Unpause' : 'Pause';
}

// The section's status: its domains' count, and the note of a migration from or to it (under
// way, or why it failed), which stays through the refreshes its events bring.
function showStatus(peer) {
  const n = peer.cards.size;
  const count = `${n} domain${n === 1 ? '' : 's'}`;
  peer.status.textContent = peer.note ? `${count} · ${peer.note}` : count;
}

function setNote(peer, note) {
  peer.note = note;
  if (peer.root.dataset.reachable === 'yes') showStatus(peer);
  else if (note) peer.status.textContent = note;
}

function showDomains(peer, doms) {
  peer.root.dataset.reachable = 'yes';
  const seen = new Set();
  for (const d of doms) {
    seen.add(d.name);
    let card = peer.cards.get(d.name);
    if (!card) {
      card = makeCard(peer, d);
      peer.cards.set(d.name, card);
      peer.list.append(card.root);
      loadDetail(peer, card);
    }
    showCard(card, d);
  }
  for (const [name, card] of peer.cards) {
    if (!seen.has(name)) {
      card.root.remove();
      peer.cards.delete(name);
    }
  }
  showStatus(peer);
}

// A peer that does not answer: why, no cards; its events WebSocket is asked again later.
function showUnreachable(peer, why) {
  peer.root.dataset.reachable = 'no';
  peer.status.textContent = /unreachable/.test(why) ? why : `unreachable: ${why}`;
  for (const card of peer.cards.values()) card.root.remove();
  peer.cards.clear();
}

// Reads a peer's domains once (one request in flight per peer; one more after it when asked
// meanwhile).
async function refresh(peer) {
  if (peer.busy) {
    peer.again = true;
    return;
  }
  peer.busy = true;
  try {
    const doms = await api('GET', hostPath(peer.name, '/domains'));
    if (peers.get(peer.name) === peer) showDomains(peer, doms);
  } catch (e) {
    if (e.status === 401) onAuthLost();
    showUnreachable(peer, e.message);
  } finally {
    peer.busy = false;
    if (peer.again) {
      peer.again = false;
      refresh(peer);
    }
  }
}

// Soon, once: several events of one change make one read.
function refreshSoon(peer) {
  if (peer.refreshTimer) return;
  peer.refreshTimer = setTimeout(() => { peer.refreshTimer = null; refresh(peer); }, 30);
}

// The lifecycle events whose state the page knows without asking.
const shownAs = { paused: 'paused', unpaused: 'running' };

// The peer's events through this kxld: its domains read once it is open, and again when an
// event says something changed; when it closes (the peer is down, or went), the section says
// why and it is opened again a little later.
function connect(peer) {
  peer.retry = null;
  const ws = socket(hostPath(peer.name, '/events'));
  peer.events = ws;
  ws.onopen = () => refresh(peer);
  ws.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (ev.event === 'stats' || ev.event === 'job') return; // no state of the list changes
    const card = peer.cards.get(ev.domain);
    if (card && shownAs[ev.event]) showCard(card, { ...card.last, state: shownAs[ev.event] });
    refreshSoon(peer);
  };
  ws.onclose = (e) => {
    if (peer.events !== ws) return; // stopped meanwhile
    peer.events = null;
    if (stopped) return;
    // (the list's read says why in the plain words of its error, or the close's reason does)
    if (e.reason) showUnreachable(peer, e.reason);
    else refresh(peer);
    peer.retry = setTimeout(() => connect(peer), PEER_RETRY_MS);
  };
}

// What a drop carries: {name, host} (host '' for this host's domain), or null.
function dropped(e) {
  e.preventDefault();
  try {
    const d = JSON.parse(e.dataTransfer.getData(DRAG_TYPE));
    return d && typeof d.name === 'string' ? { name: d.name, host: d.host || '' } : null;
  } catch (err) {
    return null;
  }
}

// Migrates from's domain name (from: a peer's section) to the host named to (the dialog's
// answer filled in); its section says how it goes.
async function migrateFrom(from, name, to) {
  setNote(from, `migrating ${name}...`);
  try {
    if (await migrateDomain(name, to, from.name)) onMigrated(name);
    setNote(from, '');
  } catch (err) {
    if (err.status === 401) onAuthLost();
    setNote(from, `migrating ${name} failed: ${err.message}`);
  }
  refreshSoon(from);
}

// A card dropped on a peer's section: one of this host's or of another peer, migrated here.
async function droppedOnPeer(peer, e) {
  peer.root.classList.remove('drop-target');
  const d = dropped(e);
  if (!d || d.host === peer.name) return;
  if (d.host) {
    const from = peers.get(d.host);
    if (from) await migrateFrom(from, d.name, peer.name);
    refreshSoon(peer);
    return;
  }
  setNote(peer, `migrating ${d.name} here...`);
  try {
    if (await migrateDomain(d.name, peer.name)) onMigrated(d.name);
    setNote(peer, '');
  } catch (err) {
    if (err.status === 401) onAuthLost();
    setNote(peer, `migrating ${d.name} failed: ${err.message}`);
    return;
  }
  refreshSoon(peer);
}

// target welcomes drops of domain cards (drop(e) when one comes).
function dropTarget(target, drop) {
  target.addEventListener('dragover', (e) => {
    if (!e.dataTransfer.types.includes(DRAG_TYPE)) return;
    e.preventDefault(); // a drop is welcome here
    e.dataTransfer.dropEffect = 'move';
    target.classList.add('drop-target');
  });
  target.addEventListener('dragleave', () => target.classList.remove('drop-target'));
  target.addEventListener('drop', drop);
}

// A peer's card dropped on this host's card: migrated here from that peer.
async function droppedHere(e) {
  e.currentTarget.classList.remove('drop-target');
  const d = dropped(e);
  const from = d && d.host ? peers.get(d.host) : null;
  if (from) await migrateFrom(from, d.name, selfName);
}

function makeSection(p) {
  const peer = { ...p, cards: new Map(), busy: false, again: false, events: null, retry: null, refreshTimer: null, note: '' };
  peer.status = el('span', { class: 'muted', 'data-field': 'host-status', role: 'status' }, 'asking...');
  peer.list = el('div', { class: 'peer-domains' });
  peer.root = el('section', { class: 'card host-section', 'data-host': p.name, 'aria-label': `Host ${p.name}` },
    el('header', {}, el('h2', {}, p.name), el('span', { class: 'muted' }, p.api), peer.status),
    peer.list);
  dropTarget(peer.root, (e) => droppedOnPeer(peer, e));
  return peer;
}

// A card (of this host; of a peer: host, its name) can be dragged onto another host.
export function draggable(root, name, host = '') {
  root.draggable = true;
  root.addEventListener('dragstart', (e) => {
    e.dataTransfer.setData(DRAG_TYPE, JSON.stringify({ name, host }));
    e.dataTransfer.effectAllowed = 'move';
  });
}

let hereWired = false;

export async function startHosts(authLost, migrated) {
  onAuthLost = authLost;
  onMigrated = migrated;
  stopped = false;
  const box = document.getElementById('hosts');
  if (!hereWired) {
    dropTarget(document.getElementById('host'), droppedHere);
    hereWired = true;
  }
  let list = [];
  try {
    [list, { peer_name: selfName = '' }] = await Promise.all([api('GET', '/api/v1/hosts'), api('GET', '/api/v1/host')]);
  } catch (e) {
    if (e.status === 401) onAuthLost();
    return;
  }
  for (const p of list) {
    const peer = makeSection(p);
    peers.set(p.name, peer);
    box.append(peer.root);
    connect(peer);
  }
}

export function stopHosts() {
  stopped = true;
  for (const p of peers.values()) {
    clearTimeout(p.retry);
    clearTimeout(p.refreshTimer);
    const ws = p.events;
    p.events = null;
    if (ws) ws.close();
    p.root.remove();
  }
  peers.clear();
}
