// graphs.js - a domain's four graphs (CPU, memory, network, disk) drawn by uPlot from kxld's
// history (GET /api/v1/domains/{name}/history) and then its "stats" events. Samples carry
// byte counters; the network and disk graphs show their rates between samples.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el, rate } from './format.js';

const KEEP = 720; // an hour of 5 s samples, as kxld keeps
const SPAN_MIN = 60; // the x axis shows a minute at least

const kinds = [
  { key: 'cpu', title: 'CPU %', series: ['CPU %'], fmt: (v) => `${v.toFixed(1)} %` },
  { key: 'mem', title: 'Memory (MiB)', series: ['MiB'], fmt: (v) => `${Math.round(v)} MiB` },
  { key: 'net', title: 'Network', series: ['rx', 'tx'], fmt: rate },
  { key: 'disk', title: 'Disk', series: ['read', 'write'], fmt: rate },
];

const colors = ['#2f80ed', '#eb5757'];

// An x tick as a clock time (uPlot's own labels keep only the seconds within a minute: ":30").
function clock(t) {
  const d = new Date(t * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function textColor() {
  return getComputedStyle(document.body).color;
}

export class DomainGraphs {
  constructor(parent) {
    this.last = null; // the previous sample (for rates)
    this.data = {}; // key -> [times, series...]
    this.plots = {};
    this.boxes = {};
    for (const k of kinds) {
      this.data[k.key] = [[], ...k.series.map(() => [])];
      const box = el('figure', { class: 'graph', 'data-graph': k.key, 'data-points': '0' },
        el('figcaption', {}, k.title));
      parent.append(box);
      this.boxes[k.key] = box;
    }
  }

  // The x axis of all four graphs: the domain's samples (the CPU graph has them all), at least
  // a minute ending at the newest. Left to uPlot, the network and disk graphs (no point before
  // a second sample) and any one-point graph get a range of years around their one time, or
  // around the epoch, and label it "1970" or "2027"; and the four would not line up.
  xRange() {
    const t = this.data.cpu[0];
    const hi = t.length ? t[t.length - 1] : Date.now() / 1000;
    return [Math.min(t.length ? t[0] : hi, hi - SPAN_MIN), hi];
  }

  // The boxes' widths, read at once: reading one after a graph was added would lay the page
  // out again for each graph (with 50 cards, the long task that held up events).
  measure() {
    this.widths = Object.fromEntries(kinds.map((k) => [k.key, this.boxes[k.key].clientWidth]));
  }

  // Draws all four once the boxes are in the document (uPlot measures nothing, but the width
  // does).
  draw() {
    while (this.drawStep());
  }

  // Draws the next graph not drawn yet: whether one is left (a page with many cards draws
  // a graph a task, so that an event waits for one graph at most).
  drawStep() {
    const k = kinds.find((kind) => !this.plots[kind.key]);
    if (!k) return false;
    const color = textColor();
    if (!this.widths) this.measure();
    {
      const box = this.boxes[k.key];
      const opts = {
        width: Math.max(200, this.widths[k.key] - 8),
        height: 110,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: true, range: () => this.xRange() },
          // rates from 0; a graph without points yet keeps its axis (and its width, so that
          // the four x axes line up)
          ...(k.key === 'net' || k.key === 'disk' ? { y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 100] } } : {}),
        },
        // the range drawn, for a test to read (the labels are pixels on a canvas)
        hooks: { setScale: [(u, key) => { if (key === 'x') Object.assign(box.dataset, { xmin: u.scales.x.min, xmax: u.scales.x.max }); }] },
        axes: [
          { stroke: color, grid: { show: false }, size: 24, space: 72, values: (u, ts) => ts.map(clock) },
          { stroke: color, size: 66, values: (u, vals) => vals.map((v) => (k.key === 'cpu' || k.key === 'mem' ? v : rate(v))) },
        ],
        series: [{}, ...k.series.map((label, i) => ({ label, stroke: colors[i], width: 1.5, points: { show: false } }))],
      };
      this.plots[k.key] = new uPlot(opts, this.data[k.key], box);
    }
    return kinds.some((kind) => !this.plots[kind.key]);
  }

  resize() {
    for (const k of kinds) {
      const p = this.plots[k.key];
      if (p) p.setSize({ width: Math.max(200, this.boxes[k.key].clientWidth - 8), height: 110 });
    }
  }

  push(key, t, values) {
    const d = this.data[key];
    d[0].push(t);
    values.forEach((v, i) => d[i + 1].push(v));
    if (d[0].length > KEEP) d.forEach((a) => a.shift());
    this.boxes[key].dataset.points = String(d[0].length);
  }

  // One sample: its points (rates need a previous sample of the same counters).
  add(s, redraw = true) {
    this.push('cpu', s.time, [s.cpu_pct]);
    this.push('mem', s.time, [s.mem_kib / 1024]);
    const p = this.last;
    if (p && s.time > p.time) {
      const dt = s.time - p.time;
      const r = (a, b) => Math.max(0, (a - b) / dt);
      this.push('net', s.time, [r(s.net_rx_bytes, p.net_rx_bytes), r(s.net_tx_bytes, p.net_tx_bytes)]);
      this.push('disk', s.time, [r(s.disk_rd_bytes, p.disk_rd_bytes), r(s.disk_wr_bytes, p.disk_wr_bytes)]);
    }
    this.last = s;
    if (redraw) this.update();
  }

  load(samples) {
    for (const s of samples) this.add(s, false);
    this.update();
  }

  update() {
    for (const k of kinds) if (this.plots[k.key]) this.plots[k.key].setData(this.data[k.key]);
  }

  destroy() {
    for (const k of kinds) if (this.plots[k.key]) this.plots[k.key].destroy();
  }
}
