// webui_manage.cjs - the web UI's management pages in a real browser (Debian's chromium,
// headless, driven by playwright-core) against a real kxld with real guests; run by
// tests/e2e/test_webui_manage.py, which checks from outside what this did. Environment:
//   KXL_URL      https://127.0.0.1:PORT/ of kxld's TLS listener (a self-signed certificate)
//   KXL_TOKEN    an API token of its token file
//   KXL_CONFIG   a config in etc/kxl/ (NAME.cfg) to edit and start at boot
//   KXL_NEW      the name of the domain the New domain form creates and starts
//   KXL_GUEST    the test guest's directory (vmlinuz, initrd.img)
//   KXL_PW_DOMAIN, KXL_PW  a running domain whose display asks this VNC password
//   KXL_SHOTS    a directory for the screenshots
//   KXL_CHROMIUM the browser (default /usr/bin/chromium)
// What only the test can see (a file, the guest's screen) it asks on stdout, one JSON line
// {"ask": WHAT}, and reads the answer from stdin. The last line is one JSON object of what it
// measured; it exits non-zero (with the step) on a failure.
'use strict';

const { chromium } = require('playwright-core');
const path = require('path');
const readline = require('readline');

const url = process.env.KXL_URL;
const token = process.env.KXL_TOKEN;
const cfg = process.env.KXL_CONFIG;
const newName = process.env.KXL_NEW;
const guest = process.env.KXL_GUEST;
const shots = process.env.KXL_SHOTS;
const result = {};
let step = 'start';

const answers = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function ask(what) {
  console.log(JSON.stringify({ ask: what }));
  const { value } = await answers.next();
  return JSON.parse(value);
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function logIn(page) {
  step = 'log in';
  await page.goto(url);
  await page.fill('#login-token', token);
  await page.click('#login-form button[type=submit]');
  await page.locator('#dashboard').waitFor({ state: 'visible' });
}

// The Configs tab reached with the keyboard: Tab from the Domains tab, then Enter.
async function configsByKeyboard(page) {
  step = 'configs view by keyboard';
  await page.focus('nav.tabs [data-view=domains]');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.dataset.view) === 'configs', 'Tab did not reach the Configs tab');
  await page.keyboard.press('Enter');
  await page.locator('#view-configs').waitFor({ state: 'visible' });
  await page.locator(`tr[data-config="${cfg}.cfg"]`).waitFor();
  await page.screenshot({ path: path.join(shots, 'configs.png'), fullPage: true });
}

// Where the editor's error band is against the line it names (pixels apart).
async function markOffset(page, line) {
  return page.evaluate((n) => {
    const t = document.getElementById('editor-text');
    const cs = getComputedStyle(t);
    const want = t.getBoundingClientRect().top + parseFloat(cs.paddingTop) + (n - 1) * parseFloat(cs.lineHeight) - t.scrollTop;
    return Math.abs(document.getElementById('editor-mark').getBoundingClientRect().top - want);
  }, line);
}

async function editWithError(page) {
  step = 'edit: an error at its line';
  const row = page.locator(`tr[data-config="${cfg}.cfg"]`);
  await row.locator('[data-action=edit]').click();
  await page.locator('#editor').waitFor({ state: 'visible' });
  const original = await page.inputValue('#editor-text');
  check(original.includes('memory = 256'), `the editor does not show the file: ${original}`);
  const bad = original.replace('memory = 256', 'memory = lots');
  result.bad_line = bad.split('\n').indexOf('memory = lots') + 1;
  await page.fill('#editor-text', bad);
  const mark = page.locator('#editor-mark');
  await mark.waitFor({ state: 'visible', timeout: 5000 });
  result.error_line = Number(await mark.getAttribute('data-line'));
  result.error_text = await mark.innerText();
  result.gutter_bad = await page.locator('#editor-gutter .bad').innerText();
  result.mark_at_line = (await markOffset(page, result.error_line)) < 3 && result.gutter_bad === String(result.error_line);
  await page.screenshot({ path: path.join(shots, 'editor.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  result.dark_background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.screenshot({ path: path.join(shots, 'editor-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  step = 'edit: a refused save';
  await page.click('#editor button[type=submit]');
  await page.locator('#editor-status', { hasText: 'not saved' }).waitFor();
  result.file_after_refusal = await ask('file');
  step = 'edit: the fix saved with the keyboard';
  await page.fill('#editor-text', `${original}# edited in the browser\n`);
  await page.focus('#editor button[type=submit]');
  await page.keyboard.press('Enter');
  await page.locator('#editor-status', { hasText: 'saved: domain' }).waitFor();
  check(await mark.isHidden(), 'the error mark stayed after the fix');
  await page.click('#editor-close');
}

// Waits for the configs table to be drawn again after an action.
async function reloaded(page, before) {
  await page.waitForFunction((b) => document.getElementById('configs').dataset.loaded !== b, before, { timeout: 10000 });
}

async function autostart(page) {
  step = 'autostart on';
  const loaded = () => page.getAttribute('#configs', 'data-loaded');
  const row = () => page.locator(`tr[data-config="${cfg}.cfg"]`);
  let before = await loaded();
  await row().locator('[data-field=autostart]').click();
  await reloaded(page, before);
  check(await row().locator('[data-field=autostart]').isChecked(), 'autostart is not shown as on');
  result.autostart_on = await ask('autostart');
  step = 'autostart order';
  before = await loaded();
  await row().locator('[data-field=order]').fill('7');
  await row().locator('[data-field=order]').press('Enter');
  await row().locator('[data-field=order]').blur();
  await reloaded(page, before);
  result.order_shown = await row().locator('[data-field=order]').inputValue();
  result.order_in_plan = await page.evaluate(async (n) => {
    const plan = await (await fetch('/api/v1/autostart')).json();
    for (const b of plan.batches) for (const d of b.domains) if (d.name === n) return d.order;
    return null;
  }, cfg);
  step = 'phone-sized';
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(shots, 'configs-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  step = 'autostart off';
  before = await loaded();
  await row().locator('[data-field=autostart]').click();
  await reloaded(page, before);
  result.autostart_off = await ask('autostart');
}

async function createForm(page) {
  step = 'New domain form';
  await page.click('nav.tabs [data-view=create]');
  await page.fill('#create-name', newName);
  await page.fill('#create-memory', '256');
  await page.fill('#create-vcpus', '1');
  await page.click('#create-kernel-box summary');
  await page.fill('#create-kernel', `${guest}/vmlinuz`);
  await page.fill('#create-ramdisk', `${guest}/initrd.img`);
  await page.fill('#create-extra', `console=ttyS0 kxl.hostname=${newName}`);
  await page.check('#create-vnc');
  result.preview = await page.locator('#create-preview').textContent();
  await page.screenshot({ path: path.join(shots, 'create.png'), fullPage: true });
  await page.click('#create-form button[type=submit]');
  await page.locator('#create-done', { hasText: 'started' }).waitFor({ timeout: 60000 });
  step = 'the created domain runs';
  await page.click('nav.tabs [data-view=domains]');
  const card = page.locator(`[data-domain="${newName}"]`);
  await card.locator('[data-field=state]', { hasText: 'running' }).waitFor({ timeout: 60000 });
  return card;
}

// The canvas's size (noVNC draws the framebuffer at its size: the scaling is CSS only).
async function canvasSize(page) {
  return page.evaluate(() => {
    const c = document.querySelector('#vnc-screen canvas');
    return c ? [c.width, c.height] : [0, 0];
  });
}

async function display(page, card) {
  step = 'graphical console';
  const btn = card.locator('[data-action=display]');
  await btn.waitFor({ state: 'visible', timeout: 10000 });
  await btn.click();
  await page.locator('#vnc[data-connected=true]').waitFor({ timeout: 30000 });
  // the guest may change its mode while it boots: the canvas follows the server's size
  const deadline = Date.now() + 30000;
  for (;;) {
    result.screen = await ask('screen');
    result.canvas = await canvasSize(page);
    if (String(result.canvas) === String(result.screen) || Date.now() > deadline) break;
    await page.waitForTimeout(1000);
  }
  await page.screenshot({ path: path.join(shots, 'vnc.png') });
  await page.click('#vnc-close');
}

// A display with vncpasswd: noVNC asks for the password, which goes to QEMU in the RFB stream.
async function displayWithPassword(page) {
  step = 'graphical console with a password';
  const card = page.locator(`[data-domain="${process.env.KXL_PW_DOMAIN}"]`);
  await card.locator('[data-action=display]').click();
  await page.locator('#vnc-password-form').waitFor({ state: 'visible', timeout: 30000 });
  result.password_asked = true;
  await page.fill('#vnc-password', process.env.KXL_PW);
  await page.keyboard.press('Enter');
  await page.locator('#vnc[data-connected=true]').waitFor({ timeout: 30000 });
  result.password_canvas = await canvasSize(page);
  // (Escape goes to the guest while the screen has the focus, as in any VNC client)
  await page.focus('#vnc-close');
  await page.keyboard.press('Enter');
  await page.locator('#vnc').waitFor({ state: 'hidden' });
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
    await logIn(page);
    await configsByKeyboard(page);
    await editWithError(page);
    await autostart(page);
    const card = await createForm(page);
    await display(page, card);
    await displayWithPassword(page);
    // what the browser reported as errors: the login page's 401 and the refused save's 400
    // are expected ones
    result.refused_requests = errors.filter((e) => /status of 400/.test(e)).length;
    result.page_errors = errors.filter((e) => !/status of (401|400)/.test(e));
  } catch (e) {
    await page.screenshot({ path: path.join(shots, 'failure-manage.png'), fullPage: true }).catch(() => {});
    console.log(JSON.stringify({ ...result, failed: step, error: String(e), page_errors: errors }));
    await browser.close();
    process.exit(1);
  }
  await browser.close();
  console.log(JSON.stringify(result));
  process.exit(0);
}

main();
