// hosts.js - several hosts in one view: each peer kxld of kxld.conf's api_peers
// (GET /api/v1/hosts) is a section under this host's domains. Its domains are read through this
// kxld's relay (GET /api/v1/hosts/NAME/domains) once its events WebSocket, relayed too
// (GET /api/v1/hosts/NAME/events), is open, and again only when an event says something
// changed (no polling: a pause on the peer shows here within a second); its actions are the
// same API calls through the relay, and its console opens through the relayed console
// WebSocket. A peer that does not answer shows as unreachable, why, and is asked again every
// few seconds until it does; the rest of the page goes on. A card of this host dragged onto a
// peer's section is migrated there after the Migrate dialog's confirmation (the keyboard's way
// is the card's Migrate button).

import { api, socket } from './api.js';
import { cardAction } from './cardaction.js';
import { confirmAction } from './confirm.js';
import { openConsole } from './console.js';
import { migrateDomain } from './migrate.js';
import { el } from './format.js';

export const PEER_RETRY_MS = 3000; // an unreachable peer is asked again after this long
const DRAG_TYPE = 'application/x-kxl-domain';

// name -> {name, api, root, status, list, cards: Map, events: WebSocket, retry, refreshTimer}
const peers = new Map();
let stopped = true;
let onAuthLost = () => {};
let onMigrated = () => {};

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
  card.root = el('article', { class: 'card peer-domain', 'data-host-domain': d.name },
    el('header', {}, el('h3', {}, d.name), card.stateEl, card.facts),
    el('div', { class: 'actions' },
      btn('Console', 'console', () => openConsole(card.name, peer.name)),
      card.pauseBtn,
      btn('Shutdown', 'shutdown', () => act(peer, card, 'Shutdown', () => api('POST', domPath(peer.name, card.name, '/shutdown'), {}))),
      btn('Reboot', 'reboot', () => act(peer, card, 'Reboot', () => api('POST', domPath(peer.name, card.name, '/reboot'), {}))),
      btn('Destroy', 'destroy', async () => {
        if (await confirmAction(`Destroy domain ${card.name} on ${peer.name}? Its QEMU is killed at once, as with kxl destroy.`, `Destroy ${card.name}`)) {
          act(peer, card, 'Destroy', () => api('DELETE', domPath(peer.name, card.name)));
        }
      }, 'danger')),
    card.error);
  return card;
}

function showCard(card, d) {
  card.last = d;
  card.state = d.state;
  card.stateEl.textContent = d.state;
  card.stateEl.className = `state state-${d.state}`;
  card.facts.textContent = `id ${d.domid}, ${d.memory_mib} MiB, ${d.vcpus} vCPU${d.vcpus === 1 ? '' : 's'}`;
  card.pauseBtn.textContent = d.state === 'paused' ? 'Unpause' : 'Pause';
}

function showDomains(peer, doms) {
  peer.root.dataset.reachable = 'yes';
  peer.status.textContent = `${doms.length} domain${doms.length === 1 ? '' : 's'}`;
  const seen = new Set();
  for (const d of doms) {
    seen.add(d.name);
    let card = peer.cards.get(d.name);
    if (!card) {
      card = makeCard(peer, d);
      peer.cards.set(d.name, card);
      peer.list.append(card.root);
    }
    showCard(card, d);
  }
  for (const [name, card] of peer.cards) {
    if (!seen.has(name)) {
      card.root.remove();
      peer.cards.delete(name);
    }
  }
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

// A card of this host dropped here: the Migrate dialog, filled in with this peer, confirms.
async function dropped(peer, e) {
  e.preventDefault();
  peer.root.classList.remove('drop-target');
  const name = e.dataTransfer.getData(DRAG_TYPE);
  if (!name) return;
  peer.status.textContent = `migrating ${name} here...`;
  try {
    if (await migrateDomain(name, peer.name)) onMigrated(name);
  } catch (err) {
    if (err.status === 401) onAuthLost();
    peer.status.textContent = `migrating ${name}: ${err.message}`;
    return;
  }
  refreshSoon(peer);
}

function makeSection(p) {
  const peer = { ...p, cards: new Map(), busy: false, again: false, events: null, retry: null, refreshTimer: null };
  peer.status = el('span', { class: 'muted', 'data-field': 'host-status', role: 'status' }, 'asking...');
  peer.list = el('div', { class: 'peer-domains' });
  peer.root = el('section', { class: 'card host-section', 'data-host': p.name, 'aria-label': `Host ${p.name}` },
    el('header', {}, el('h2', {}, p.name), el('span', { class: 'muted' }, p.api), peer.status),
    peer.list);
  peer.root.addEventListener('dragover', (e) => {
    if (!e.dataTransfer.types.includes(DRAG_TYPE)) return;
    e.preventDefault(); // a drop is welcome here
    e.dataTransfer.dropEffect = 'move';
    peer.root.classList.add('drop-target');
  });
  peer.root.addEventListener('dragleave', () => peer.root.classList.remove('drop-target'));
  peer.root.addEventListener('drop', (e) => dropped(peer, e));
  return peer;
}

// A card of this host can be dragged onto a peer's section.
export function draggable(root, name) {
  root.draggable = true;
  root.addEventListener('dragstart', (e) => {
    e.dataTransfer.setData(DRAG_TYPE, name);
    e.dataTransfer.effectAllowed = 'move';
  });
}

export async function startHosts(authLost, migrated) {
  onAuthLost = authLost;
  onMigrated = migrated;
  stopped = false;
  const box = document.getElementById('hosts');
  let list = [];
  try {
    list = await api('GET', '/api/v1/hosts');
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
