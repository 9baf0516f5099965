// image.js - the New image form: kxl create-image's options (each field's data-opt is the
// option's name), POST /api/v1/images, which is a job of the API: each of its steps ("[2/6]
// ...") shown as it comes (GET /api/v1/jobs/{id}/wait?after=N answers at the job's next step
// or its end: no timer), Cancel while it runs (POST /api/v1/jobs/{id}/cancel: the run undoes
// itself), then the Installation Summary and, when asked, the new config started by POST
// /api/v1/domains.

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

// Follows the job to its end, each step as kxld has it: its result, or throws its error.
async function follow(job) {
  $('image-form').dataset.job = String(job.id);
  while (job.state === 'running') {
    showStep(job.progress);
    job = await api('GET', `/api/v1/jobs/${job.id}/wait?after=${job.updates}&timeout=60`);
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
  $('image-cancel').disabled = false;
  delete form.dataset.cancelled;
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
    form.dataset.state = form.dataset.cancelled ? 'cancelled' : 'failed';
  } finally {
    $('image-submit').disabled = false;
  }
}

// Asks kxld to cancel the running job; follow() then sees it fail as cancelled.
async function cancel() {
  const form = $('image-form');
  if (form.dataset.state !== 'running' || !form.dataset.job) return;
  $('image-cancel').disabled = true;
  try {
    await api('POST', `/api/v1/jobs/${form.dataset.job}/cancel`);
    form.dataset.cancelled = '1';
    $('image-step').textContent = 'Cancelling…';
  } catch (err) {
    $('image-error').textContent = err.message;   // it ended meanwhile: follow() says how
  }
}

let wired = false;

export function wireImage(created) {
  onCreated = created;
  if (wired) return;
  wired = true;
  $('image-form').addEventListener('submit', submit);
  $('image-cancel').addEventListener('click', cancel);
}
