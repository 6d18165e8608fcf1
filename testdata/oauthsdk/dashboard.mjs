// The dashboard in headless Chromium (playwright-core), as a person uses
// it: sign in on the consent page with the one-time code, add a memory,
// find it by search, open its detail with history, pause an app, create
// and revoke an API key, view an experiment's chart; every page is
// screenshotted and checked with axe-core (every finding is reported; the
// Go test fails on serious or critical ones). Also: phone width, dark
// mode, keyboard focus, CSP violations, bytes of the first page load.
// Run by cmd/engramd/dashboard_browser_test.go; prints one JSON line.
//
// env: ENGRAM_URL, ENGRAM_SIGNIN_CODE, CHROMIUM, SCREENSHOT_DIR, EXPERIMENT_NAME
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const base = process.env.ENGRAM_URL;
const shots = process.env.SCREENSHOT_DIR;
const f = { pages: {}, cspViolations: [], consoleErrors: [] };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// check screenshots the page and runs axe on it (axe is evaluated through
// the DevTools protocol, so the page's CSP, which allows no inline
// script, stays in force for the page's own code).
async function check(page, name) {
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
  await page.evaluate(axeSource);
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, target: v.nodes[0]?.target }));
  });
  f.pages[name] = { url: page.url().replace(base, ''), title: await page.title(), violations: res };
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) f.cspViolations.push(m.text());
    else if (m.type() === 'error') f.consoleErrors.push(m.text());
  });
  page.on('dialog', (d) => d.accept());

  // First load, signed out: the bytes transferred (compressed).
  await page.goto(base + '/');
  f.firstLoadBytes = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation').map((e) => e.transferSize);
    const res = performance.getEntriesByType('resource').map((e) => e.transferSize);
    return [...nav, ...res].reduce((a, b) => a + b, 0);
  });
  await check(page, '01-signin');
  // Keyboard: the first Tab lands on the skip link.
  await page.keyboard.press('Tab');
  f.firstFocus = await page.evaluate(() => document.activeElement?.textContent?.trim());

  await Promise.all([page.waitForURL(/\/authorize\?/), page.click('#signin')]);
  await check(page, '02-consent');
  f.consentTitle = await page.title();
  await page.fill('#secret', process.env.ENGRAM_SIGNIN_CODE);
  await Promise.all([page.waitForURL(base + '/ui/'), page.click('#allow')]);
  f.emptyState = (await page.textContent('.empty'))?.trim();
  await check(page, '03-memories-empty');
  // The signed-in page's own load, cache cold: everything it transfers.
  {
    const cold = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await cold.addCookies(await context.cookies());
    const p2 = await cold.newPage();
    await p2.goto(base + '/ui/');
    f.signedInLoadBytes = await p2.evaluate(() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
      .reduce((a, e) => a + e.transferSize, 0));
    await cold.close();
  }

  // Add a memory.
  await page.fill('#add-text', 'The browser test remembers that Grace takes her coffee black');
  await page.fill('#add-app', 'browser');
  await page.fill('#add-cats', 'preferences');
  await Promise.all([page.waitForURL(/\/ui\/memories\//), page.click('#add')]);
  f.addedNotice = (await page.textContent('.notice'))?.trim();
  f.detailURL = page.url().replace(base, '').split('?')[0];
  await check(page, '04-memory-detail');

  // Edit it, so its history has two entries.
  await page.fill('#edit-text', 'The browser test remembers that Grace takes her coffee black, no sugar');
  await Promise.all([page.waitForURL(/notice=/), page.click('#save')]);
  f.historyItems = await page.locator('#history li').count();

  // Find it by search, open it from the results.
  await page.goto(base + '/ui/');
  await page.fill('#q', 'how does Grace drink coffee');
  await Promise.all([page.waitForURL(/q=/), page.click('#search')]);
  await check(page, '05-search');
  await Promise.all([page.waitForURL(/\/ui\/memories\//), page.click(`a[href="${f.detailURL}"]`)]);
  f.foundBySearch = page.url().replace(base, '').startsWith(f.detailURL);
  f.detailText = (await page.textContent('#memory-text'))?.trim();

  // Pause the app.
  await page.goto(base + '/ui/apps');
  await Promise.all([page.waitForURL(/notice=/), page.click('button[aria-label="Pause browser"]')]);
  f.appNotice = (await page.textContent('.notice'))?.trim();
  f.resumeOffered = await page.locator('button[aria-label="Resume browser"]').count();
  await check(page, '06-apps');

  // Create an API key (shown once), then revoke it.
  await page.goto(base + '/ui/keys');
  await page.fill('#key-name', 'browser test key');
  await page.click('#create-key');
  await page.waitForSelector('#new-key-value');
  f.keyShown = (await page.textContent('#new-key-value'))?.trim();
  await check(page, '07-key-created');
  const keyWorks = await fetch(base + '/api/v1/memories', { headers: { Authorization: 'Token ' + f.keyShown } });
  f.keyStatusBefore = keyWorks.status;
  await page.goto(base + '/ui/keys');
  await Promise.all([page.waitForURL(/notice=/), page.click('button[aria-label="Revoke key browser test key"]')]);
  f.keyNotice = (await page.textContent('.notice'))?.trim();
  const keyRevoked = await fetch(base + '/api/v1/memories', { headers: { Authorization: 'Token ' + f.keyShown } });
  f.keyStatusAfter = keyRevoked.status;
  await check(page, '08-keys');

  // The experiment's chart.
  await page.goto(base + '/ui/experiments');
  await check(page, '09-experiments');
  await Promise.all([page.waitForURL(/\/ui\/experiments\//), page.click(`text=${process.env.EXPERIMENT_NAME}`)]);
  f.chartMarks = await page.locator('#ci-chart svg circle').count();
  f.variantRows = await page.locator('#variants tbody tr').count();
  f.pValue = (await page.locator('#variants tbody tr').nth(1).locator('td').last().textContent()).trim();
  await check(page, '10-experiment');

  for (const [name, p] of [['11-stats', '/ui/stats'], ['12-sessions', '/ui/sessions?id=nothing-here'], ['13-install', '/ui/install'], ['14-account', '/ui/account']]) {
    await page.goto(base + p);
    await check(page, name);
  }
  f.statsBars = 0;
  await page.goto(base + '/ui/stats');
  f.statsBars = await page.locator('svg.chart rect.bar').count();

  // Phone width: nothing scrolls sideways.
  await page.setViewportSize({ width: 375, height: 812 });
  await page.goto(base + '/ui/');
  f.phoneOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await check(page, '15-phone');
  // Dark mode follows the system's preference.
  await page.setViewportSize({ width: 1280, height: 900 });
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(base + '/ui/');
  f.darkBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  f.lightBackground = light;
  await check(page, '16-dark');
} finally {
  await browser.close();
}
console.log(JSON.stringify(f));
