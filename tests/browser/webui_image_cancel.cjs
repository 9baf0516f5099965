// webui_image_cancel.cjs - the New image form's job followed step by step and cancelled from
// the keyboard mid-run, in a real browser (Debian's chromium, headless, driven by
// playwright-core) against a real kxld; run by tests/e2e/test_webui_image.py. Environment:
// lib.cjs's, and
//   KXL_IMAGE   the host name of the guest to make
//   KXL_SOURCE  a tar for --install-method=tar whose run stops at its second step
// The last line is one JSON object of what it measured: every text the step line showed,
// with the milliseconds since Create, and what the form said after the cancel.
'use strict';

const { check, shot, logIn, run } = require('./lib.cjs');

const name = process.env.KXL_IMAGE;
const source = process.env.KXL_SOURCE;

run('image-cancel', async ({ page }, result, step) => {
  step('log in');
  await logIn(page);
  step('the form');
  await page.click('nav.tabs [data-view=image]');
  await page.locator('#image-form').waitFor({ state: 'visible' });
  await page.fill('#image-hostname', name);
  await page.fill('#image-size', '128mb');
  await page.click('#image-form summary:has-text("Installation source")');
  await page.selectOption('#image-install-method', 'tar');
  await page.fill('#image-install-source', source);
  await page.evaluate(() => {
    window.kxlSteps = [];
    const s = document.getElementById('image-step');
    new MutationObserver(() => window.kxlSteps.push({ ms: Date.now() - window.kxlT0, text: s.textContent }))
      .observe(s, { childList: true, characterData: true, subtree: true });
  });
  // every request of the page about the job: waits for its next step, no polling
  result.job_requests = [];
  page.on('request', (rq) => {
    const u = new URL(rq.url());
    if (u.pathname.startsWith('/api/v1/jobs/')) result.job_requests.push(`${rq.method()} ${u.pathname}${u.search}`);
  });
  step('create');
  await page.evaluate(() => { window.kxlT0 = Date.now(); });
  await page.click('#image-submit');
  await page.locator('#image-cancel').waitFor({ state: 'visible', timeout: 10000 });
  // the second step, shown while the job still runs (it stops there until cancelled)
  await page.waitForFunction(() => /^\[2\//.test(document.getElementById('image-step').textContent), null, { timeout: 120000 });
  result.state_at_step2 = await page.getAttribute('#image-form', 'data-state');
  await shot(page, 'image-running', { fullPage: true });
  step('cancel from the keyboard');
  await page.focus('#image-cancel');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => ['done', 'failed', 'cancelled'].includes(document.getElementById('image-form').dataset.state), null, { timeout: 120000 });
  result.state = await page.getAttribute('#image-form', 'data-state');
  result.error = await page.locator('#image-error').innerText();
  result.job_hidden = await page.locator('#image-job').isHidden();
  result.job = await page.getAttribute('#image-form', 'data-job');
  result.steps = await page.evaluate(() => window.kxlSteps);
  await shot(page, 'image-cancelled', { fullPage: true });
  check(result.state === 'cancelled', `the form's state after the cancel: ${result.state} (${result.error})`);
});
