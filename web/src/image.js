// image.js - the New image form: kxl create-image's options (each field's data-opt is the
// option's name), POST /api/v1/images, which is a job of the API: its step ("[2/6] ...") read
// once a second while it runs, then the Installation Summary and, when asked, the new config
// started by POST /api/v1/domains.

import { api, request, ApiError } from './api.js';

let onCreated = () => {};

function $(id) {
  return document.getElementById(id);
}

// The filled fields as the request's members: a ticked box is a flag, an empty field is left
// to create-image's default.
function options() {
  const body = {};
  for (const f of $('image-form').querySelectorAll('[data-opt]')) {
    if (f.type === 'checkbox') {
      if (f.checked) body[f.dataset.opt] = true;
    } else if (f.value.trim() !== '') {
      body[f.dataset.opt] = f.value.trim();
    }
  }
  if (body.password) delete body.genpass; // a password given is the one wanted
  return body;
}

function showStep(p) {
  const box = $('image-job');
  box.hidden = false;
  if (!p) {
    $('image-step').textContent = 'Starting…';
    $('image-progress').removeAttribute('value');
    return;
  }
  $('image-step').textContent = `[${p.step}/${p.total}] ${p.what}`;
  $('image-progress').max = p.total;
  $('image-progress').value = p.step - 1; // the step named is under way
  box.dataset.step = String(p.step);
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

// Follows the job to its end: its result, or throws its error.
async function follow(job) {
  $('image-form').dataset.job = String(job.id);
  while (job.state === 'running') {
    showStep(job.progress);
    await sleep(1000);
    job = await api('GET', `/api/v1/jobs/${job.id}`);
  }
  if (job.state === 'failed') throw new ApiError(job.status, { error: job.error });
  return job.result;
}

async function submit(e) {
  e.preventDefault();
  const form = $('image-form');
  $('image-error').textContent = '';
  $('image-summary').hidden = true;
  $('image-submit').disabled = true;
  form.dataset.state = 'running';
  try {
    const r = await request('POST', '/api/v1/images', options());
    const made = await follow(r.data);
    $('image-job').hidden = true;
    $('image-summary').textContent = made.summary;
    $('image-summary').hidden = false;
    form.dataset.config = made.config_file;
    if ($('image-start').checked) {
      await api('POST', '/api/v1/domains', { config_file: made.config_file });
      form.dataset.started = made.name;
    }
    form.dataset.state = 'done';
    onCreated(made);
  } catch (err) {
    $('image-job').hidden = true;
    $('image-error').textContent = err.message;
    form.dataset.state = 'failed';
  } finally {
    $('image-submit').disabled = false;
  }
}

let wired = false;

export function wireImage(created) {
  onCreated = created;
  if (wired) return;
  wired = true;
  $('image-form').addEventListener('submit', submit);
}
