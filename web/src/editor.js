// editor.js - a config file of etc/kxl/ edited in the page: GET /api/v1/configs/{file}, checked
// as the user types by POST /api/v1/configs/{file}/validate (the checker of `kxl create -n`),
// written by PUT (kxld keeps the old file when the checker refuses the text). An error is shown
// beside the line it names, and below the text.

import { api } from './api.js';
import { errorLine } from './cfgtext.js';

let file = null;
let checkTimer = null;
let onSaved = () => {};

function $(id) {
  return document.getElementById(id);
}

function path(suffix = '') {
  return `/api/v1/configs/${encodeURIComponent(file)}${suffix}`;
}

function drawGutter() {
  const n = $('editor-text').value.split('\n').length;
  const bad = Number($('editor-mark').dataset.line || 0);
  $('editor-gutter').replaceChildren(...Array.from({ length: n }, (_, i) => {
    const d = document.createElement('div');
    d.textContent = String(i + 1);
    if (i + 1 === bad) d.className = 'bad';
    return d;
  }));
  syncScroll();
}

function syncScroll() {
  const t = $('editor-text');
  $('editor-gutter').scrollTop = t.scrollTop;
  placeMark();
}

// The error's band over its line, the message at the line's right end.
function placeMark() {
  const mark = $('editor-mark');
  const line = Number(mark.dataset.line || 0);
  if (!line) return;
  const t = $('editor-text');
  const lh = parseFloat(getComputedStyle(t).lineHeight);
  const top = parseFloat(getComputedStyle(t).paddingTop) + (line - 1) * lh - t.scrollTop;
  mark.style.top = `${top}px`;
  mark.style.height = `${lh}px`;
  mark.hidden = top < 0 || top > t.clientHeight - lh / 2;
}

function showError(message) {
  const line = errorLine(message);
  const mark = $('editor-mark');
  $('editor-error').textContent = message ? (line ? `Line ${line}: ${message}` : message) : '';
  mark.dataset.line = message && line ? String(line) : '';
  mark.textContent = message && line ? `◀ ${message.replace(/^.*?\.cfg:\d+:\s*/, '')}` : '';
  mark.hidden = !(message && line);
  $('editor-text').setAttribute('aria-invalid', message ? 'true' : 'false');
  drawGutter();
}

async function check() {
  clearTimeout(checkTimer);
  const r = await api('POST', path('/validate'), { text: $('editor-text').value });
  showError(r.valid ? '' : r.message);
  $('editor-status').textContent = r.valid ? `valid: domain ${r.name}` : 'not valid';
  return r.valid;
}

function checkSoon() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => check().catch((e) => showError(e.message)), 500);
  drawGutter();
}

async function save(e) {
  e.preventDefault();
  clearTimeout(checkTimer);
  try {
    const r = await api('PUT', path(), { text: $('editor-text').value });
    showError('');
    $('editor-status').textContent = `saved: domain ${r.name}`;
    onSaved();
  } catch (err) {
    showError(err.message);
    $('editor-status').textContent = 'not saved: the file is as it was';
  }
}

function close() {
  clearTimeout(checkTimer);
  file = null;
  $('editor').hidden = true;
}

let wired = false;

export async function openEditor(name, saved = () => {}) {
  if (!wired) {
    wired = true;
    $('editor').addEventListener('submit', save);
    $('editor-text').addEventListener('input', checkSoon);
    $('editor-text').addEventListener('scroll', syncScroll);
    $('editor-check').addEventListener('click', () => check().catch((e) => showError(e.message)));
    $('editor-close').addEventListener('click', close);
  }
  file = name;
  onSaved = saved;
  $('editor-file').textContent = name;
  $('editor-status').textContent = 'loading';
  const c = await api('GET', path());
  $('editor-text').value = c.text;
  $('editor').hidden = false;
  $('editor').dataset.file = name;
  showError('');
  $('editor-status').textContent = c.config_file;
  $('editor-text').focus();
}
