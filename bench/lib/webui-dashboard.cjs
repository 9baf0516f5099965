// webui-dashboard.cjs - bench/bench-webui.sh's browser part (not a test): Debian's chromium
// (playwright-core) on kxld's web UI with N domains. Environment: tests/browser/lib.cjs's
// (KXL_URL, KXL_TOKEN, KXL_SHOTS), and
//   KXL_N       the number of domains the dashboard must show
//   KXL_ROUNDS  pause/unpause rounds for the state-change latency (default 20)
// Prints one JSON line:
//   interactive_ms  page load (navigation start) to the first frame after all N cards show
//                   their state and the host's facts, the main thread free (median of 5 loads)
//   longtask_ms     the long tasks (> 50 ms) of the last load, summed
//   event_to_page_ms the supervisor's "paused"/"unpaused" event (its time: when it read
//                   QEMU's STOP/RESUME on QMP) to the card's state changed in the page
//   event_to_socket_ms  ...of which from the event to its arrival on a WebSocket in the page
//                   (the supervisor, kxld's hub, TLS; the page's other socket is as near)
//   socket_to_card_ms   ...and from there to the card's change (the page's main thread)
'use strict';

const { check, logIn, run } = require('../../tests/browser/lib.cjs');

const n = Number(process.env.KXL_N);
const rounds = Number(process.env.KXL_ROUNDS || 20);

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

// One load of the page (logged in: its cookie): ms to interactive.
async function load(page) {
  await page.reload();
  return page.evaluate((want) => new Promise((resolve) => {
    const ready = () => document.querySelectorAll('[data-domain] [data-field=state].state-paused, [data-domain] [data-field=state].state-running').length >= want
      && document.querySelector('#host [data-field=cpus]');
    const done = () => requestAnimationFrame(() => setTimeout(() => resolve({ ms: performance.now(), long: window.kxlLong }), 0));
    if (ready()) { done(); return; }
    const mo = new MutationObserver(() => { if (ready()) { mo.disconnect(); done(); } });
    mo.observe(document.body, { childList: true, subtree: true, characterData: true, attributes: true });
  }), n);
}

// One state change: the page's own events WebSocket tells the supervisor's time of the event;
// a MutationObserver the moment the card shows the new state.
async function stateChange(page, name, action, want) {
  const watch = page.evaluate(([d, w]) => new Promise((resolve) => {
    const ws = new WebSocket(`wss://${location.host}/api/v1/events?domain=${encodeURIComponent(d)}`);
    let evTime = null;
    let arrived = null;
    let shown = null;
    const t0 = performance.now();
    const finish = () => {
      if (evTime === null || shown === null) return;
      ws.close();
      // the main thread's long tasks (> 50 ms) from the watcher's start to the card's change
      const long = window.kxlLongTasks.filter(([s, d]) => s + d >= t0).map(([, d]) => Math.round(d));
      resolve({ total: shown - evTime * 1000, socket: arrived - evTime * 1000, card: shown - arrived, long });
    };
    ws.onmessage = (m) => { const ev = JSON.parse(m.data); if (ev.event === (w === 'paused' ? 'paused' : 'unpaused')) { arrived = Date.now(); evTime = ev.time; finish(); } };
    const f = document.querySelector(`[data-domain="${d}"] [data-field=state]`);
    const mo = new MutationObserver(() => { if (f.textContent === w) { shown = Date.now(); mo.disconnect(); finish(); } });
    mo.observe(f, { childList: true, characterData: true, subtree: true });
  }), [name, want]);
  // the watcher's socket first, then the change (the API call from the page, with its CSRF)
  await page.waitForTimeout(300);
  await page.locator(`[data-domain="${name}"] [data-action=pause]`).click();
  return watch;
}

run('bench', async ({ page }, result, step) => {
  step('log in');
  await logIn(page);
  step('loads');
  await page.addInitScript(() => {
    window.kxlLong = 0;
    window.kxlLongTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) { window.kxlLong += e.duration; window.kxlLongTasks.push([e.startTime, e.duration]); } })
      .observe({ type: 'longtask', buffered: true });
  });
  const loads = [];
  for (let i = 0; i < 5; i++) loads.push(await load(page));
  result.interactive_ms = loads.map((l) => Math.round(l.ms));
  result.interactive_median_ms = median(result.interactive_ms);
  result.longtask_ms = Math.round(loads[loads.length - 1].long);
  step('state changes');
  const names = await page.evaluate(() => [...document.querySelectorAll('[data-domain]')].map((e) => e.dataset.domain));
  check(names.length >= n, `${names.length} cards`);
  const lat = [];
  for (let i = 0; i < rounds; i++) {
    const d = names[i % names.length];
    const now = await page.locator(`[data-domain="${d}"] [data-field=state]`).innerText();
    lat.push(await stateChange(page, d, 'pause', now === 'paused' ? 'running' : 'paused'));
  }
  const total = lat.map((x) => x.total);
  result.event_to_page_ms = total.map((x) => Math.round(x));
  result.event_to_socket_ms = lat.map((x) => Math.round(x.socket));
  result.socket_to_card_ms = lat.map((x) => Math.round(x.card));
  result.long_tasks_ms = lat.map((x) => x.long);
  result.event_to_page_median_ms = median(total);
  result.event_to_page_max_ms = Math.max(...total);
});
