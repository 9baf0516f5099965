// webui_hosts_peer.cjs - a peer's domains used from this host's page, in a real browser
// (Debian's chromium, headless, driven by playwright-core) against kxld A, which relays to host
// B's kxld (tests/e2e/test_webui_hosts.py): B's domain with vnc shows its screen in noVNC on
// A's page (through A's relayed VNC WebSocket: connected, the canvas at the guest's screen
// size, which only the test can see), and another of B's domains dragged onto A's own card
// (#host) opens the Migrate dialog of B's domain with A's name filled in and B's
// relocation_peers offered; confirmed, the domain leaves B's section and arrives among A's
// domains. With KXL_TO, it is dropped on that other peer's section instead and arrives there.
// Environment: lib.cjs's, and
//   KXL_VNC     a running domain on B with vnc = 1 (empty: no display shown)
//   KXL_MOVE    a running domain on B, to move to A (or KXL_TO)
//   KXL_PEER    B's name in A's api_peers
//   KXL_TO      empty, or another peer's name in A's api_peers: where KXL_MOVE goes
// The last line is one JSON object of what it measured.
'use strict';

const { ask, shot, logIn, run, doneOrFailed } = require('./lib.cjs');

const vncDom = process.env.KXL_VNC;
const moveDom = process.env.KXL_MOVE;
const peer = process.env.KXL_PEER;
const to = process.env.KXL_TO || '';

// The canvas's size (noVNC draws the framebuffer at its size: the scaling is CSS only).
function canvasSize(page) {
  return page.evaluate(() => {
    const c = document.querySelector('#vnc-screen canvas');
    return c ? [c.width, c.height] : [0, 0];
  });
}

run('hosts-peer', async ({ page }, result, step) => {
  step('log in');
  await logIn(page);
  const section = page.locator(`[data-host="${peer}"]`);
  const moveCard = section.locator(`[data-host-domain="${moveDom}"]`);
  await moveCard.locator('[data-field=state]', { hasText: 'running' }).waitFor({ timeout: 30000 });
  if (vncDom) await display(page, section, moveCard, result, step);
  step('drag the peer\'s domain onto another host');
  const target = to ? page.locator(`[data-host="${to}"]`) : page.locator('#host');
  if (to) await target.locator('[data-field=host-status]', { hasText: 'domain' }).waitFor({ timeout: 30000 });
  await moveCard.dragTo(target);
  await page.locator('#migrate[open]').waitFor({ timeout: 10000 });
  result.dialog_title = await page.locator('#migrate-title').innerText();
  result.dialog_host = await page.locator('#migrate-host').inputValue();
  result.dialog_peers = await page.locator('#migrate-peers option').evaluateAll((os) => os.map((o) => o.value));
  await shot(page, to ? 'peer-drop-on-peer' : 'peer-drop-migrate');
  step('migrate');
  const t1 = Date.now();
  await page.click('#migrate-ok');
  const arrived = to
    ? target.locator(`[data-host-domain="${moveDom}"] [data-field=state]`, { hasText: 'running' })
    : page.locator(`#domains [data-domain="${moveDom}"] [data-field=state]`, { hasText: 'running' });
  const failed = section.locator('[data-field=host-status]', { hasText: `migrating ${moveDom} failed` });
  await doneOrFailed(arrived, failed, 180000);
  await moveCard.waitFor({ state: 'detached', timeout: 30000 });
  result.arrived_ms = Date.now() - t1;
  await shot(page, to ? 'peer-dropped-on-peer' : 'peer-dropped-here', { fullPage: true });
});

// The display of the peer's domain with vnc (and none for moveCard's, which has no vnc).
async function display(page, section, moveCard, result, step) {
  const vncCard = section.locator(`[data-host-domain="${vncDom}"]`);
  await vncCard.locator('[data-field=state]', { hasText: 'running' }).waitFor({ timeout: 30000 });
  step('the peer domain\'s display');
  // only the domain with vnc has the button (its config, read through the relay)
  await vncCard.locator('[data-action=display]').waitFor({ state: 'visible', timeout: 10000 });
  result.display_button_without_vnc = await moveCard.locator('[data-action=display]').isVisible();
  const t0 = Date.now();
  await vncCard.locator('[data-action=display]').click();
  await page.locator('#vnc[data-connected=true]').waitFor({ timeout: 30000 });
  result.vnc_connect_ms = Date.now() - t0;
  result.vnc_title_host = await page.locator('#vnc').getAttribute('data-vnc-host');
  // the guest may change its mode while it boots: the canvas follows the server's size
  const deadline = Date.now() + 30000;
  for (;;) {
    result.screen = await ask('screen', { domain: vncDom });
    result.canvas = await canvasSize(page);
    if (String(result.canvas) === String(result.screen) || Date.now() > deadline) break;
    await page.waitForTimeout(1000);
  }
  await shot(page, 'peer-vnc');
  await page.click('#vnc-close');
  await page.locator('#vnc').waitFor({ state: 'hidden' });
}
