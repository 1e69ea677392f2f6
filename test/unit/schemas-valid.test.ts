import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');

// The service compiles these schemas without checking them against the JSON Schema meta-schema (that costs
// each start 60-80 ms): the check is here instead.
describe('the schemas the service compiles at start', () => {
  it('the component file schema is a valid JSON Schema', () => {
    const ajv = new Ajv({ strict: false });
    const schema = JSON.parse(readFileSync(path.join(root, 'api/component.schema.json'), 'utf8')) as object;
    assert.equal(ajv.validateSchema(schema), true, JSON.stringify(ajv.errors));
  });

  it("the API document's component schemas are valid JSON Schemas", () => {
    const ajv = new Ajv({ strict: false });
    const document = parseYaml(readFileSync(path.join(root, 'api/openapi.yaml'), 'utf8')) as { components: { schemas: Record<string, object> } };
    for (const [name, schema] of Object.entries(document.components.schemas)) assert.equal(ajv.validateSchema(schema), true, `${name}: ${JSON.stringify(ajv.errors)}`);
  });
});
