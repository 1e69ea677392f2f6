import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { componentValidatorFor, readComponentSchema, writeComponentValidator } from '../../src/component-validator.js';
import { loadApiDocument } from '../../src/http/api-document.js';

const root = path.resolve(import.meta.dirname, '../..');
const shipped = path.join(root, 'api/openapi.yaml');

/** Component files that pass and that break the schema in different ways. */
const samples = [
  { name: 'compute', command: ['/bin/true'] },
  { name: 'compute', comand: ['/bin/true'] },
  { name: 7, allowOverrides: ['payload', 'everything'] },
  { name: 'compute', resources: { limits: { cpu: 'lots' } }, timeLimitSeconds: -1 },
  {},
];

describe("the component file's validator, compiled at build time", function () {
  // Compiling the API document's validators or parsing its YAML takes seconds on a busy machine; no timing is asserted.
  this.timeout(30_000);
  let dir: string;
  // Beside the repository's node_modules: the generated code requires ajv's runtime helpers.
  before(() => {
    mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
    dir = mkdtempSync(path.join(root, 'test-artifacts', 'component-validator-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers exactly what the validator compiled at run time answers, with the schemas its errors name', () => {
    const file = path.join(dir, 'generated.cjs');
    writeComponentValidator(loadApiDocument(), readComponentSchema(), 'the digest', file);
    const generated = (createRequire(import.meta.url)(file) as { validate: ValidateFunction }).validate;
    const compiled = componentValidatorFor(parseYaml(readFileSync(shipped, 'utf8')) as object, readComponentSchema());
    assert.notEqual(generated, compiled);
    for (const sample of samples) {
      assert.equal(generated(sample), compiled(sample), JSON.stringify(sample));
      assert.deepEqual(generated.errors, compiled.errors, JSON.stringify(sample));
    }
    assert.ok(compiled.errors?.length, 'the last sample is refused');
  });

  it('is used only when made from the document and schema the service loaded', () => {
    const document = loadApiDocument();
    const file = path.join(dir, 'current.cjs');
    writeComponentValidator(document, readComponentSchema(), digestOfShipped(), file);
    const fromBuild = (createRequire(import.meta.url)(file) as { validate: ValidateFunction }).validate;
    assert.equal(componentValidatorFor(document, readComponentSchema(), file), fromBuild, 'made from this document and schema: used');
    const schema = readComponentSchema();
    schema.properties.extra = { type: 'string' } as never;
    assert.notEqual(componentValidatorFor(document, schema, file), fromBuild, 'another schema: compiled instead');
    const stale = path.join(dir, 'stale.cjs');
    writeComponentValidator(document, readComponentSchema(), 'another document', stale);
    assert.notEqual(componentValidatorFor(document, readComponentSchema(), stale), (createRequire(import.meta.url)(stale) as { validate: ValidateFunction }).validate, 'stale: compiled instead');
  });
});

function digestOfShipped(): string {
  return createHash('sha256').update(readFileSync(shipped, 'utf8')).digest('hex');
}
