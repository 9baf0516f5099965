// create.js - the New domain form: its fields become an xl.cfg (cfgtext.js, shown as it is
// typed), written as etc/kxl/NAME.cfg by PUT /api/v1/configs/{file} (an existing file is not
// replaced), then, when asked, started by POST /api/v1/domains.

import { api } from './api.js';
import { configText } from './cfgtext.js';

let onCreated = () => {};

function $(id) {
  return document.getElementById(id);
}

function values() {
  const v = (id) => $(id).value.trim();
  return {
    name: v('create-name'), memory: v('create-memory'), vcpus: v('create-vcpus'),
    disks: $('create-disks').value, networks: $('create-networks').value,
    kernel: v('create-kernel'), ramdisk: v('create-ramdisk'), extra: v('create-extra'),
    vnc: $('create-vnc').checked,
  };
}

function preview() {
  $('create-preview').textContent = configText(values());
}

async function submit(e) {
  e.preventDefault();
  $('create-error').textContent = '';
  $('create-done').textContent = '';
  const f = values();
  const file = `${f.name}.cfg`;
  try {
    const r = await api('PUT', `/api/v1/configs/${encodeURIComponent(file)}`, { text: configText(f), replace: false });
    $('create-done').textContent = `Wrote ${r.config_file}.`;
    if ($('create-start').checked) {
      await api('POST', '/api/v1/domains', { config_file: r.config_file });
      $('create-done').textContent = `Wrote ${r.config_file} and started ${r.name}.`;
    }
    onCreated(r);
  } catch (err) {
    $('create-error').textContent = err.message;
  }
}

let wired = false;

export function wireCreate(created) {
  onCreated = created;
  if (wired) return;
  wired = true;
  $('create-form').addEventListener('submit', submit);
  $('create-form').addEventListener('input', preview);
  preview();
}
