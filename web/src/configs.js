// configs.js - the config files of etc/kxl/ (GET /api/v1/configs): edit one, start a domain
// from it, and whether it starts at host boot (GET /api/v1/autostart; PUT and DELETE
// /api/v1/domains/{name}/autostart) in which order (its startup key's order=N, written with
// PUT /api/v1/configs/{file}).

import { api } from './api.js';
import { startupOrder, withStartupOrder } from './cfgtext.js';
import { openEditor } from './editor.js';
import { el } from './format.js';

let onStarted = () => {};

function $(id) {
  return document.getElementById(id);
}

function configPath(file) {
  return `/api/v1/configs/${encodeURIComponent(file)}`;
}

// name -> the autostart plan's entry ({name, config, order, ...}) of each domain that starts.
async function autostartByName() {
  const plan = await api('GET', '/api/v1/autostart');
  const by = new Map();
  for (const b of plan.batches) for (const d of b.domains) by.set(d.name, d);
  return by;
}

async function act(row, fn) {
  row.error.textContent = '';
  try {
    await fn();
  } catch (e) {
    row.error.textContent = e.message;
  }
}

async function setAutostart(c, on) {
  const dom = `/api/v1/domains/${encodeURIComponent(c.name)}/autostart`;
  if (on) await api('PUT', dom, { config_file: c.config_file });
  else await api('DELETE', dom);
}

async function setOrder(c, value) {
  const order = value === '' ? null : Number(value);
  const cur = await api('GET', configPath(`${c.name}.cfg`));
  await api('PUT', configPath(`${c.name}.cfg`), { text: withStartupOrder(cur.text, order) });
}

async function startFrom(c) {
  await api('POST', '/api/v1/domains', { config_file: c.config_file });
  onStarted();
}

function makeRow(c, auto, text) {
  const file = `${c.name}.cfg`;
  const row = { error: el('span', { class: 'error', role: 'alert' }) };
  const box = el('input', { type: 'checkbox', 'data-field': 'autostart', 'aria-label': `Start ${c.name} at host boot` });
  box.checked = Boolean(auto);
  box.addEventListener('change', () => act(row, async () => {
    try {
      await setAutostart(c, box.checked);
    } catch (e) {
      box.checked = !box.checked;
      throw e;
    }
    await loadConfigs();
  }));
  const order = el('input', { type: 'number', min: '0', max: '9999', inputmode: 'numeric', 'data-field': 'order', 'aria-label': `Boot order of ${c.name}` });
  const known = auto ? auto.order : startupOrder(text || '');
  order.value = known === null || known === undefined ? '' : String(known);
  order.addEventListener('change', () => act(row, async () => { await setOrder(c, order.value); await loadConfigs(); }));
  const btn = (label, action, fn) => el('button', { type: 'button', 'data-action': action, onclick: () => act(row, fn) }, label);
  return el('tr', { 'data-config': file },
    el('td', {}, el('span', { class: 'file' }, file)),
    el('td', {}, box),
    el('td', {}, order),
    el('td', { class: 'actions' },
      btn('Edit', 'edit', () => openEditor(file, loadConfigs)),
      btn('Start', 'start', () => startFrom(c)),
      row.error));
}

export async function loadConfigs() {
  $('configs-error').textContent = '';
  try {
    const [configs, auto] = await Promise.all([api('GET', '/api/v1/configs'), autostartByName()]);
    // the order of a file that does not start at boot comes from its own text
    const texts = await Promise.all(configs.map((c) => (auto.has(c.name) ? null
      : api('GET', configPath(`${c.name}.cfg`)).then((r) => r.text, () => ''))));
    $('configs').tBodies[0].replaceChildren(...configs.map((c, i) => makeRow(c, auto.get(c.name), texts[i])));
    $('configs').dataset.loaded = String(Date.now());
  } catch (e) {
    $('configs-error').textContent = `configs: ${e.message}`;
  }
}

export function setOnStarted(fn) {
  onStarted = fn;
}
