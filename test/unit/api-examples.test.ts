import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const document = parse(readFileSync(new URL('../../api/openapi.yaml', import.meta.url), 'utf8'));

describe('the examples of api/openapi.yaml', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...document, $id: 'api' });
  const examples = document.paths['/api/v1/jobs/{jobName}'].get.responses['200'].content['application/json'].examples as Record<string, { value: unknown }>;

  it('document a job in each situation the contract suite asserts', () => {
    assert.deepEqual(Object.keys(examples).sort(), ['backoffLimitExceeded', 'deadlineExceeded', 'failurePolicy', 'oomKilled', 'stoppedRunning', 'stoppedWaiting', 'succeeded']);
  });

  for (const [name, example] of Object.entries(examples)) {
    it(`${name} is a valid JobStatus`, () => {
      const valid = ajv.validate({ $ref: 'api#/components/schemas/JobStatus' }, example.value);
      assert.ok(valid, ajv.errorsText());
    });
  }
});
