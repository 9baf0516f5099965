// lib.cjs - what the browser scripts share: Debian's chromium launched headless by
// playwright-core, a page that keeps its errors, the token login, questions to the Python test
// on stdout (answers on stdin), and the one JSON line of results at the end. Environment:
//   KXL_URL       https://127.0.0.1:PORT/ of kxld's TLS listener (a self-signed certificate)
//   KXL_TOKEN     an API token of its token file
//   KXL_SHOTS     a directory for the screenshots
//   KXL_CHROMIUM  the browser (default /usr/bin/chromium)
'use strict';

const { chromium } = require('playwright-core');
const path = require('path');
const readline = require('readline');

const env = {
  url: process.env.KXL_URL,
  token: process.env.KXL_TOKEN,
  shots: process.env.KXL_SHOTS,
};

let answers = null;

// Asks the test what only it can see: {"ask": WHAT, ...more} on stdout, its JSON answer on stdin.
async function ask(what, more = {}) {
  if (!answers) answers = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  console.log(JSON.stringify({ ask: what, ...more }));
  const { value } = await answers.next();
  return JSON.parse(value);
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

function shot(page, name, opts = {}) {
  return page.screenshot({ path: path.join(env.shots, `${name}.png`), ...opts });
}

// The browser (background networking off: this machine's network is closed) and one page.
async function launch(viewport = { width: 1280, height: 900 }) {
  const browser = await chromium.launch({
    executablePath: process.env.KXL_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { browser, context, page, errors };
}

// Logs in with the token; resolves once the dashboard shows. Returns the milliseconds from the
// click to the host's facts on the page.
async function logIn(page) {
  await page.goto(env.url);
  await page.fill('#login-token', env.token);
  const t0 = Date.now();
  await page.click('#login-form button[type=submit]');
  await page.locator('#dashboard').waitFor({ state: 'visible' });
  await page.locator('#host [data-field=cpus]').waitFor();
  return Date.now() - t0;
}

// Runs body(ctx, result, setStep) in a launched browser; prints result as the last line and
// exits 0, or on a failure a screenshot (failure-NAME.png), the result with the step that
// failed, and exits 1.
async function run(name, body, viewport) {
  const result = {};
  let step = 'launch';
  const ctx = await launch(viewport);
  try {
    await body(ctx, result, (s) => { step = s; });
    result.page_errors = ctx.errors.filter((e) => !/status of 401/.test(e));
  } catch (e) {
    await shot(ctx.page, `failure-${name}`, { fullPage: true }).catch(() => {});
    console.log(JSON.stringify({ ...result, failed: step, error: String(e), page_errors: ctx.errors }));
    await ctx.browser.close();
    process.exit(1);
  }
  await ctx.browser.close();
  console.log(JSON.stringify(result));
  process.exit(0);
}

// Waits up to timeout ms for done (a locator), failing at once with failed's text (a locator)
// when that shows first: a step whose job failed says why, not the timeout.
async function doneOrFailed(done, failed, timeout) {
  const ok = done.waitFor({ timeout });
  ok.catch(() => {}); // (the race below reports it)
  const bad = failed.waitFor({ timeout }).then(() => true, () => false);
  if (await Promise.race([ok.then(() => false), bad])) throw new Error(await failed.innerText());
  await ok;
}

// In the console dialog that just opened: waits for it to connect, gets the guest's prompt
// (`NAME# `), types `echo $((6*7))` and waits for the guest's 42 on a line of its own (the
// echo of the command holds no "42" alone). Defines window.terminalText() (the terminal's
// lines as text; xterm.js draws spaces as no-break spaces). Returns the last three lines.
async function consoleAnswers42(page, name) {
  await page.evaluate(() => {
    window.terminalText = () => document.querySelector('#terminal .xterm-rows').innerText.replace(/\u00a0/g, ' ');
  });
  await page.locator('#console-status', { hasText: 'connected' }).waitFor({ timeout: 30000 });
  await page.locator('#terminal .xterm-helper-textarea').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => terminalText().includes(`${n}# `), name, { timeout: 30000 });
  await page.keyboard.type('echo $((6*7))');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => terminalText().split('\n').some((l) => l.trim() === '42'),
    null, { timeout: 30000 });
  return (await page.evaluate(() => terminalText())).split('\n')
    .map((l) => l.trim()).filter((l) => l).slice(-3);
}

module.exports = { env, ask, check, shot, launch, logIn, run, consoleAnswers42, doneOrFailed };
