// webui.cjs - kxl's web UI in a real browser (Debian's chromium, headless, driven by
// playwright-core) against a real kxld with a real guest; run by tests/e2e/test_webui.py,
// which checks from outside what this did. Environment:
//   KXL_URL       https://127.0.0.1:PORT/ of kxld's TLS listener (a self-signed certificate)
//   KXL_TOKEN     an API token of its token file
//   KXL_DOMAIN    the domain to start from its config in etc/kxl/ (its shell prompt: NAME# )
//   KXL_SHOTS     a directory for the screenshots
//   KXL_CHROMIUM  the browser (default /usr/bin/chromium)
// Prints one JSON object of what it measured; exits non-zero (with the step) on a failure.
'use strict';

const { chromium } = require('playwright-core');
const path = require('path');

const { consoleAnswers42 } = require('./lib.cjs');

const url = process.env.KXL_URL;
const token = process.env.KXL_TOKEN;
const name = process.env.KXL_DOMAIN;
const shots = process.env.KXL_SHOTS;
const result = {};
let step = 'start';

function check(cond, what) {
  if (!cond) throw new Error(what);
}

// The page's own fetch (its cookie, its Origin), without the UI's CSRF header.
async function rawFetch(page, method, p) {
  return page.evaluate(async ([m, u]) => {
    const r = await fetch(u, { method: m, credentials: 'same-origin' });
    return r.status;
  }, [method, p]);
}

async function refusedWithoutLogin(page) {
  step = 'refused without login';
  await page.goto(url);
  await page.locator('#login-form').waitFor({ state: 'visible' });
  check(await page.locator('#dashboard').isHidden(), 'the dashboard shows before a login');
  result.unauthenticated_status = await rawFetch(page, 'GET', '/api/v1/domains');
  check(result.unauthenticated_status === 401, `GET /api/v1/domains without login: ${result.unauthenticated_status}`);
  await page.fill('#login-token', 'not-the-token-0123456789');
  await page.click('#login-form button[type=submit]');
  await page.locator('#login-error').filter({ hasText: 'refused' }).waitFor();
  check(await page.locator('#dashboard').isHidden(), 'a wrong token logged in');
  await page.screenshot({ path: path.join(shots, 'login.png') });
}

async function logIn(page) {
  step = 'log in';
  await page.fill('#login-token', token);
  const t0 = Date.now();
  await page.click('#login-form button[type=submit]');
  await page.locator('#dashboard').waitFor({ state: 'visible' });
  await page.locator('#host [data-field=cpus]').waitFor();
  result.dashboard_ms = Date.now() - t0; // from the login's click to the host's facts shown
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === 'kxld_session');
  check(c && c.httpOnly && c.secure && c.sameSite === 'Strict', `session cookie: ${JSON.stringify(c)}`);
  result.cookie = { httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite };
}

async function startDomain(page) {
  step = 'start from a config';
  await page.locator('#start-config option', { hasText: name }).waitFor({ state: 'attached' });
  await page.selectOption('#start-config', { label: name });
  await page.click('#start-form button[type=submit]');
  const card = page.locator(`[data-domain="${name}"]`);
  await card.locator('[data-field=state]', { hasText: 'running' }).waitFor({ timeout: 60000 });
  result.host = await page.locator('#host').innerText();
  return card;
}

async function graphGetsPoints(card) {
  step = 'the CPU graph gets points';
  const cpu = card.locator('[data-graph=cpu]');
  const before = Number(await cpu.getAttribute('data-points'));
  const t0 = Date.now();
  await cpu.locator('canvas').waitFor();
  // a live point from the events WebSocket: kxld samples every 5 s
  await card.page().waitForFunction(([sel, n]) => Number(document.querySelector(sel).dataset.points) > n,
    [`[data-domain="${name}"] [data-graph=cpu]`, before], { timeout: 20000 });
  result.cpu_points_before = before;
  result.cpu_points_after = Number(await cpu.getAttribute('data-points'));
  result.live_point_ms = Date.now() - t0;
  result.cpu_text = await card.locator('[data-field=cpu]').innerText();
  // every graph's x axis: clock times of the last minute(s), the same for the four (uPlot left
  // alone ranged a graph without points over years: "1970", "2027")
  result.x_axes = await card.page().evaluate((n) => {
    const axes = { now: Date.now() / 1000 };
    for (const g of document.querySelectorAll(`[data-domain="${n}"] [data-graph]`)) {
      axes[g.dataset.graph] = { min: Number(g.dataset.xmin), max: Number(g.dataset.xmax), points: Number(g.dataset.points) };
    }
    return axes;
  }, name);
}

async function consoleAnswers(page, card) {
  step = 'console';
  await card.locator('[data-action=console]').click();
  result.console_tail = await consoleAnswers42(page, name);
  await page.screenshot({ path: path.join(shots, 'console.png') });
  // the terminal fits its window: fewer rows in a smaller one
  const rowCount = () => page.locator('#terminal .xterm-rows > div').count();
  result.console_rows = await rowCount();
  await page.setViewportSize({ width: 800, height: 500 });
  await page.waitForFunction((n) => document.querySelectorAll('#terminal .xterm-rows > div').length < n,
    result.console_rows, { timeout: 5000 });
  result.console_rows_resized = await rowCount();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#console-close');
}

// Clicks the pause button and measures until the card says want.
async function toggle(card, want) {
  const t0 = Date.now();
  await card.locator('[data-action=pause]').click();
  await card.locator('[data-field=state]', { hasText: want }).waitFor({ timeout: 1000 });
  return Date.now() - t0;
}

async function pauseUnpause(page, card) {
  step = 'pause within a second';
  result.pause_ms = await toggle(card, 'paused');
  step = 'CSRF';
  result.no_csrf_status = await rawFetch(page, 'POST', `/api/v1/domains/${name}/unpause`);
  check(result.no_csrf_status === 403, `a change without the CSRF header: ${result.no_csrf_status}`);
  check((await card.locator('[data-field=state]').innerText()) === 'paused', 'the refused unpause ran');
  step = 'unpause within a second';
  result.unpause_ms = await toggle(card, 'running');
}

async function destroy(page, card) {
  step = 'destroy';
  await page.screenshot({ path: path.join(shots, 'dashboard.png'), fullPage: true });
  await card.locator('[data-action=destroy]').click();
  const dlg = page.locator('#confirm');
  await dlg.waitFor({ state: 'visible' });
  result.confirm_text = await page.locator('#confirm-text').innerText();
  check(result.confirm_text.includes(name), `the confirmation does not name ${name}`);
  await page.click('#confirm-ok');
  await card.waitFor({ state: 'detached', timeout: 30000 });
}

async function logOut(page) {
  step = 'log out';
  await page.click('#logout');
  await page.locator('#login-form').waitFor({ state: 'visible' });
  result.after_logout_status = await rawFetch(page, 'GET', '/api/v1/domains');
  check(result.after_logout_status === 401, `after logout: ${result.after_logout_status}`);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.KXL_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
  const page = await (await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } })).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await refusedWithoutLogin(page);
    await logIn(page);
    const card = await startDomain(page);
    await graphGetsPoints(card);
    await consoleAnswers(page, card);
    await pauseUnpause(page, card);
    await destroy(page, card);
    await logOut(page);
    // what the browser reported as errors (401s of the login page are expected ones)
    result.page_errors = errors.filter((e) => !/401|403/.test(e));
  } catch (e) {
    await page.screenshot({ path: path.join(shots, 'failure.png'), fullPage: true }).catch(() => {});
    console.log(JSON.stringify({ ...result, failed: step, error: String(e), page_errors: errors }));
    await browser.close();
    process.exit(1);
  }
  await browser.close();
  console.log(JSON.stringify(result));
}

main();
