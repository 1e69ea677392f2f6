import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import supertest from 'supertest';
import { errorWriter } from '../../src/http/error-writer.js';
import { opsPageRouter } from '../../src/http/ops-page.js';
import { silentLogger } from '../../src/logger.js';
import { buildOpsPage } from '../browser/build-page.js';
import { startTestService, type TestService } from './harness.js';
import { rawRequest } from './raw-http.js';

const TOKEN = 'ops-page-test-token';

function assertStrictHeaders(headers: Record<string, string>): void {
  const policy = headers['content-security-policy'] ?? '';
  assert.match(policy, /(^|; )script-src 'self'(;|$)/, policy);
  assert.match(policy, /(^|; )default-src 'none'(;|$)/, policy);
  assert.match(policy, /(^|; )frame-ancestors 'none'(;|$)/, policy);
  assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/, policy);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['x-frame-options'], 'DENY');
}

describe('the ops page (serving)', () => {
  let service: TestService;
  let port: number;
  before(async function () {
    this.timeout(120_000);
    buildOpsPage();
    service = await startTestService({ env: { JOB_SCHEDULER_API_TOKEN: TOKEN } });
    port = Number(new URL(service.request.get('/').url).port);
  });
  after(() => service?.close());

  it('when on (the default), GET /ops/ answers the page without a token, with a strict Content-Security-Policy and nosniff', async () => {
    const response = await service.request.get('/ops/').expect(200);
    assert.match(response.headers['content-type']!, /^text\/html; charset=utf-8/);
    assertStrictHeaders(response.headers);
    assert.match(response.text, /<script type="module" src="app\.js"><\/script>/);
    assert.doesNotMatch(response.text, /<script>(?!<)/, 'no inline script');
    assert.match(response.text, /<label for="token">API token<\/label>/);
  });

  it('when the API behind the page is called without the token, it still answers 401', async () => {
    const response = await service.request.get('/api/v1/batches').expect(401);
    assert.equal(response.body.reason, 'Unauthorized');
  });

  it('when /ops is asked without the slash, redirects to /ops/ (relative file names resolve under it)', async () => {
    const response = await service.request.get('/ops').expect(301);
    assert.equal(response.headers.location, '/ops/');
  });

  it('when the script and the style sheet are asked for, answers them with their types and the same strict headers', async () => {
    const script = await service.request.get('/ops/app.js').expect(200);
    assert.match(script.headers['content-type']!, /^text\/javascript; charset=utf-8/);
    assertStrictHeaders(script.headers);
    assert.match(script.text, /from '\.\/[a-z-]+\.js'/, 'the compiled module, importing its neighbours');
    const style = await service.request.get('/ops/style.css').expect(200);
    assert.match(style.headers['content-type']!, /^text\/css; charset=utf-8/);
    assertStrictHeaders(style.headers);
  });

  it('when a file the page does not have is asked for, answers 404 with a Status body and the strict headers', async () => {
    for (const url of ['/ops/nothing.js', '/ops/app.js.map', '/ops/src/app.ts', '/ops/index.html/x']) {
      const response = await service.request.get(url).expect(404);
      assert.equal(response.body.status, 'Failure', url);
      assert.equal(response.body.reason, 'NotFound', url);
      assert.equal(response.body.code, 404, url);
    }
    assertStrictHeaders((await service.request.get('/ops/nothing.js')).headers);
  });

  it('when a path climbs out of the page folder (plain, encoded, doubly encoded), answers 404 and never the file', async () => {
    const attempts = ['/ops/../package.json', '/ops/..%2fpackage.json', '/ops/%2e%2e%2fpackage.json', '/ops/%2e%2e/%2e%2e/package.json', '/ops/..%5cpackage.json', '/ops/%252e%252e%252fpackage.json', '/ops/..%2f..%2f..%2fetc%2fpasswd'];
    for (const target of attempts) {
      const answer = await rawRequest(port, { head: `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close` });
      assert.equal(answer.status, 404, target);
      assert.doesNotMatch(answer.body, /"scripts"|root:/, target);
      assert.equal(answer.json?.reason, 'NotFound', target);
    }
  });
});

describe('the ops page (settings and a missing build)', () => {
  it('when JOB_SCHEDULER_OPS_PAGE=false, /ops/ and its files answer 404', async function () {
    // The page's own headers are missing too: off is not "on but not built".
    const service = await startTestService({ env: { JOB_SCHEDULER_OPS_PAGE: 'false' } });
    try {
      for (const url of ['/ops/', '/ops/app.js', '/ops/style.css']) {
        const response = await service.request.get(url).expect(404);
        assert.equal(response.body.reason, 'NotFound', url);
        assert.equal(response.headers['content-security-policy'], undefined, `${url} is not the page's`);
      }
      await service.request.get('/api/v1/batches').expect(200);
    } finally {
      await service.close();
    }
  });

  it('when the page has not been built, /ops/ answers 404 saying to run npm run build', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'job-scheduler-ops-page-'));
    try {
      const app = express();
      app.use('/ops', opsPageRouter({ dir: empty }));
      app.use(errorWriter(silentLogger()));
      const response = await supertest(app).get('/ops/').expect(404);
      assert.equal(response.body.reason, 'NotFound');
      assert.match(response.body.message, /not built: run `npm run build`/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
