// main.js - the page: the login form until kxld knows the browser (GET /api/v1/session, a
// session cookie), then the dashboard.

import './style.css';
import { api, setCsrf } from './api.js';
import { startDashboard, stopDashboard, refreshDomains } from './dashboard.js';
import { loadConfigs, setOnStarted } from './configs.js';
import { wireCreate } from './create.js';
import { wireImage } from './image.js';
import { onShow, showView, wireViews } from './views.js';

function $(id) {
  return document.getElementById(id);
}

function showLogin(message = '') {
  stopDashboard();
  setCsrf(null);
  $('dashboard').hidden = true;
  $('logout').hidden = true;
  $('who').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('login-user').focus();
}

function showDashboard(session) {
  setCsrf(session.csrf_token || null);
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('logout').hidden = session.auth !== 'cookie';
  $('who').textContent = `logged in (${session.auth === 'cookie' ? session.user : session.auth})`;
  startDashboard(() => showLogin('Your session has ended: log in again.'));
  wireViews();
  onShow('configs', loadConfigs);
  setOnStarted(refreshDomains);
  wireCreate(() => { refreshDomains(); loadConfigs(); });
  wireImage(() => { refreshDomains(); loadConfigs(); });
  showView('domains');
}

async function login(e) {
  e.preventDefault();
  try {
    const user = $('login-user').value.trim();
    const secret = $('login-token').value;
    const session = await api('POST', '/api/v1/login', user ? { user, password: secret } : { token: secret });
    $('login-token').value = '';
    showDashboard(session);
  } catch (err) {
    $('login-error').textContent = `Login refused: ${err.message}`;
  }
}

async function logout() {
  try {
    await api('POST', '/api/v1/logout');
  } finally {
    showLogin();
  }
}

async function init() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  try {
    showDashboard(await api('GET', '/api/v1/session'));
  } catch (e) {
    showLogin(e.status === 401 ? '' : e.message);
  }
}

init();
