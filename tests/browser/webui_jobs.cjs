// webui_jobs.cjs - a domain's running job on the dashboard, in a real browser (Debian's
// chromium, headless, driven by playwright-core) against a real kxld with a real guest; run by
// tests/e2e/test_webui_jobs.py. The test starts a memory dump through the API (the dashboard
// shows jobs whoever started them); here its card shows the job's phase and progress, and its
// Cancel button cancels it. Environment: lib.cjs's, and
//   KXL_DOMAIN  a running domain
// It asks the test (lib.cjs's ask) to start the dump ("start") and, once Cancel was clicked,
// to let it end ("drain"). The last line is one JSON object of what it measured.
'use strict';

const { ask, check, shot, logIn, run } = require('./lib.cjs');

const dom = process.env.KXL_DOMAIN;

run('jobs', async ({ page }, result, step) => {
  step('log in');
  await logIn(page);
  const card = page.locator(`[data-domain="${dom}"]`);
  await card.locator('[data-field=state]', { hasText: 'running' }).waitFor({ timeout: 60000 });
  const job = card.locator('[data-field=job]');
  check(await job.isHidden(), 'a job shows before any started');
  // every text the job's line showed, for the test to read
  await page.evaluate((d) => {
    window.kxlJobTexts = [];
    const j = document.querySelector(`[data-domain="${d}"] [data-field=job-text]`);
    new MutationObserver(() => window.kxlJobTexts.push(j.textContent)).observe(j, { childList: true, characterData: true, subtree: true });
  }, dom);

  step('the job shows with its progress');
  result.location = await ask('start');
  await job.locator('[data-action=cancel-job]').waitFor({ state: 'visible', timeout: 30000 });
  // progress as the supervisor reads it from QEMU (every half second): more than 0 %
  await page.waitForFunction((d) => {
    const j = document.querySelector(`[data-domain="${d}"] [data-field=job]`);
    return Number(j.dataset.progress) > 0;
  }, dom, { timeout: 30000 });
  result.running_text = await job.locator('[data-field=job-text]').innerText();
  result.bar = await job.locator('progress').evaluate((b) => ({ value: b.value, max: b.max, visible: b.offsetParent !== null }));
  await shot(page, 'job');

  step('cancel');
  await job.locator('[data-action=cancel-job]').click();
  await ask('drain');
  await job.locator('[data-field=job-text]', { hasText: 'cancelled' }).waitFor({ timeout: 120000 });
  result.end_status = await job.getAttribute('data-status');
  result.end_text = await job.locator('[data-field=job-text]').innerText();
  result.cancel_hidden = await job.locator('[data-action=cancel-job]').isHidden();
  result.bar_hidden = await job.locator('progress').isHidden();
  result.card_error = await card.locator('.error').innerText();
  result.texts = await page.evaluate(() => window.kxlJobTexts);
  result.state_after = await card.locator('[data-field=state]').innerText();
  await shot(page, 'job-cancelled');
});
