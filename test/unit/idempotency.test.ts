import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import Database from 'better-sqlite3';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ApiError } from '../../src/core/errors.js';
import { canonicalJson, checkIdempotencyKey, decideKeyed, type IdempotencyRecord, keyHash, RequestFingerprint, submissionKey } from '../../src/core/idempotency.js';
import { fingerprintOf, IdempotencyKeys } from '../../src/scheduler/idempotency.js';
import { IdempotencyTable } from '../../src/store/idempotency-table.js';
import { keyAnnotation, readKeyAnnotation } from '../../src/runtimes/kubernetes/idempotency-keys.js';

const refusedWith = (code: number) => (error: unknown) => error instanceof ApiError && error.code === code;

describe('idempotency keys: the pure rules', () => {
  const cases: Array<[string, string | string[] | undefined, 'ok' | 'absent' | 400]> = [
    ['absent', undefined, 'absent'],
    ['one character', 'k', 'ok'],
    ['255 printable characters', '~'.repeat(255), 'ok'],
    ['a UUID', '3f2b8e0c-6a1d-4f7e-9c55-0d2e4b1a7c90', 'ok'],
    ['with spaces', 'order 42 retry', 'ok'],
    ['empty', '', 400],
    ['256 characters', 'a'.repeat(256), 400],
    ['a tab', 'a\tb', 400],
    ['not ASCII', 'clé', 400],
    ['sent twice', ['a', 'b'], 400],
  ];
  for (const [name, value, expected] of cases) {
    it(`when the key is ${name}, ${expected === 400 ? 'refuses it with 400' : expected === 'ok' ? 'takes it' : 'answers none'}`, () => {
      if (expected === 400) assert.throws(() => checkIdempotencyKey(value), refusedWith(400));
      else assert.equal(checkIdempotencyKey(value), expected === 'ok' ? value : undefined);
    });
  }

  it('hashes a key per source, never keeping its text, in 40 hex characters', () => {
    assert.match(keyHash('header', 'k'), /^[0-9a-f]{40}$/);
    assert.notEqual(keyHash('header', 'k'), keyHash('batchId', 'k'));
    assert.equal(keyHash('header', 'k'), keyHash('header', 'k'));
  });

  it('takes the header first, then a batchId only where the component makes it the key', () => {
    assert.equal(submissionKey({ header: 'h', batchId: 'b', batchIdIsKey: true })?.source, 'header');
    assert.deepEqual(submissionKey({ header: undefined, batchId: 'b', batchIdIsKey: true }), { hash: keyHash('batchId', 'b'), source: 'batchId' });
    assert.equal(submissionKey({ header: undefined, batchId: 'b', batchIdIsKey: false }), undefined);
    assert.equal(submissionKey({ header: undefined, batchId: '', batchIdIsKey: true }), undefined);
  });

  it('writes canonical JSON: keys sorted at every level, undefined members left out, arrays kept in order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: null }, u: undefined }), '{"a":{"c":null,"d":[2,1]},"b":1}');
  });

  it('gives the same fingerprint to the same request with its fields in another order, and another to any change', () => {
    const one = new RequestFingerprint('batch').add({ batchId: 'x', labels: { a: '1' } }).add({ payload: 'p', jobId: 'j' }).digest();
    const reordered = new RequestFingerprint('batch').add({ labels: { a: '1' }, batchId: 'x' }).add({ jobId: 'j', payload: 'p' }).digest();
    assert.equal(one, reordered);
    assert.notEqual(one, new RequestFingerprint('batch').add({ batchId: 'x', labels: { a: '1' } }).add({ payload: 'q', jobId: 'j' }).digest());
    assert.notEqual(one, new RequestFingerprint('job').add({ batchId: 'x', labels: { a: '1' } }).add({ payload: 'p', jobId: 'j' }).digest());
  });

  it('fingerprints a batch of jobs the same whether hashed whole or in parts, and tells a job from a one-job batch', async () => {
    const jobs = Array.from({ length: 2500 }, (_, i) => ({ jobId: `j${i}` }));
    const whole = new RequestFingerprint('batch').add({});
    for (const job of jobs) whole.add(job);
    assert.equal(await fingerprintOf('batch', { jobScheduleDescriptions: jobs }), whole.digest());
    assert.notEqual(await fingerprintOf('job', { jobScheduleDescriptions: [{}] }), await fingerprintOf('batch', { jobScheduleDescriptions: [{}] }));
  });

  const record: IdempotencyRecord = { keyHash: 'k', fingerprint: 'f', batchName: 'batch-a', expires: 1000 };
  const decisions: Array<[string, IdempotencyRecord | undefined, string, number, string]> = [
    ['no record', undefined, 'f', 0, 'create'],
    ['the same body', record, 'f', 999, 'replay'],
    ['another body', record, 'g', 999, 'mismatch'],
    ['an expired record, the same body', record, 'f', 1000, 'create'],
    ['an expired record, another body', record, 'g', 5000, 'create'],
  ];
  for (const [name, found, fingerprint, now, expected] of decisions) {
    it(`when a key comes with ${name}, decides ${expected}`, () => {
      assert.equal(decideKeyed(found, fingerprint, now).kind, expected);
    });
  }
});

describe('idempotency keys in memory (the scheduler\'s)', () => {
  let now = 0;
  const keys = () => new IdempotencyKeys({ windowMs: 1000, now: () => new Date(now) });
  const key = { hash: 'h', source: 'header' as const };
  beforeEach(() => {
    now = 10_000;
  });

  it('creates once, replays the same fingerprint, refuses another with 422, and forgets the key after its window', async () => {
    const store = keys();
    let created = 0;
    const create = async () => `batch-${++created}`;
    assert.deepEqual(await store.submit(key, 'f', create), { batchName: 'batch-1', replayed: false });
    assert.deepEqual(await store.submit(key, 'f', create), { batchName: 'batch-1', replayed: true });
    await assert.rejects(store.submit(key, 'g', create), refusedWith(422));
    now += 1000;
    assert.deepEqual(await store.submit(key, 'g', create), { batchName: 'batch-2', replayed: false });
    assert.equal(store.size, 1, 'the expired key was dropped');
  });

  it('when requests with one key overlap, runs one creation and answers the others with its batch', async () => {
    const store = keys();
    let release!: () => void;
    let created = 0;
    const create = () => new Promise<string>((resolve) => {
      created++;
      release = () => resolve('batch-1');
    });
    const answers = Promise.all([store.submit(key, 'f', create), store.submit(key, 'f', create), store.submit(key, 'g', create).catch((error: unknown) => error)]);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const [first, second, third] = await answers;
    assert.equal(created, 1);
    assert.deepEqual(first, { batchName: 'batch-1', replayed: false });
    assert.deepEqual(second, { batchName: 'batch-1', replayed: true });
    assert.ok(refusedWith(422)(third));
  });

  it('when the first creation fails, a waiting request with the key creates the batch itself', async () => {
    const store = keys();
    const failing = store.submit(key, 'f', () => Promise.reject(ApiError.unavailable('down')));
    const waiting = store.submit(key, 'f', async () => 'batch-2');
    await assert.rejects(failing, refusedWith(503));
    assert.deepEqual(await waiting, { batchName: 'batch-2', replayed: false });
  });

  it('loads what a runtime kept, leaving out expired keys', async () => {
    const store = keys();
    store.load([{ keyHash: 'old', fingerprint: 'f', batchName: 'a', expires: now }, { keyHash: 'h', fingerprint: 'f', batchName: 'b', expires: now + 1 }]);
    assert.equal(store.size, 1);
    assert.deepEqual(await store.submit(key, 'f', async () => 'new'), { batchName: 'b', replayed: true });
  });
});

describe('idempotency keys stored', () => {
  it('in SQLite: keeps every key until one inserted later finds it expired', () => {
    const db = new Database(':memory:');
    try {
      const table = new IdempotencyTable(db);
      table.insert({ keyHash: 'a', fingerprint: 'f', batchName: 'batch-a', expires: 100 }, 0);
      table.insert({ keyHash: 'b', fingerprint: 'f', batchName: 'batch-b', expires: 300 }, 50);
      assert.deepEqual(table.all().map((row) => row.keyHash), ['a', 'b']);
      table.insert({ keyHash: 'c', fingerprint: 'f', batchName: 'batch-c', expires: 400 }, 100);
      assert.deepEqual(table.all(), [
        { keyHash: 'b', fingerprint: 'f', batchName: 'batch-b', expires: 300 },
        { keyHash: 'c', fingerprint: 'f', batchName: 'batch-c', expires: 400 },
      ]);
    } finally {
      db.close();
    }
  });

  it('on Kubernetes: an annotation reads back as the record, and a damaged one as none', () => {
    const record: IdempotencyRecord = { keyHash: 'k', fingerprint: 'f', batchName: 'batch-a', expires: 123 };
    const object = (value: string) => ({ metadata: { annotations: { 'job-scheduler.io/idempotency': value } } });
    assert.deepEqual(readKeyAnnotation(object(keyAnnotation(record)), 'batch-a'), record);
    assert.equal(readKeyAnnotation(object('{not json'), 'batch-a'), undefined);
    assert.equal(readKeyAnnotation(object('{"k":1}'), 'batch-a'), undefined);
    assert.equal(readKeyAnnotation({ metadata: {} }, 'batch-a'), undefined);
  });
});

describe('the API document\'s examples of idempotent submission and dry run', () => {
  const document = parse(readFileSync(new URL('../../api/openapi.yaml', import.meta.url), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...document, $id: 'api' });
  const answers = (path: string) => document.paths[path].post.responses['200'].content['application/json'] as { examples: Record<string, { value: unknown }> };
  const examples = [
    ...Object.entries(answers('/api/v1/jobs').examples).map(([name, { value }]) => [`POST /jobs ${name}`, '/api/v1/jobs', value] as const),
    ...Object.entries(answers('/api/v1/batches').examples).map(([name, { value }]) => [`POST /batches ${name}`, '/api/v1/batches', value] as const),
  ];
  for (const [name, path, value] of examples) {
    it(`${name} is a valid answer`, () => {
      const pointer = `api#/paths/${path.replaceAll('/', '~1')}/post/responses/200/content/application~1json/schema`;
      assert.ok(ajv.validate({ $ref: pointer }, value), ajv.errorsText());
    });
  }

  it('the dry-run answer is never also a job or batch state (one of the two shapes, exactly)', () => {
    const dryRun = answers('/api/v1/jobs').examples.dryRun!.value;
    assert.equal(ajv.validate({ $ref: 'api#/components/schemas/JobStatus' }, dryRun), false);
    assert.equal(ajv.validate({ $ref: 'api#/components/schemas/DryRunResult' }, answers('/api/v1/jobs').examples.recorded!.value), false);
  });
});

describe('idempotency settings', () => {
  const document = parse(readFileSync(new URL('../../api/openapi.yaml', import.meta.url), 'utf8')) as object;
  const load = (componentYaml: string, env: Record<string, string> = {}) => loadConfig({ env, componentYaml, componentPath: 'component.yaml', apiDocument: document, cpus: 1 });

  it('keeps keys one day by default; JOB_SCHEDULER_IDEMPOTENCY_WINDOW_SECONDS changes it within 1 s to a year', () => {
    const component = 'name: compute\ncommand: [node]\n';
    assert.equal(load(component).idempotencyWindowSeconds, 86400);
    assert.equal(load(component, { JOB_SCHEDULER_IDEMPOTENCY_WINDOW_SECONDS: '3600' }).idempotencyWindowSeconds, 3600);
    assert.throws(() => load(component, { JOB_SCHEDULER_IDEMPOTENCY_WINDOW_SECONDS: '0' }), (error: unknown) => error instanceof ConfigError && /JOB_SCHEDULER_IDEMPOTENCY_WINDOW_SECONDS/.test(error.message));
  });

  it('takes idempotentBatchId in the component file as a boolean, and nothing else', () => {
    assert.equal(load('name: compute\ncommand: [node]\nidempotentBatchId: true\n').component.idempotentBatchId, true);
    assert.throws(() => load('name: compute\ncommand: [node]\nidempotentBatchId: sometimes\n'), (error: unknown) => error instanceof ConfigError && /idempotentBatchId/.test(error.message));
  });
});
