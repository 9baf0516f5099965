// dashboard.js - the host and its domains (peer hosts' sections: hosts.js): facts from
// GET /api/v1/host, the domains from
// GET /api/v1/domains, redrawn when the events WebSocket says something happened to one (no
// polling), graphs fed by its "stats" events, its supervisor's running job (progress, Cancel)
// from its "job" events, and the actions, each one API call (a domain's
// snapshots, CD-ROM media and disks: devices.js).

import { api, socket } from './api.js';
import { DomainGraphs } from './graphs.js';
import { openConsole } from './console.js';
import { openVnc } from './vnc.js';
import { openDevices, devicesEvent } from './devices.js';
import { cardAction } from './cardaction.js';
import { confirmAction } from './confirm.js';
import { migrateDomain } from './migrate.js';
import { draggable, startHosts, stopHosts } from './hosts.js';
import { el, mib, duration } from './format.js';

const cards = new Map(); // name -> {root, graphs, state, started, fields}
let events = null;
let stopped = true;
let refreshTimer = null;
let onAuthLost = () => {};

function $(id) {
  return document.getElementById(id);
}

// Runs an action of a card, showing its error in the card.
function act(card, what, fn) {
  return cardAction(card, what, fn, onAuthLost);
}

function confirmDestroy(name) {
  return confirmAction(`Destroy domain ${name}? Its QEMU is killed at once, as with kxl destroy; the guest is not shut down cleanly.`, `Destroy ${name}`);
}

function domPath(name, suffix = '') {
  return `/api/v1/domains/${encodeURIComponent(name)}${suffix}`;
}

function makeCard(d) {
  const name = d.name;
  const f = {
    state: el('span', { class: 'state', 'data-field': 'state' }),
    cpu: el('span', { 'data-field': 'cpu' }, '–'),
    mem: el('span', { 'data-field': 'mem' }),
    uptime: el('span', { 'data-field': 'uptime' }, '–'),
    vcpus: el('span', { 'data-field': 'vcpus' }),
  };
  const card = { name, fields: f, state: d.state, started: null };
  const btn = (label, action, cls) => el('button', { type: 'button', 'data-action': action, class: cls, onclick: () => actions[action](card) }, label);
  card.pauseBtn = btn('Pause', 'pause');
  card.displayBtn = btn('Display', 'display');
  card.displayBtn.hidden = true; // until the domain's config says it has vnc
  card.job = {
    text: el('span', { 'data-field': 'job-text' }),
    bar: el('progress', { max: '100' }),
    cancel: btn('Cancel', 'cancel-job'),
  };
  card.job.root = el('div', { class: 'job', 'data-field': 'job', role: 'status', hidden: true },
    card.job.text, card.job.bar, card.job.cancel);
  const graphs = el('div', { class: 'graphs' });
  card.error = el('p', { class: 'error', role: 'alert' });
  card.root = el('article', { class: 'card domain', 'data-domain': name },
    el('header', {}, el('h3', {}, name), f.state, el('span', { class: 'muted' }, `id ${d.domid}`)),
    el('dl', { class: 'facts' },
      el('dt', {}, 'CPU'), el('dd', {}, f.cpu),
      el('dt', {}, 'Memory'), el('dd', {}, f.mem),
      el('dt', {}, 'vCPUs'), el('dd', {}, f.vcpus),
      el('dt', {}, 'Uptime'), el('dd', {}, f.uptime)),
    el('div', { class: 'actions' },
      btn('Console', 'console'), card.displayBtn, btn('Devices', 'devices'), card.pauseBtn, btn('Shutdown', 'shutdown'),
      btn('Reboot', 'reboot'), btn('Migrate', 'migrate'), btn('Destroy', 'destroy', 'danger')),
    card.job.root, card.error, graphs);
  card.graphs = new DomainGraphs(graphs);
  draggable(card.root, name); // onto a peer's section: migrate there (hosts.js)
  return card;
}

const actions = {
  console: (c) => openConsole(c.name),
  display: (c) => openVnc(c.name),
  devices: (c) => openDevices(c.name, () => onAuthLost()),
  pause: (c) => act(c, c.state === 'paused' ? 'Unpause' : 'Pause', () => api('POST', domPath(c.name, c.state === 'paused' ? '/unpause' : '/pause'))),
  shutdown: (c) => act(c, 'Shutdown', () => api('POST', domPath(c.name, '/shutdown'), {})),
  reboot: (c) => act(c, 'Reboot', () => api('POST', domPath(c.name, '/reboot'), {})),
  'cancel-job': (c) => {
    c.job.cancel.disabled = true; // once: the job's end comes as an event
    return act(c, 'Cancel', () => api('POST', domPath(c.name, '/job/cancel')));
  },
  migrate: (c) => act(c, 'Migrate', () => migrateDomain(c.name)),
  destroy: async (c) => {
    if (await confirmDestroy(c.name)) await act(c, 'Destroy', () => api('DELETE', domPath(c.name)));
  },
};

function showState(card, d) {
  card.last = d;
  card.state = d.state;
  card.fields.state.textContent = d.state;
  card.fields.state.className = `state state-${d.state}`;
  card.fields.mem.textContent = `${d.memory_mib} MiB`;
  card.fields.vcpus.textContent = String(d.vcpus);
  card.pauseBtn.textContent = d.state === 'paused' ? 'Unpause' : 'Pause';
  card.pauseBtn.dataset.action = 'pause';
}

// A "job" event of the domain's supervisor (a save, dump, snapshot, migration): while it runs,
// its phase and progress (-1: not known) and a Cancel button; once it ended, how.
function showJob(card, j) {
  const job = card.job;
  const running = j.status === 'running';
  const known = typeof j.progress === 'number' && j.progress >= 0;
  job.root.hidden = false;
  job.root.dataset.status = j.status;
  job.root.dataset.kind = j.kind;
  job.root.dataset.progress = known ? String(j.progress) : '';
  let text = running ? `${j.kind}: ${j.cancelling ? 'cancelling' : j.phase}${known ? ` ${j.progress} %` : ''}` : `${j.kind} ${j.status}`;
  if (j.error) text += `: ${j.error}`;
  job.text.textContent = text;
  job.bar.hidden = !running;
  if (known) job.bar.value = j.progress;
  else job.bar.removeAttribute('value'); // an indeterminate bar
  job.cancel.hidden = !running;
  if (!running || !j.cancelling) job.cancel.disabled = !running;
}

function showSample(card, s) {
  card.started = s.started;
  card.fields.cpu.textContent = `${s.cpu_pct.toFixed(1)} %`;
  card.fields.mem.textContent = mib(s.mem_kib);
  tickUptime(card);
}

function tickUptime(card) {
  if (card.started) card.fields.uptime.textContent = duration(Date.now() / 1000 - card.started);
}

// Whether the domain has a graphical console (its config's vnc): the Display button.
async function loadDetail(card) {
  try {
    const d = await api('GET', domPath(card.name));
    card.displayBtn.hidden = !(d.config && d.config.gfx && d.config.gfx.vnc);
  } catch (e) {
    card.error.textContent = `details: ${e.message}`;
  }
}

async function loadHistory(card) {
  try {
    const h = await api('GET', domPath(card.name, '/history'));
    card.graphs.load(h.samples);
    if (h.samples.length) showSample(card, h.samples[h.samples.length - 1]);
  } catch (e) {
    card.error.textContent = `history: ${e.message}`;
  }
}

function showHost(host, doms) {
  const byState = {};
  for (const d of doms) byState[d.state] = (byState[d.state] || 0) + 1;
  const states = Object.entries(byState).map(([s, n]) => `${n} ${s}`).join(', ') || 'none';
  $('host-name').textContent = host.host;
  $('host').replaceChildren(
    el('dl', { class: 'facts' },
      el('dt', {}, 'CPUs'), el('dd', { 'data-field': 'cpus' }, String(host.nr_cpus)),
      el('dt', {}, 'Memory'), el('dd', { 'data-field': 'memory' }, `${host.total_memory - host.free_memory} MiB used, ${host.free_memory} MiB free of ${host.total_memory} MiB`),
      el('dt', {}, 'Accelerator'), el('dd', { 'data-field': 'accel' }, host.accelerator),
      el('dt', {}, 'Domains'), el('dd', { 'data-field': 'domains' }, states)));
}

// A card's graphs, history and details are loaded when it first comes on screen: with many
// domains, most cards are below the fold, and their 4 graphs and 2 requests each would hold
// up the page (bench/bench-webui.sh: 50 domains). The cards that come on screen together are
// measured together (one layout), then their graphs drawn one at a time while the page is
// idle, so that an event is shown at once, not after a screenful of graphs (150-260 ms of
// work at a scroll: the event -> page outlier of bench-webui.sh).
let observer = null;
const toDraw = [];
let drawing = null;
const DRAW_WAIT_MS = 500; // drawn by then, idle or not

function drawNext(deadline) {
  drawing = null;
  while (toDraw.length) {
    const card = toDraw[0];
    if (cards.get(card.name) !== card) {
      toDraw.shift();
    } else if (!card.graphs.drawStep()) {
      toDraw.shift();
      loadHistory(card);
      loadDetail(card);
    }
    if (deadline.didTimeout || deadline.timeRemaining() < 8) break;
  }
  if (toDraw.length) drawing = requestIdleCallback(drawNext, { timeout: DRAW_WAIT_MS });
}

function seenOnScreen() {
  if (!observer) {
    observer = new IntersectionObserver((entries) => {
      const seen = [];
      for (const e of entries) {
        const card = e.isIntersecting && cards.get(e.target.dataset.domain);
        if (!card || card.shown) continue;
        card.shown = true;
        observer.unobserve(e.target);
        seen.push(card);
      }
      for (const card of seen) card.graphs.measure();
      toDraw.push(...seen);
      if (toDraw.length && !drawing) drawing = requestIdleCallback(drawNext, { timeout: DRAW_WAIT_MS });
    }, { rootMargin: '200px' });
  }
  return observer;
}

// The domains as kxld has them now: cards come, go and change.
async function refresh() {
  let doms, host;
  try {
    [doms, host] = await Promise.all([api('GET', '/api/v1/domains'), api('GET', '/api/v1/host')]);
  } catch (e) {
    if (e.status === 401) onAuthLost();
    return;
  }
  showHost(host, doms);
  const seen = new Set();
  for (const d of doms) {
    seen.add(d.name);
    let card = cards.get(d.name);
    if (!card) {
      card = makeCard(d);
      cards.set(d.name, card);
      $('domains').append(card.root);
      seenOnScreen().observe(card.root);
    }
    showState(card, d);
  }
  for (const [name, card] of cards) {
    if (!seen.has(name)) {
      seenOnScreen().unobserve(card.root);
      card.graphs.destroy();
      card.root.remove();
      cards.delete(name);
    }
  }
  $('no-domains').hidden = cards.size > 0;
}

// Soon, once: several events of one change make one refresh.
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 30);
}

// The lifecycle events whose state the page knows without asking.
const shownAs = { paused: 'paused', unpaused: 'running' };

function connectEvents() {
  events = socket('/api/v1/events');
  events.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (ev.event === 'stats') {
      const card = cards.get(ev.domain);
      if (card) {
        // (a card not shown yet gets its points from the history when it is)
        if (card.shown) card.graphs.add(ev.data);
        showSample(card, ev.data);
      }
      return;
    }
    // pause and unpause show at once; the refresh below brings the rest
    const card = cards.get(ev.domain);
    if (card && shownAs[ev.event]) showState(card, { ...card.last, state: shownAs[ev.event] });
    devicesEvent(ev);
    if (ev.event === 'job' && ev.data) {
      const card = cards.get(ev.domain);
      if (card) showJob(card, ev.data);
      return; // a job changes no domain's state: nothing to reload
    }
    refreshSoon();
  };
  events.onclose = () => {
    events = null;
    if (!stopped) setTimeout(() => { if (!stopped) { connectEvents(); refresh(); } }, 1000);
  };
}

async function loadStartChoices() {
  const select = $('start-config');
  try {
    const configs = await api('GET', '/api/v1/configs');
    select.replaceChildren(...configs.map((c) => el('option', { value: c.config_file }, c.name)));
  } catch (e) {
    $('start-error').textContent = `configs: ${e.message}`;
  }
}

async function start(e) {
  e.preventDefault();
  const file = $('start-config').value;
  $('start-error').textContent = '';
  if (!file) return;
  try {
    await api('POST', '/api/v1/domains', { config_file: file });
    refreshSoon();
  } catch (err) {
    $('start-error').textContent = err.message;
  }
}

let ticker = null;
let wired = false;

// Soon, once: the domains as kxld has them (after a start from another view, say).
export function refreshDomains() {
  refreshSoon();
  loadStartChoices();
}

export function startDashboard(authLost) {
  onAuthLost = authLost;
  stopped = false;
  if (!wired) {
    $('start-form').addEventListener('submit', start);
    window.addEventListener('resize', () => { for (const c of cards.values()) c.graphs.resize(); });
    wired = true;
  }
  connectEvents();
  refresh();
  loadStartChoices();
  startHosts(authLost, refreshSoon);
  ticker = setInterval(() => { for (const c of cards.values()) tickUptime(c); }, 1000);
}

export function stopDashboard() {
  stopped = true;
  clearInterval(ticker);
  if (events) events.close();
  stopHosts();
  for (const c of cards.values()) { c.graphs.destroy(); c.root.remove(); }
  cards.clear();
  if (observer) observer.disconnect();
  observer = null;
  if (drawing) cancelIdleCallback(drawing);
  drawing = null;
  toDraw.length = 0;
}
