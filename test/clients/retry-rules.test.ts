import assert from 'node:assert/strict';
import { parseRetryAfter } from '../../packages/client/src/errors.js';
import { isRepeatable } from '../../packages/client/src/retry.js';

describe('the client\'s retry rules', function () {
  it('when Retry-After is seconds or an HTTP date, reads it as seconds; anything else is no advice', () => {
    const now = Date.parse('2026-11-22T10:15:00Z');
    assert.equal(parseRetryAfter('7', now), 7);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 10:15:30 GMT', now), 30);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 10:14:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  it('when a call may be repeated: reads, deletes and stops always; other posts only with an Idempotency-Key', () => {
    const url = 'http://127.0.0.1:1/api/v1';
    const table: Array<[string, string, Record<string, string>, boolean]> = [
      ['GET', '/jobs', {}, true],
      ['DELETE', '/batches/b', {}, true],
      ['POST', '/batches/b/jobs/j/stop', {}, true],
      ['POST', '/jobs/stop', {}, true],
      ['POST', '/batches', {}, false],
      ['POST', '/batches', { 'Idempotency-Key': 'k' }, true],
      ['POST', '/jobs/j/restart', {}, false],
      ['POST', '/batches/b/rerun-failed', {}, false],
      ['POST', '/jobs/j/copy', {}, false],
    ];
    for (const [method, path, headers, repeatable] of table) {
      assert.equal(isRepeatable(new Request(`${url}${path}`, { method, headers })), repeatable, `${method} ${path} ${JSON.stringify(headers)}`);
    }
  });
});
