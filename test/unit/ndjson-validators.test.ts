import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadApiDocument } from '../../src/http/api-document.js';
import { ndjsonValidators, writeNdjsonValidators } from '../../src/http/ndjson-validators.js';

const root = path.resolve(import.meta.dirname, '../..');
const shipped = path.join(root, 'api/openapi.yaml');

/** Lines that pass and lines that break the schemas in different ways. */
const samples = {
  header: [{}, { batchId: 'b', labels: { team: 'vision' }, priority: 3 }, { batchId: 7 }, { jobScheduleDescriptions: [] }, { colour: 'red' }],
  job: [{}, { jobId: 'a', payload: 'x', variables: { A: '1' } }, { payload: 7 }, { colour: 'red' }, { variables: { A: 1 } }, { timeLimitSeconds: -1 }],
};

describe("the ndjson batch's validators, compiled at build time", function () {
  // Compiling the API document's validators or parsing its YAML takes seconds on a busy machine; no timing is asserted.
  this.timeout(30_000);
  let dir: string;
  // Beside the repository's node_modules: the generated code requires ajv's runtime helpers.
  before(() => {
    mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
    dir = mkdtempSync(path.join(root, 'test-artifacts', 'ndjson-validators-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answer exactly what the validators compiled at run time answer', () => {
    const document = loadApiDocument();
    const file = path.join(dir, 'same.cjs');
    const source = 'the digest';
    writeNdjsonValidators(document, source, file);
    const compiled = ndjsonValidators(parseYaml(readFileSync(shipped, 'utf8')) as object);
    const generated = createRequire(import.meta.url)(file) as { header: (value: unknown) => boolean; job: (value: unknown) => boolean; source: string };
    assert.equal(generated.source, source);
    for (const kind of ['header', 'job'] as const) {
      for (const sample of samples[kind]) {
        const generatedValid = generated[kind](sample);
        assert.equal(generatedValid, compiled[kind](sample), JSON.stringify(sample));
        assert.deepEqual((generated[kind] as unknown as { errors: unknown }).errors, compiled[kind].errors, JSON.stringify(sample));
      }
    }
  });

  it('are used only when made from the document the service loaded', () => {
    const document = loadApiDocument();
    const digest = createHash('sha256').update(readFileSync(shipped, 'utf8')).digest('hex');
    // Stand-ins that take anything: whether they are used shows on a line the schema refuses.
    const standIn = (source: string) => {
      const file = path.join(dir, `stand-in-${source.length}.cjs`);
      writeFileSync(file, `exports.source = ${JSON.stringify(source)}; exports.header = () => true; exports.job = () => true;\n`);
      return file;
    };
    assert.equal(ndjsonValidators(document, standIn(digest)).job({ payload: 7 }), true, 'made from this document: used');
    assert.equal(ndjsonValidators(document, standIn('another document')).job({ payload: 7 }), false, 'stale: compiled instead');
    assert.equal(ndjsonValidators(document, path.join(dir, 'missing.cjs')).job({ payload: 7 }), false, 'missing: compiled instead');
    const parsedElsewhere = parseYaml(readFileSync(shipped, 'utf8')) as object;
    assert.equal(ndjsonValidators(parsedElsewhere, standIn(digest)).job({ payload: 7 }), false, 'a document not loaded from the shipped file: compiled');
  });
});
