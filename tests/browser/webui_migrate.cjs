// webui_migrate.cjs - a live migration from the web UI, in a real browser (Debian's chromium,
// headless, driven by playwright-core) against kxld A with a real guest; host B is a second
// kxld's relocation server (tests/e2e/test_webui_migrate.py). The card's Migrate asks where
// to; while memory moves, the card shows the supervisor's migrate job; then the card goes.
// Environment: lib.cjs's, and
//   KXL_DOMAIN  the running domain on A
//   KXL_TO      where to: a peer's name (kxld.conf's relocation_peers) or HOST:PORT
// The last line is one JSON object of what it measured.
'use strict';

const { shot, logIn, run } = require('./lib.cjs');

const dom = process.env.KXL_DOMAIN;

run('migrate', async ({ page }, result, step) => {
  step('log in');
  await logIn(page);
  const card = page.locator(`[data-domain="${dom}"]`);
  await card.locator('[data-field=state]', { hasText: 'running' }).waitFor({ timeout: 60000 });
  await page.evaluate((d) => {
    window.kxlJobTexts = [];
    const j = document.querySelector(`[data-domain="${d}"] [data-field=job-text]`);
    new MutationObserver(() => window.kxlJobTexts.push(j.textContent)).observe(j, { childList: true, characterData: true, subtree: true });
  }, dom);
  step('the dialog');
  await card.locator('[data-action=migrate]').click();
  await page.locator('#migrate[open]').waitFor();
  result.title = await page.locator('#migrate-title').innerText();
  result.peers = await page.locator('#migrate-peers option').evaluateAll((os) => os.map((o) => o.value));
  await page.fill('#migrate-host', process.env.KXL_TO);
  await shot(page, 'migrate');
  step('migrate');
  const t0 = Date.now();
  await page.click('#migrate-ok');
  await card.waitFor({ state: 'detached', timeout: 180000 });
  result.gone_ms = Date.now() - t0;
  result.job_texts = await page.evaluate(() => window.kxlJobTexts);
  result.domains_left = await page.locator('[data-domain]').count();
  await shot(page, 'migrated');
});
