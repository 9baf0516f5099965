// webui_image.cjs - the New image form (kxl create-image as a form) in a real browser
// (Debian's chromium, headless, driven by playwright-core) against a real kxld; run by
// tests/e2e/test_webui_image.py. The form is filled as a person would (Tab, typing), the job's
// steps followed, the Installation Summary read (its generated root password), the new guest
// started by the form and logged into on its serial console in the page. Environment:
// lib.cjs's, and
//   KXL_IMAGE   the host name of the guest to make
//   KXL_BRIDGE  the bridge its network interface joins
// The last line is one JSON object of what it measured.
'use strict';

const { check, shot, logIn, run } = require('./lib.cjs');

const name = process.env.KXL_IMAGE;
const bridge = process.env.KXL_BRIDGE;

async function fillForm(page) {
  await page.click('nav.tabs [data-view=image]');
  await page.locator('#image-form').waitFor({ state: 'visible' });
  await page.fill('#image-hostname', name);
  await page.fill('#image-memory', '512mb');
  await page.fill('#image-size', '2gb');
  await page.fill('#image-swap', '128mb');
  await page.fill('#image-ip', '10.0.9.2/24');
  await page.fill('#image-gateway', '10.0.9.1');
  await page.fill('#image-bridge', bridge);
  check(await page.isChecked('#image-genpass'), 'genpass is not the default');
  check(await page.isChecked('#image-start'), 'start when done is not the default');
}

// The guest's console in the page: its login prompt, root with the password, a command.
async function consoleLogin(page, password, result) {
  const card = page.locator(`[data-domain="${name}"]`);
  await card.locator('[data-action=console]').click();
  await page.evaluate(() => {
    window.terminalText = () => document.querySelector('#terminal .xterm-rows').innerText.replace(/\u00a0/g, ' ');
  });
  await page.locator('#console-status', { hasText: 'connected' }).waitFor();
  await page.locator('#terminal .xterm-helper-textarea').focus();
  // the getty may not run yet: Enter until it prompts
  const t0 = Date.now();
  for (;;) {
    await page.keyboard.press('Enter');
    try {
      await page.waitForFunction((n) => terminalText().includes(`${n} login:`), name, { timeout: 10000 });
      break;
    } catch (e) {
      if (Date.now() - t0 > 300000) throw e;
    }
  }
  result.login_prompt_s = (Date.now() - t0) / 1000;
  await page.keyboard.type('root');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Password: *$/m.test(terminalText()), null, { timeout: 60000 });
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => terminalText().includes(`root@${n}:~#`), name, { timeout: 120000 });
  await page.keyboard.type('echo "$(hostname)-$((6*7))"');
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => terminalText().split('\n').some((l) => l.trim() === `${n}-42`), name, { timeout: 60000 });
  await shot(page, 'image-console');
  result.console_tail = (await page.evaluate(() => terminalText())).split('\n').map((l) => l.trim()).filter((l) => l).slice(-3);
  await page.click('#console-close');
}

run('image', async ({ page }, result, step) => {
  step('log in');
  await logIn(page);
  step('the form');
  await fillForm(page);
  await shot(page, 'image-form', { fullPage: true });
  // every step the page showed
  await page.evaluate(() => {
    window.kxlSteps = [];
    const s = document.getElementById('image-step');
    new MutationObserver(() => window.kxlSteps.push(s.textContent)).observe(s, { childList: true, characterData: true, subtree: true });
  });
  step('create');
  const t0 = Date.now();
  await page.click('#image-submit');
  await page.locator('#image-job').waitFor({ state: 'visible', timeout: 10000 });
  await page.waitForFunction(() => ['done', 'failed'].includes(document.getElementById('image-form').dataset.state), null, { timeout: 600000 });
  result.create_s = (Date.now() - t0) / 1000;
  result.state = await page.getAttribute('#image-form', 'data-state');
  result.error = await page.locator('#image-error').innerText();
  result.steps = await page.evaluate(() => window.kxlSteps);
  result.summary = await page.locator('#image-summary').innerText();
  result.config_file = await page.getAttribute('#image-form', 'data-config');
  result.started = await page.getAttribute('#image-form', 'data-started');
  await shot(page, 'image', { fullPage: true });
  check(result.state === 'done', `create-image: ${result.error}`);
  const m = result.summary.match(/^Root Password\s*:\s+(\S+)/m);
  check(m, 'no root password in the summary');

  step('running on the dashboard');
  await page.click('nav.tabs [data-view=domains]');
  const card = page.locator(`[data-domain="${name}"]`);
  await card.locator('[data-field=state]', { hasText: 'running' }).waitFor({ timeout: 60000 });
  step('its console');
  await consoleLogin(page, m[1], result);
});
