// The browser checker end to end in Debian's chromium, driven by playwright-core, against wasm/web/
// served from 127.0.0.1: paste, explanation, dropped files forming an inconsistent cluster, fixes
// (diff, copy, download), the plan of the move (steps, diffs, commands with copy buttons, blockers),
// and no request leaving the page after it loaded. Keeps a screenshot in wasm/test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, WEB, serveStatic } from './helpers.mjs';
import { CALICO_IPTABLES, IPVS_CONFIGMAP, NFTABLES_CONFIGMAP, NFTABLES_DIFF } from './fixtures.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TIMEOUT = 20_000;

const CALICO_NFTABLES = `apiVersion: operator.tigera.io/v1
kind: Installation
metadata:
  name: default
spec:
  calicoNetwork:
    linuxDataplane: Nftables
`;

const KUBE_PROXY_IPVS = IPVS_CONFIGMAP;

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install -y chromium)`;

let chromium;
let browser;
let server;

before(async () => {
  if (skip) return;
  ({ chromium } = await import('playwright-core'));
  server = await serveStatic(WEB);
  // launch() starts chromium with a fresh temporary --user-data-dir of its own (and deletes it).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens the page and records every request it makes. */
async function open(width = 1280, hash = '') {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const requests = [];
  const errors = [];
  page.on('request', (r) => requests.push({ url: r.url(), at: Date.now() }));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${server.url}/index.html${hash}`);
  await page.waitForFunction(() => ['ready', 'done', 'empty'].includes(document.body.dataset.state));
  const loadedAt = Date.now();
  return { page, context, requests, errors, loadedAt };
}

async function paste(page, text) {
  await page.getByTestId('input').fill(text);
}

test('paste a ConfigMap with mode: ipvs: the finding is on its line, highlighted, explained', { skip }, async () => {
  const { page, context, requests, errors, loadedAt } = await open();
  try {
    await paste(page, IPVS_CONFIGMAP);
    const finding = page.locator('[data-testid="finding"][data-code="KP201"]');
    await finding.waitFor();
    assert.equal(await finding.getAttribute('data-name'), 'ipvs-mode-deprecated');
    assert.equal(await finding.getAttribute('data-severity'), 'warning');
    assert.equal(await finding.getAttribute('data-line'), '10');
    // The line is highlighted behind the text.
    const highlight = page.locator('[data-testid="highlight"][data-line="10"]');
    assert.equal(await highlight.count(), 1);
    assert.equal((await highlight.textContent()).trim(), 'mode: ipvs');
    // The cluster picture shows kube-proxy in ipvs mode.
    assert.equal(await page.getByTestId('cluster').getAttribute('data-kube-proxy-mode'), 'ipvs');
    // Findings are grouped by severity, errors first.
    const groups = await page.locator('#findings section.group').evaluateAll((s) => s.map((e) => e.dataset.severity));
    assert.deepEqual(groups, [...groups].sort((a, b) => ['error', 'warning', 'info'].indexOf(a) - ['error', 'warning', 'info'].indexOf(b)));
    // Jump to the lines: the text area selects line 10.
    await finding.locator('button.where').click();
    const selected = await page.getByTestId('input').evaluate((t) => t.value.slice(t.selectionStart, t.selectionEnd));
    assert.equal(selected.trim(), 'mode: ipvs');
    // Open the explanation with the keyboard.
    await finding.getByTestId('explain-button').focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByTestId('explanation');
    await dialog.waitFor({ state: 'visible' });
    assert.equal(await dialog.getAttribute('data-code'), 'KP201');
    assert.match(await dialog.textContent(), /ipvs-mode-deprecated/);
    assert.match(await dialog.textContent(), /Fix/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // The version selector changes the target.
    await page.getByLabel('Kubernetes version').selectOption('1.43');
    await page.locator('[data-testid="finding"][data-code="KP201"][data-severity="error"]').waitFor();
    // Fix snippets are copyable.
    assert.ok((await page.getByTestId('snippet').count()) > 0);
    // A share link keeps the content in the fragment only, and restores it.
    await page.getByTestId('share').click();
    const url = new URL(page.url());
    assert.ok(url.hash.startsWith('#s='));
    assert.equal(url.search, '');
    const again = await open(1280, url.hash);
    try {
      assert.equal(await again.page.getByTestId('input').inputValue(), IPVS_CONFIGMAP);
      await again.page.locator('[data-testid="finding"][data-code="KP201"][data-severity="error"]').waitFor();
      assert.equal(await again.page.getByLabel('Kubernetes version').inputValue(), '1.43');
    } finally {
      await again.context.close();
    }
    const after = requests.filter((r) => r.at > loadedAt);
    assert.deepEqual(after, [], 'no request after load');
    const foreign = requests.filter((r) => !r.url.startsWith(server.url) && !r.url.startsWith('data:'));
    assert.deepEqual(foreign, [], 'only the test server is contacted');
    assert.deepEqual(errors, []);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-ipvs.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('drop two files that together form an inconsistent cluster: the consistency finding', { skip }, async () => {
  const { page, context, requests, errors, loadedAt } = await open();
  try {
    await page.getByTestId('drop-zone').evaluate(
      (zone, files) => {
        const dt = new DataTransfer();
        for (const [name, text] of files) dt.items.add(new File([text], name, { type: 'application/yaml' }));
        zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      [
        ['installation.yaml', CALICO_NFTABLES],
        ['kube-proxy.yaml', KUBE_PROXY_IPVS],
      ],
    );
    const consistency = page.locator('[data-testid="finding"][data-code^="CX"]');
    await consistency.first().waitFor();
    const codes = await consistency.evaluateAll((els) => els.map((e) => `${e.dataset.code} ${e.dataset.name} ${e.dataset.file}`));
    assert.ok(codes.some((c) => c.includes('kube-proxy-ipvs-with-calico-nftables')), codes.join('\n'));
    const cluster = page.getByTestId('cluster');
    assert.equal(await cluster.getAttribute('data-kube-proxy-mode'), 'ipvs');
    assert.equal(await cluster.getAttribute('data-calico-dataplane'), 'Nftables');
    // Both files are tabs; a finding in the other file switches to it.
    assert.equal(await page.locator('[role="tab"][data-file]').count(), 2);
    const kp201 = page.locator('[data-testid="finding"][data-code="KP201"]');
    await kp201.locator('button.where').click();
    assert.equal(await page.locator('[role="tab"][aria-selected="true"]').getAttribute('data-file'), 'kube-proxy.yaml');
    assert.deepEqual(requests.filter((r) => r.at > loadedAt), [], 'no request after load');
    assert.deepEqual(errors, []);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-cluster.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('phone width: controls are labelled and usable, nothing overflows the page', { skip }, async () => {
  const { page, context } = await open(375);
  try {
    await paste(page, IPVS_CONFIGMAP);
    await page.locator('[data-testid="finding"][data-code="KP201"]').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    // Every form control has an accessible label.
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('textarea, select, input:not([type=file])')].filter((c) => c.labels.length === 0 && !c.getAttribute('aria-label')).map((c) => c.id),
    );
    assert.deepEqual(unlabelled, []);
    // The explanation button is reachable with Tab.
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.dataset.testid === 'explain-button');
    }
    assert.ok(reached, 'the explain button is reachable with the keyboard');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-phone.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('fixes: the finding names its fix; the diff, copy and download give the fixed file', { skip }, async () => {
  const { page, context, requests, errors, loadedAt } = await open();
  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await paste(page, IPVS_CONFIGMAP);
    const finding = page.locator('[data-testid="finding"][data-code="KP201"]');
    await finding.waitFor();
    const fix = finding.getByTestId('fix');
    assert.equal(await fix.getAttribute('data-applicability'), 'unsafe');
    assert.equal((await fix.textContent()).replace(/\s+/g, ' ').trim(), 'Fix: Set mode to nftables unsafe');
    assert.equal(await page.getByTestId('fix-file').textContent(), 'pasted.yaml');
    // Safe fixes only: KP201's is unsafe, so the file stays as it is, and the page says why.
    const diff = page.getByTestId('fix-diff');
    assert.equal(await diff.isVisible(), false);
    await page.getByTestId('fix-diff-button').click();
    await diff.waitFor({ state: 'visible' });
    assert.equal(await diff.getAttribute('data-changed'), 'false');
    assert.equal(await diff.textContent(), 'The fixes leave this file as it is.');
    assert.match(await page.getByTestId('fix-summary').textContent(), /Unsafe fixes are left out/);
    // With unsafe fixes: the unified diff of the new mode.
    await page.getByTestId('fix-unsafe').check();
    await page.locator('[data-testid="fix-diff"][data-changed="true"]').waitFor();
    assert.equal(await diff.textContent(), NFTABLES_DIFF.replaceAll('cm.yaml', 'pasted.yaml'));
    assert.equal(await diff.locator('.add').textContent(), '+    mode: nftables');
    assert.equal(await diff.locator('.del').textContent(), '-    mode: ipvs');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-fixes.png'), fullPage: true });
    assert.match(await page.getByTestId('fix-summary').textContent(), /^1 fix applied to pasted\.yaml: KP201 Set mode to nftables \(unsafe\)\./);
    // Download: a Blob behind a link named after the file, holding the fixed text.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('fix-download').click()]);
    assert.equal(download.suggestedFilename(), 'pasted.yaml');
    assert.equal(readFileSync(await download.path(), 'utf8'), NFTABLES_CONFIGMAP);
    assert.match(await page.getByTestId('fix-download-link').getAttribute('href'), /^blob:/);
    // Copy: the fixed text on the clipboard.
    await page.getByTestId('fix-copy').click();
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Fixed pasted.yaml copied'));
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), NFTABLES_CONFIGMAP);
    // The text area is not changed by any of this; editing it updates the open diff.
    assert.equal(await page.getByTestId('input').inputValue(), IPVS_CONFIGMAP);
    await paste(page, NFTABLES_CONFIGMAP);
    await page.locator('[data-testid="fix-diff"][data-changed="false"]').waitFor();
    assert.deepEqual(requests.filter((r) => r.at > loadedAt && !r.url.startsWith('blob:')), [], 'no request after load');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('plan the move: pasted files, a target, numbered steps with diffs, commands to copy and checks; blockers first', { skip }, async () => {
  const { page, context, requests, errors, loadedAt } = await open();
  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    // Two documents pasted together; a comment with markup must stay text.
    const kubeProxy = IPVS_CONFIGMAP.replace('    mode: ipvs\n', '    # <b id="injected">not markup</b>\n    mode: ipvs\n');
    await paste(page, `${kubeProxy}---\n${CALICO_IPTABLES}`);
    await page.locator('[data-testid="finding"][data-code="KP201"]').waitFor();
    assert.equal(await page.getByTestId('plan').isVisible(), false, 'no plan until asked');
    await page.getByLabel('Move to').selectOption('nftables');
    await page.getByTestId('plan-button').click();
    const planBox = page.locator('[data-testid="plan"][data-target="nftables"]');
    await planBox.waitFor();
    const steps = planBox.getByTestId('plan-step');
    const count = await steps.count();
    assert.ok(count >= 2, `${count} steps`);
    const titles = await steps.locator('h3').allTextContents();
    assert.equal(titles[0], `Step 1 of ${count}: Switch kube-proxy to nftables mode`);
    assert.equal(titles[1], `Step 2 of ${count}: Switch Calico's dataplane to Nftables`);
    assert.equal(await planBox.getByTestId('plan-blockers').count(), 0);
    assert.match(await planBox.getByTestId('plan-start').textContent(), /^From: kube-proxy: ipvs/);
    // Step 1: why, the diff of the file (markup shown as text), the commands, the check.
    const first = steps.nth(0);
    assert.ok((await first.getByTestId('plan-why').textContent()).length > 0);
    const diff = first.getByTestId('plan-diff');
    assert.equal(await diff.locator('.del').allTextContents().then((l) => l.includes('-    mode: ipvs')), true);
    assert.equal(await diff.locator('.add').allTextContents().then((l) => l.includes('+    mode: nftables')), true);
    assert.match(await diff.textContent(), /# <b id="injected">not markup<\/b>/);
    assert.equal(await page.locator('#injected').count(), 0, 'user text is never parsed as HTML');
    assert.equal(await first.getByTestId('plan-change').getAttribute('data-file'), 'pasted.yaml');
    const verify = first.locator('[data-testid="plan-command"][data-kind="verify"]');
    assert.ok((await verify.getByTestId('plan-expect').allTextContents()).includes('Expect: Using nftables Proxier'));
    assert.ok((await first.getByTestId('plan-rollback').textContent()).startsWith('Roll back'));
    for (const check of await planBox.getByTestId('plan-check').all()) {
      assert.equal(await check.getAttribute('data-errors'), '0');
      assert.match(await check.textContent(), /No error-level consistency finding/);
    }
    assert.equal(await planBox.getByTestId('plan-result').getAttribute('data-reachable'), 'true');
    // Copy a command: the button puts exactly the command on the clipboard, and says so.
    const restart = 'kubectl -n kube-system rollout restart daemonset/kube-proxy';
    const apply = first.locator('[data-testid="plan-command"][data-kind="apply"]').filter({ hasText: restart });
    const button = apply.getByRole('button', { name: `Copy the apply command ${restart}` });
    await button.click();
    await page.waitForFunction((cmd) => document.getElementById('status').textContent === `Copied the apply command ${cmd} to the clipboard.`, restart);
    assert.equal(await button.textContent(), 'Copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), restart);
    // Copy a diff: the unified diff of the step's file.
    await first.getByRole('button', { name: 'Copy the diff of pasted.yaml in step 1' }).click();
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Copied the diff of pasted.yaml'));
    const copiedDiff = await page.evaluate(() => navigator.clipboard.readText());
    assert.ok(copiedDiff.startsWith('--- a/pasted.yaml\n+++ b/pasted.yaml\n'), copiedDiff);
    assert.ok(copiedDiff.includes('\n+    mode: nftables\n'), copiedDiff);
    // The whole plan as Markdown.
    await page.getByTestId('plan-copy').click();
    await page.waitForFunction(() => document.getElementById('status').textContent === 'The plan is on the clipboard as Markdown.');
    assert.ok((await page.evaluate(() => navigator.clipboard.readText())).startsWith('# Move to nftables\n'));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-plan.png'), fullPage: true });
    // Another target re-plans.
    await page.getByLabel('Move to').selectOption('iptables');
    await page.locator('[data-testid="plan"][data-target="iptables"]').waitFor();
    assert.equal(await page.getByTestId('plan-step').first().locator('h3').textContent().then((t) => t.replace(/^Step 1 of \d+: /, '')), 'Switch kube-proxy to iptables mode');
    // A Calico without the nftables dataplane: the blocker comes first and there are no steps.
    await page.getByLabel('Calico version').selectOption('3.28');
    await page.getByLabel('Move to').selectOption('nftables');
    const blocked = page.locator('[data-testid="plan"][data-target="nftables"][data-blockers="1"]');
    await blocked.waitFor();
    assert.match(await blocked.getByTestId('plan-blocker').textContent(), /^Calico 3\.28 has no nftables dataplane.*Instead: Upgrade Calico/);
    assert.equal(await blocked.getByTestId('plan-step').count(), 0);
    assert.equal(await blocked.getByTestId('plan-result').getAttribute('data-reachable'), 'false');
    // Editing the input re-plans: a cluster already on nftables has nothing to do.
    await page.getByLabel('Calico version').selectOption('');
    await paste(page, `${NFTABLES_CONFIGMAP}---\n${CALICO_IPTABLES.replace('Iptables', 'Nftables')}`);
    await page.locator('[data-testid="plan"][data-steps="0"][data-blockers="0"]').waitFor();
    assert.match(await page.getByTestId('plan-no-steps').textContent(), /already run nftables/);
    assert.deepEqual(requests.filter((r) => r.at > loadedAt), [], 'no request after load');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
