// vnc.js - a domain's graphical console: noVNC over kxld's VNC WebSocket
// (GET /api/v1/domains/{name}/vnc, authenticated as the console's; a peer host's domain:
// GET /api/v1/hosts/{host}/domains/{name}/vnc, relayed by this kxld). The screen scales into its
// window; a display with vncpasswd asks for the password here (VNC authentication, between
// noVNC and QEMU: kxld never sees it).

import RFB from '@novnc/novnc';

let current = null;

function $(id) {
  return document.getElementById(id);
}

function wsUrl(name, host) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const dom = `/domains/${encodeURIComponent(name)}/vnc`;
  const path = host ? `/api/v1/hosts/${encodeURIComponent(host)}${dom}` : `/api/v1${dom}`;
  return `${scheme}//${location.host}${path}`;
}

function close() {
  if (!current) return;
  const { rfb } = current;
  current = null;
  rfb.disconnect();
  $('vnc').close();
}

function askPassword(rfb) {
  const form = $('vnc-password-form');
  form.hidden = false;
  $('vnc-password').focus();
  form.onsubmit = (e) => {
    e.preventDefault();
    form.hidden = true;
    rfb.sendCredentials({ password: $('vnc-password').value });
    $('vnc-password').value = '';
  };
}

// The display of domain name, on peer host (a name of GET /api/v1/hosts) or, without one, here.
export function openVnc(name, host = null) {
  close();
  const dialog = $('vnc');
  const status = $('vnc-status');
  const screen = $('vnc-screen');
  $('vnc-title').textContent = host ? `Display of ${name} on ${host}` : `Display of ${name}`;
  $('vnc-password-form').hidden = true;
  screen.replaceChildren();
  dialog.dataset.vncOf = name;
  dialog.dataset.vncHost = host || '';
  delete dialog.dataset.connected;
  dialog.onclose = close;
  $('vnc-close').onclick = close;
  dialog.showModal();
  status.textContent = 'connecting';
  const rfb = new RFB(screen, wsUrl(name, host), { shared: true });
  rfb.scaleViewport = true;
  rfb.background = 'transparent';
  rfb.addEventListener('connect', () => {
    status.textContent = 'connected';
    dialog.dataset.connected = 'true';
    rfb.focus();
  });
  rfb.addEventListener('disconnect', (e) => {
    delete dialog.dataset.connected;
    status.textContent = e.detail.clean ? 'closed' : 'closed: the connection failed or the domain ended';
  });
  rfb.addEventListener('credentialsrequired', () => askPassword(rfb));
  rfb.addEventListener('desktopname', (e) => { $('vnc-title').textContent = e.detail.name; });
  $('vnc-cad').onclick = () => rfb.sendCtrlAltDel();
  current = { rfb };
}
