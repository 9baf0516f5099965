// console.js - a domain's serial console in xterm.js over kxld's console WebSocket
// (GET /api/v1/domains/{name}/console; a peer host's domain: GET
// /api/v1/hosts/{host}/domains/{name}/console, relayed by this kxld): the supervisor's
// scrollback first, then the guest's output; what is typed goes to the guest. The terminal
// fits its window (FitAddon).

import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { socket } from './api.js';

let current = null;

function close() {
  if (!current) return;
  current.ws.close();
  current.term.dispose();
  window.removeEventListener('resize', current.onResize);
  current = null;
  document.getElementById('console').close();
}

// The console of domain name, on peer host (a name of GET /api/v1/hosts) or, without one, here.
export function openConsole(name, host = null) {
  close();
  const dialog = document.getElementById('console');
  const status = document.getElementById('console-status');
  document.getElementById('console-title').textContent = host ? `Console of ${name} on ${host}` : `Console of ${name}`;
  document.getElementById('console-close').onclick = close;
  dialog.onclose = close;
  dialog.showModal();
  const box = document.getElementById('terminal');
  box.replaceChildren();
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  const term = new Terminal({
    convertEol: false,
    scrollback: 5000,
    fontSize: 14,
    theme: dark ? {} : { background: '#ffffff', foreground: '#1e1e1e', cursor: '#1e1e1e', selectionBackground: '#b3d4fc' },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(box);
  fit.fit();
  const dom = `/domains/${encodeURIComponent(name)}/console`;
  const ws = socket(host ? `/api/v1/hosts/${encodeURIComponent(host)}${dom}` : `/api/v1${dom}`);
  ws.binaryType = 'arraybuffer';
  status.textContent = 'connecting';
  ws.onopen = () => { status.textContent = 'connected'; term.focus(); };
  ws.onmessage = (m) => term.write(typeof m.data === 'string' ? m.data : new Uint8Array(m.data));
  ws.onclose = (e) => { status.textContent = `closed${e.reason ? `: ${e.reason}` : ''}`; };
  const enc = new TextEncoder();
  term.onData((d) => { if (ws.readyState === WebSocket.OPEN) ws.send(enc.encode(d)); });
  const onResize = () => fit.fit();
  window.addEventListener('resize', onResize);
  current = { ws, term, onResize };
  dialog.dataset.consoleOf = name;
  dialog.dataset.consoleHost = host || '';
}
