import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { aJob, root, startTestService, type TestService, waitFor } from '../component/harness.js';
import { buildOpsPage } from './build-page.js';

const TOKEN = 'ops-page-browser-token';
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(root, 'test-artifacts/ops-page.png');
const auth = { Authorization: `Bearer ${TOKEN}` };

/** Waits (bounded) until the element's text matches, and answers it. */
async function textOf(locator: Locator, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return waitFor(async () => (await locator.textContent().catch(() => null)) ?? '', (text) => pattern.test(text), timeoutMs);
}

describe('the ops page in Chromium', function () {
  this.timeout(180_000);
  // The steps build on each other: after the first failure the rest would only wait out their bounds.
  this.bail(true);
  let service: TestService;
  let base: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let batch: string;
  const pageErrors: string[] = [];

  before(async () => {
    buildOpsPage();
    service = await startTestService({ env: { JOB_SCHEDULER_API_TOKEN: TOKEN } });
    base = new URL(service.request.get('/').url).origin;
    profile = mkdtempSync(path.join(tmpdir(), 'job-scheduler-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    // A CSP violation or a script error shows here: the page must run under its own strict policy.
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/401 \(Unauthorized\)/.test(message.text())) pageErrors.push(message.text());
    });
  });

  after(async () => {
    await context?.close();
    await service?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  afterEach(function () {
    // Each step also shows the page ran without a script error or a refused resource.
    if (this.currentTest?.state === 'passed') assert.deepEqual(pageErrors, []);
  });

  it('when opened, asks for the API token in a labelled password field, refuses a wrong one, and lists batches with the right one', async () => {
    await page.goto(`${base}/ops/`);
    const field = page.getByLabel('API token', { exact: true });
    await field.waitFor({ state: 'visible' });
    assert.equal(await field.getAttribute('type'), 'password');
    await field.fill('not-the-token');
    await field.press('Enter');
    await textOf(page.locator('#token-hint'), /refused that token/);
    await field.fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('heading', { name: 'Batches and jobs' }).waitFor();
    await textOf(page.locator('main'), /No batches\./);
    await textOf(page.locator('#live-state'), /Live updates on/);
    assert.equal(await page.evaluate('sessionStorage.getItem("job-scheduler.token")'), TOKEN);
  });

  it('when a batch is submitted, it appears live; opened with the keyboard, its progress by status shows what has ended', async () => {
    const jobs = [
      aJob({}, { jobId: 'ok-1' }),
      aJob({}, { jobId: 'ok-2' }),
      aJob({ exitCodes: [3, 0] }, { jobId: 'fail-1', backoffLimit: 0 }),
      aJob({ exitCodes: [3, 0] }, { jobId: 'fail-2', backoffLimit: 0 }),
      aJob({ sleeps: [600, 0] }, { jobId: 'slow-1' }),
      aJob({ sleeps: [600, 0] }, { jobId: 'slow-2' }),
    ];
    const created = await service.request.post('/api/v1/batches').set(auth).send({ batchId: 'browser', jobScheduleDescriptions: jobs }).expect(200);
    batch = created.body.name;
    // No reload: the live event stream brings the new batch into the list.
    const link = page.getByRole('link', { name: batch });
    await link.waitFor();
    await link.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Batch ${batch}` }).waitFor();
    const progress = page.locator('#batch-progress');
    assert.equal(await progress.getAttribute('aria-live'), 'polite');
    await textOf(progress, /^4 of 6 jobs ended: 2 Succeeded, 2 Failed; 2 Running$/);
  });

  it('when the jobs are filtered by status and job id, lists only those that match', async () => {
    await page.getByLabel('Status').selectOption('Failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const table = page.getByRole('table', { name: 'Jobs of the batch' });
    await waitFor(() => table.locator('tbody tr').count(), (rows) => rows === 2);
    assert.match((await table.textContent()) ?? '', /fail-1[\s\S]*fail-2/);
    assert.doesNotMatch((await table.textContent()) ?? '', /ok-1|slow-1/);
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Job id').fill('slow-1');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await waitFor(async () => (await table.textContent()) ?? '', (text) => /slow-1/.test(text) && !/fail-1/.test(text));
    assert.equal(await table.locator('tbody tr').count(), 1);
  });

  it("when a running job is opened, shows its timeline, effective settings and live log, and its Stop button stops it", async () => {
    await page.getByRole('table', { name: 'Jobs of the batch' }).getByRole('link').first().click();
    await page.getByRole('heading', { name: /^Job / }).waitFor();
    await textOf(page.locator('#log'), /"sha256":"[0-9a-f]{64}"/);
    await textOf(page.locator('#log-state'), /Following the log of attempt 0/);
    await textOf(page.getByRole('table', { name: /Transitions/ }), /Accepted[\s\S]*Running/);
    await textOf(page.locator('pre.settings'), /"backoffLimit"/);
    await page.getByRole('button', { name: 'Stop job' }).click();
    await textOf(page.locator('.outcome'), /Stop asked\./);
    await textOf(page.locator('#log-state'), /End of the log of attempt 0\./);
    await textOf(page.getByRole('table', { name: /Transitions/ }), /Stopped/);
  });

  it('when another job ends while the batch is shown, the progress reaches the end through the live events alone', async () => {
    await page.getByRole('link', { name: `← Batch ${batch}` }).click();
    const progress = page.locator('#batch-progress');
    await textOf(progress, /^5 of 6 jobs ended: 2 Succeeded, 2 Failed, 1 Stopped; 1 Running$/);
    const slow = await service.request.get(`/api/v1/batches/${batch}?jobId=slow-2`).set(auth).expect(200);
    await service.request.post(`/api/v1/batches/${batch}/jobs/${slow.body.jobStatuses[0].name}/stop`).set(auth).expect(200);
    await textOf(progress, /^6 of 6 jobs ended: 2 Succeeded, 2 Failed, 2 Stopped$/);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  // RESTART-MERGE: needs the restart helper's branch (POST /batches/{batchName}/rerun-failed). Until it is merged the
  // service answers that route with the generic "path ... not found" and this step is pending; after the merge it runs.
  it('when "Rerun failed jobs" is pressed, the failed and stopped jobs run again, each with a second attempt', async function () {
    const probe = await service.request.post('/api/v1/batches/batch-compute-20000101000000-aaaaaaaa/rerun-failed').set(auth);
    if (probe.status === 404 && /^path /.test(probe.body.message)) this.skip();
    await page.getByRole('button', { name: 'Rerun failed jobs' }).click();
    await textOf(page.locator('.outcome'), /^Rerun asked: /);
    const expected = { 'ok-1': 1, 'ok-2': 1, 'fail-1': 2, 'fail-2': 2, 'slow-1': 2, 'slow-2': 2 };
    const attempts = async () => {
      const read = await service.request.get(`/api/v1/batches/${batch}`).set(auth).expect(200);
      return Object.fromEntries(read.body.jobStatuses.map((j: { jobId: string; podStatuses: unknown[] }) => [j.jobId, j.podStatuses.length]));
    };
    await waitFor(attempts, (now) => isDeepStrictEqual(now, expected), 60_000);
    // A slow job may sleep again on its second attempt: the page's "Stop batch" ends whatever still runs.
    await page.getByRole('button', { name: 'Stop batch' }).click();
    await textOf(page.locator('.outcome'), /^Stop asked/);
    await textOf(page.locator('#batch-progress'), /^6 of 6 jobs ended/, 60_000);
    const table = page.getByRole('table', { name: 'Jobs of the batch' });
    await textOf(table, /fail-1(Succeeded|Failed|Stopped)2[\s\S]*slow-2(Succeeded|Failed|Stopped)2/);
    assert.deepEqual(await attempts(), expected, 'no job ran a third time, none that succeeded ran again');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});
