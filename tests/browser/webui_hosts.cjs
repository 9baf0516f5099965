// webui_hosts.cjs - several hosts in one view, in a real browser (Debian's chromium, headless,
// driven by playwright-core) against kxld A, which relays to host B's kxld
// (tests/e2e/test_webui_hosts.py): A's domain and B's on one dashboard, a peer that is down
// shown as unreachable, B's domain paused by B's own command line (the test is asked to run
// kxl pause on B) seen paused on A's page through the relayed events, unpaused from A's page
// (B says so: the test is asked), its console opened from A's page through the relay (a
// command typed, the guest's answer seen), and A's domain dragged onto B's section, confirmed
// in the Migrate dialog, seen arriving there.
// Environment: lib.cjs's, and
//   KXL_LOCAL   a running domain on A
//   KXL_REMOTE  a running domain on B
//   KXL_PEER    B's name in A's api_peers (and relocation_peers)
//   KXL_DOWN    a peer of api_peers where nothing listens
// The last line is one JSON object of what it measured.
'use strict';

const { ask, shot, logIn, run, consoleAnswers42, doneOrFailed } = require('./lib.cjs');

const local = process.env.KXL_LOCAL;
const remote = process.env.KXL_REMOTE;
const peer = process.env.KXL_PEER;
const down = process.env.KXL_DOWN;

run('hosts', async ({ page }, result, step) => {
  step('log in');
  await logIn(page);
  step('both hosts');
  const card = page.locator(`[data-domain="${local}"]`);
  await card.locator('[data-field=state]', { hasText: 'running' }).waitFor({ timeout: 60000 });
  const section = page.locator(`[data-host="${peer}"]`);
  const remoteCard = section.locator(`[data-host-domain="${remote}"]`);
  await remoteCard.locator('[data-field=state]', { hasText: 'running' }).waitFor({ timeout: 30000 });
  await page.locator(`[data-host="${down}"][data-reachable=no]`).waitFor({ timeout: 30000 });
  result.sections = await page.locator('[data-host]').evaluateAll((ss) => ss.map((s) => s.dataset.host));
  result.down_status = await page.locator(`[data-host="${down}"] [data-field=host-status]`).innerText();
  await shot(page, 'hosts', { fullPage: true });
  step('paused by the peer itself');
  const state = remoteCard.locator('[data-field=state]');
  // the moment the card says paused, by the page's clock (Date.now(): the test's too)
  await state.evaluate((node) => {
    window.pausedSeenAt = null;
    new MutationObserver(() => {
      if (!window.pausedSeenAt && node.textContent === 'paused') window.pausedSeenAt = Date.now();
    }).observe(node, { childList: true, characterData: true, subtree: true });
  });
  const { t0_ms } = await ask('peer-kxl-pause', { domain: remote });
  await state.filter({ hasText: 'paused' }).waitFor({ timeout: 10000 });
  result.peer_cli_pause_ms = (await page.evaluate(() => window.pausedSeenAt)) - t0_ms;
  await shot(page, 'peer-paused', { fullPage: true });
  step('unpause on the peer');
  const t0 = Date.now();
  await remoteCard.locator('[data-action=pause]', { hasText: 'Unpause' }).click();
  await state.filter({ hasText: 'running' }).waitFor({ timeout: 10000 });
  result.peer_unpause_ms = Date.now() - t0;
  result.peer_state_after_unpause = await ask('peer-state', { domain: remote });
  step('the peer domain\'s console');
  await remoteCard.locator('[data-action=console]').click();
  result.console_tail = await consoleAnswers42(page, remote);
  result.console_title = await page.locator('#console-title').innerText();
  await shot(page, 'peer-console');
  await page.click('#console-close');
  step('drag onto the peer');
  await card.dragTo(section);
  await page.locator('#migrate[open]').waitFor({ timeout: 10000 });
  result.dialog_title = await page.locator('#migrate-title').innerText();
  result.dialog_host = await page.locator('#migrate-host').inputValue();
  await shot(page, 'drop-migrate');
  step('migrate');
  const t1 = Date.now();
  await page.click('#migrate-ok');
  const arrived = section.locator(`[data-host-domain="${local}"] [data-field=state]`, { hasText: 'running' });
  const failed = section.locator('[data-field=host-status]', { hasText: `migrating ${local} failed` });
  await doneOrFailed(arrived, failed, 180000);
  await card.waitFor({ state: 'detached', timeout: 30000 });
  result.arrived_ms = Date.now() - t1;
  await shot(page, 'dropped', { fullPage: true });
});
