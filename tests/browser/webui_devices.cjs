// webui_devices.cjs - a domain's devices in the web UI (its card's Devices dialog), in a real browser (Debian's chromium,
// headless, driven by playwright-core) against a real kxld with a real guest; run by
// tests/e2e/test_webui_devices.py, which checks from outside what this did. Environment:
//   KXL_URL      https://127.0.0.1:PORT/ of kxld's TLS listener (a self-signed certificate)
//   KXL_TOKEN    an API token of its token file
//   KXL_DOMAIN   a running domain with a qcow2 disk and an empty CD-ROM drive (hdc)
//   KXL_ISO      an ISO image to insert
//   KXL_DISK     a raw image to attach as xvdb
//   KXL_PART     storage (snapshots, CD-ROM, disks: the default) or nics (KXL_BRIDGE: a bridge
//                of the host to attach a network interface to)
//   KXL_SHOTS    a directory for the screenshots
//   KXL_CHROMIUM the browser (default /usr/bin/chromium)
// What only the test can see it asks on stdout, one JSON line {"ask": WHAT}, and reads the
// answer from stdin. The last line is one JSON object of what it measured; it exits non-zero
// (with the step) on a failure.
'use strict';

const { chromium } = require('playwright-core');
const path = require('path');
const readline = require('readline');

const url = process.env.KXL_URL;
const token = process.env.KXL_TOKEN;
const dom = process.env.KXL_DOMAIN;
const iso = process.env.KXL_ISO;
const disk = process.env.KXL_DISK;
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

// The Devices dialog of the domain, opened with the keyboard.
async function openDevices(page) {
  step = 'the Devices dialog by keyboard';
  const card = page.locator(`[data-domain="${dom}"]`);
  await card.locator('[data-field=state]', { hasText: 'running' }).waitFor({ timeout: 60000 });
  await card.locator('[data-action=devices]').focus();
  await page.keyboard.press('Enter');
  await page.locator('#devices[data-loaded]').waitFor({ timeout: 20000 });
  // every status the dialog shows, for the test to read
  await page.evaluate(() => {
    window.kxlStatuses = [];
    const p = document.getElementById('devices-job');
    new MutationObserver(() => window.kxlStatuses.push(p.textContent)).observe(p, { childList: true, characterData: true, subtree: true });
  });
  result.title = await page.locator('#devices-title').innerText();
  return card;
}

async function loaded(page, before) {
  await page.waitForFunction((b) => {
    const d = document.getElementById('devices');
    return d.dataset.loaded && d.dataset.loaded !== b && d.dataset.busy !== 'true';
  }, before, { timeout: 300000 });
}

const stamp = (page) => page.getAttribute('#devices', 'data-loaded');

// Chooses the named action in the confirmation, keeping its words.
async function confirm(page, key) {
  await page.locator('#confirm[open]').waitFor();
  result[`${key}_confirm`] = await page.locator('#confirm-text').innerText();
  result[`${key}_confirm_ok`] = await page.locator('#confirm-ok').innerText();
  await page.click('#confirm-ok');
}

async function snapshots(page, card) {
  step = 'snapshot: take ui-snap';
  const row = page.locator('#snapshots tr[data-snapshot="ui-snap"]');
  check(await page.locator('#snapshots-none').isVisible(), 'the guest has snapshots already');
  let before = await stamp(page);
  await page.fill('#snapshot-name', 'ui-snap');
  await page.press('#snapshot-name', 'Enter');
  await page.locator('#devices[data-busy=true]').waitFor({ timeout: 5000 });
  result.job_status = await page.locator('#devices-job').innerText();
  await page.screenshot({ path: path.join(shots, 'snapshot-job.png') });
  await loaded(page, before);
  result.job_done = await page.locator('#devices-job').innerText();
  await row.waitFor({ timeout: 5000 });
  result.snapshot_error = await page.locator('#devices-error').innerText();
  result.listed_in_page = await page.locator('#snapshots tr[data-snapshot]').count();
  result.api_after_create = await ask('snapshots');
  await page.screenshot({ path: path.join(shots, 'devices.png'), fullPage: true });

  step = 'snapshot: revert, cancelled first';
  await row.locator('[data-action=revert]').click();
  await page.locator('#confirm[open]').waitFor();
  await page.keyboard.press('Escape');
  await page.locator('#confirm').waitFor({ state: 'hidden' });
  check(await page.locator('#devices[data-busy=true]').count() === 0, 'a cancelled revert ran');
  step = 'snapshot: revert';
  before = await stamp(page);
  await row.locator('[data-action=revert]').click();
  await confirm(page, 'revert');
  await loaded(page, before);
  result.revert_done = await page.locator('#devices-job').innerText();
  result.revert_error = await page.locator('#devices-error').innerText();
  result.focus_in_dialog = await page.evaluate(() => document.getElementById('devices').contains(document.activeElement));
  await row.waitFor({ timeout: 5000 });
  result.state_after_revert = await ask('state');
  result.card_after_revert = await card.locator('[data-field=state]').innerText();
  result.api_after_revert = await ask('snapshots');

  step = 'snapshot: delete';
  before = await stamp(page);
  await row.locator('[data-action=delete]').click();
  await confirm(page, 'delete');
  await loaded(page, before);
  await row.waitFor({ state: 'detached', timeout: 5000 });
  result.delete_error = await page.locator('#devices-error').innerText();
  result.none_shown = await page.locator('#snapshots-none').isVisible();
  result.api_after_delete = await ask('snapshots');
}

async function cdrom(page) {
  step = 'CD-ROM: insert';
  const row = page.locator('#cdroms tr[data-vdev=hdc]');
  result.medium_before = await row.locator('[data-field=medium]').innerText();
  let before = await stamp(page);
  await row.locator('[data-field=iso]').fill(iso);
  await row.locator('[data-field=iso]').press('Enter');
  await loaded(page, before);
  result.insert_error = await page.locator('#devices-error').innerText();
  result.medium_shown = await row.locator('[data-field=medium]').innerText();
  result.api_after_insert = await ask('disks');
  await page.emulateMedia({ colorScheme: 'dark' });
  result.dark_dialog = await page.evaluate(() => getComputedStyle(document.getElementById('devices')).backgroundColor);
  await page.screenshot({ path: path.join(shots, 'devices-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  step = 'CD-ROM: eject';
  before = await stamp(page);
  await row.locator('[data-action=eject]').click();
  await loaded(page, before);
  result.eject_error = await page.locator('#devices-error').innerText();
  result.medium_after_eject = await row.locator('[data-field=medium]').innerText();
  result.eject_disabled = await row.locator('[data-action=eject]').isDisabled();
  result.api_after_eject = await ask('disks');
}

async function disks(page) {
  step = 'disk: attach';
  let before = await stamp(page);
  await page.fill('#disk-spec', `format=raw,vdev=xvdb,access=rw,target=${disk}`);
  await page.press('#disk-spec', 'Enter');
  await loaded(page, before);
  result.attach_error = await page.locator('#devices-error').innerText();
  const row = page.locator('#disks tr[data-vdev=xvdb]');
  result.attached_shown = await row.locator('[data-field=target]').innerText();
  result.api_after_attach = await ask('disks');
  step = 'phone-sized';
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(shots, 'devices-phone.png') });
  result.phone_overflow = await page.evaluate(() => {
    const d = document.getElementById('devices');
    return d.scrollWidth > d.clientWidth + 1;
  });
  await page.setViewportSize({ width: 1280, height: 900 });
  step = 'disk: detach';
  before = await stamp(page);
  await row.locator('[data-action=detach]').click();
  await confirm(page, 'detach');
  await loaded(page, before);
  result.detach_error = await page.locator('#devices-error').innerText();
  result.detached_gone = await row.count() === 0;
  result.api_after_detach = await ask('disks');
}

async function nics(page) {
  step = 'NIC: attach';
  result.nics_none_before = await page.locator('#nics-none').isVisible();
  let before = await stamp(page);
  await page.fill('#nic-spec', `bridge=${process.env.KXL_BRIDGE}`);
  await page.press('#nic-spec', 'Enter');
  await loaded(page, before);
  result.nic_attach_error = await page.locator('#devices-error').innerText();
  const row = page.locator('#nics tr[data-devid="0"]');
  result.nic_vifname = await row.locator('[data-field=vifname]').innerText();
  result.nic_where = await row.locator('[data-field=where]').innerText();
  result.api_after_nic_attach = await ask('vifs');
  await page.screenshot({ path: path.join(shots, 'devices-nic.png') });
  step = 'NIC: detach';
  before = await stamp(page);
  await row.locator('[data-action=detach]').click();
  await confirm(page, 'nic_detach');
  await loaded(page, before);
  result.nic_detach_error = await page.locator('#devices-error').innerText();
  result.nic_gone = await row.count() === 0;
  result.api_after_nic_detach = await ask('vifs');
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.KXL_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
  const page = await (await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } })).newPage();
  const errors = [];
  const jobReads = []; // ms since the start of each GET of a job
  const t0 = Date.now();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('request', (r) => { if (/\/api\/v1\/jobs\/\d+$/.test(r.url())) jobReads.push(Date.now() - t0); });
  try {
    await logIn(page);
    const card = await openDevices(page);
    if (process.env.KXL_PART === 'nics') {
      await nics(page);
    } else {
      await snapshots(page, card);
      await cdrom(page);
      await disks(page);
    }
    step = 'no polling once idle';
    const reads = jobReads.length;
    await page.waitForTimeout(3000);
    result.job_reads = reads;
    result.job_reads_when_idle = jobReads.length - reads;
    const gaps = jobReads.slice(1).map((t, i) => t - jobReads[i]);
    result.min_job_read_gap_ms = gaps.length ? Math.min(...gaps) : null;
    result.statuses = await page.evaluate(() => window.kxlStatuses);
    step = 'close with the keyboard';
    await page.keyboard.press('Escape');
    await page.locator('#devices').waitFor({ state: 'hidden' });
    result.page_errors = errors.filter((e) => !/status of 401/.test(e));
  } catch (e) {
    await page.screenshot({ path: path.join(shots, 'failure-devices.png'), fullPage: true }).catch(() => {});
    console.log(JSON.stringify({ ...result, failed: step, error: String(e), page_errors: errors }));
    await browser.close();
    process.exit(1);
  }
  await browser.close();
  console.log(JSON.stringify(result));
  process.exit(0);
}

main();
