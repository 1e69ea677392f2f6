import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import type { StoreFault, StoreHealth } from '../../src/store/store.js';
import { faultOf, refusalOf, StoreGoneError, WriteHealth } from '../../src/store/write-health.js';
import { FakeTimers } from './fake-timers.js';

const sqliteError = (code: string) => Object.assign(new Error(code), { code });

/** A write that fails with `failWith` until it is cleared, reporting to the health like the store does. */
function aFlakyWrite() {
  const timers = new FakeTimers();
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    stream: new Writable({ write(chunk: Buffer, _e, done) { lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>); done(); } }),
  });
  const counted: StoreFault[] = [];
  const flaky = { failWith: undefined as Error | undefined, attempts: 0 };
  const health: WriteHealth = new WriteHealth({
    logger,
    timers,
    observer: { storeWriteFailed: (cause) => counted.push(cause) },
    retryMs: 100,
    maxRetryMs: 1000,
    retry: () => write(),
  });
  const write = () => {
    flaky.attempts += 1;
    if (flaky.failWith) health.failed(flaky.failWith);
    else health.succeeded();
  };
  const changes: StoreHealth[] = [];
  health.onChange((h) => changes.push(h));
  return { health, timers, lines, counted, flaky, write, changes };
}

describe('WriteHealth', () => {
  it('when writes keep failing, retries with doubling delays capped at the maximum, and stops once one succeeds', () => {
    const { health, timers, flaky, write } = aFlakyWrite();
    flaky.failWith = sqliteError('SQLITE_FULL');
    write();
    timers.advance(100 + 200 + 400 + 800 + 1000 + 1000);
    assert.deepEqual(timers.delays, [100, 200, 400, 800, 1000, 1000, 1000]);
    assert.equal(flaky.attempts, 7);
    flaky.failWith = undefined;
    timers.advance(1000);
    assert.equal(health.writable, true);
    assert.equal(timers.armed, 0, 'no retry is left armed after a success');
    timers.advance(60_000);
    assert.equal(flaky.attempts, 8);
  });

  it('when a fault lasts many retries, logs one line when it starts and one when it ends, and counts every failed write', () => {
    const { timers, lines, counted, flaky, write, changes } = aFlakyWrite();
    flaky.failWith = sqliteError('SQLITE_BUSY');
    write();
    timers.advance(5000);
    flaky.failWith = undefined;
    timers.advance(1000);
    const messages = lines.map((line) => line.message);
    assert.deepEqual(messages, ['store cannot write', 'store writable again']);
    assert.equal(lines[0]!.cause, 'locked');
    assert.ok(counted.length >= 5 && counted.every((cause) => cause === 'locked'), `counted ${counted.join(',')}`);
    assert.deepEqual(changes.map((h) => [h.writable, h.cause]), [[false, 'locked'], [true, undefined]]);
  });

  it('when the cause of a fault changes, says so once more', () => {
    const { health, timers, lines, flaky, write } = aFlakyWrite();
    flaky.failWith = sqliteError('SQLITE_BUSY');
    write();
    flaky.failWith = sqliteError('SQLITE_FULL');
    timers.advance(100);
    timers.advance(200);
    assert.deepEqual(lines.map((line) => line.cause), ['locked', 'disk-full']);
    assert.equal(health.current.cause, 'disk-full');
  });

  it('when an I/O error comes with a disk that has no space left, the fault is disk-full', () => {
    const health = new WriteHealth({ logger: createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) }), timers: new FakeTimers(), retry: () => {}, isDiskFull: () => true });
    assert.equal(health.failed(sqliteError('SQLITE_IOERR_SHMSIZE')), 'disk-full');
    assert.equal(health.failed(sqliteError('SQLITE_BUSY')), 'locked');
  });

  it('when closed, no retry runs any more', () => {
    const { health, timers, flaky, write } = aFlakyWrite();
    flaky.failWith = sqliteError('SQLITE_IOERR_WRITE');
    write();
    health.close();
    timers.advance(10_000);
    assert.equal(flaky.attempts, 1);
  });
});

describe('faultOf', () => {
  const cases: Array<[string, StoreFault | undefined]> = [
    ['SQLITE_FULL', 'disk-full'],
    ['SQLITE_BUSY', 'locked'],
    ['SQLITE_BUSY_SNAPSHOT', 'locked'],
    ['SQLITE_LOCKED', 'locked'],
    ['SQLITE_IOERR', 'io'],
    ['SQLITE_IOERR_FSYNC', 'io'],
    ['SQLITE_CANTOPEN', 'io'],
    ['SQLITE_READONLY', 'io'],
    ['SQLITE_CORRUPT', 'io'],
    ['SQLITE_READONLY_DBMOVED', 'gone'],
    ['SQLITE_CONSTRAINT_UNIQUE', undefined],
    ['SQLITE_BUSYNESS', undefined],
    ['ENOENT', undefined],
  ];
  for (const [code, fault] of cases) {
    it(`when SQLite fails with ${code}, the fault is ${fault ?? 'none (not a fault of the store)'}`, () => {
      assert.equal(faultOf(sqliteError(code)), fault);
    });
  }

  it('when the file was removed, the fault is gone; a plain error is no fault', () => {
    assert.equal(faultOf(new StoreGoneError()), 'gone');
    assert.equal(faultOf(new Error('x')), undefined);
    assert.equal(faultOf(undefined), undefined);
  });
});

describe('refusalOf', () => {
  it('when the disk is full, answers 507 InsufficientStorage telling to free space; other faults answer 503', () => {
    const full = refusalOf('disk-full');
    assert.equal(full.code, 507);
    assert.equal(full.reason, 'InsufficientStorage');
    assert.match(full.message, /disk is full; free space/);
    for (const cause of ['locked', 'gone', 'io'] as const) {
      const refusal = refusalOf(cause);
      assert.equal(refusal.code, 503, cause);
      assert.equal(refusal.reason, 'ServiceUnavailable', cause);
    }
  });
});
