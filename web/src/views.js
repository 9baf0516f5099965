// views.js - the dashboard's tabs (Domains, Configs, New domain, New image): one view shown at a time,
// each a button that works with the keyboard; a view may ask to be told when it is shown.

const shown = new Map(); // view name -> function called when it is shown

function $(id) {
  return document.getElementById(id);
}

export function onShow(view, fn) {
  shown.set(view, fn);
}

export function showView(view) {
  for (const b of document.querySelectorAll('nav.tabs [data-view]')) {
    if (b.dataset.view === view) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  for (const v of document.querySelectorAll('[data-view-of]')) v.hidden = v.dataset.viewOf !== view;
  const fn = shown.get(view);
  if (fn) fn();
}

let wired = false;

export function wireViews() {
  if (wired) return;
  wired = true;
  for (const b of document.querySelectorAll('nav.tabs [data-view]')) {
    b.addEventListener('click', () => showView(b.dataset.view));
  }
  $('dashboard').dataset.views = 'ready';
}
