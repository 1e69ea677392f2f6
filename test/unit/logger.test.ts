import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { batchedLogger, type BatchedLines } from '../../src/logger.js';
import { requestContext } from '../../src/request-context.js';

/** A logger as createLogger builds it for standard output, writing into `writes` instead. */
function aBatchedLogger() {
  const writes: string[] = [];
  const logger = batchedLogger('info', new Writable({ write(chunk: Buffer, _e, done) { writes.push(chunk.toString('utf8')); done(); } }));
  const transport = logger.transports[0] as BatchedLines;
  return { logger, transport, writes, lines: () => writes.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('logger', () => {
  it('when several lines are logged in one turn, writes them once, in order, at the next turn', async () => {
    const { logger, writes, lines } = aBatchedLogger();
    for (let i = 0; i < 5; i++) logger.info('request', { index: i });
    logger.debug('below the level');
    assert.equal(writes.length, 0);
    await nextTurn();
    await nextTurn();
    assert.equal(writes.length, 1);
    assert.deepEqual(lines().map((line) => line.index), [0, 1, 2, 3, 4]);
    logger.warn('later');
    await nextTurn();
    await nextTurn();
    assert.equal(writes.length, 2);
    assert.equal(lines()[5]!.message, 'later');
  });

  it('when the level is changed, or a child logger writes, then the lines follow the level now and carry the child\'s fields', async () => {
    const { logger, lines } = aBatchedLogger();
    logger.level = 'warn';
    logger.info('dropped now');
    logger.warn('kept', { index: 1 });
    logger.level = 'debug';
    logger.child({ component: 'store' }).debug('kept too', { index: 2 });
    logger.log('nonsense' as 'info', 'a level nobody knows');
    await nextTurn();
    await nextTurn();
    assert.deepEqual(lines().map(({ level, message, index, component }) => ({ level, message, index, component })), [
      { level: 'warn', message: 'kept', index: 1, component: undefined },
      { level: 'debug', message: 'kept too', index: 2, component: 'store' },
    ]);
  });

  it('when closed with lines pending, writes them at once', () => {
    const { logger, transport, lines } = aBatchedLogger();
    logger.info('pending');
    transport.close();
    assert.deepEqual(lines().map((line) => line.message), ['pending']);
  });

  it('writes the level, the message, the fields, the service, the time and the request id of the request being served', async () => {
    const { logger, lines } = aBatchedLogger();
    requestContext.run({ requestId: 'req-1' }, () => logger.info('job ended', { jobName: 'a-b', status: 'Succeeded' }));
    await nextTurn();
    await nextTurn();
    const [line] = lines();
    assert.deepEqual({ ...line, timestamp: undefined }, { level: 'info', message: 'job ended', jobName: 'a-b', status: 'Succeeded', service: 'job-scheduler', requestId: 'req-1', timestamp: undefined });
    assert.match(String(line!.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('when given an error, writes its message and stack', async () => {
    const { logger, lines } = aBatchedLogger();
    logger.error(new Error('disk gone'));
    await nextTurn();
    await nextTurn();
    const [line] = lines();
    assert.equal(line!.message, 'disk gone');
    assert.match(String(line!.stack), /^Error: disk gone\n\s+at /);
  });

  it('when a field holds a cycle, still writes the line', async () => {
    const { logger, lines } = aBatchedLogger();
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    logger.warn('odd field', { cycle });
    await nextTurn();
    await nextTurn();
    assert.equal(lines()[0]!.message, 'odd field');
  });
});
