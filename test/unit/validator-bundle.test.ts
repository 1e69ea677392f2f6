import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadApiDocument } from '../../src/http/api-document.js';
import { onlyLocalRefs, skipBundlingLocalDocuments } from '../../src/http/validator-bundle.js';

interface RefParser {
  bundle(document: unknown): Promise<unknown>;
}

/** The json-schema-ref-parser express-openapi-validator loads, and its own bundle (before any patch of ours is installed). */
const require = createRequire(import.meta.url);
const parser = require(require.resolve('@apidevtools/json-schema-ref-parser', { paths: [path.dirname(require.resolve('express-openapi-validator'))] })) as RefParser;
const originalBundle = parser.bundle.bind(parser);

describe('bundling the API document at start, skipped when it has only local references', () => {
  it('our API document has only local references, and bundling it gives the same document: skipping it changes nothing', async () => {
    const document = loadApiDocument();
    assert.equal(onlyLocalRefs(document), true);
    assert.deepEqual(await originalBundle(structuredClone(document)), document);
  });

  it('when installed, a document with only local references is handed back as it is; one with another reference is bundled as before', async () => {
    skipBundlingLocalDocuments();
    skipBundlingLocalDocuments();
    const local = { openapi: '3.0.3', paths: {}, components: { schemas: { A: { $ref: '#/components/schemas/B' }, B: { type: 'string' } } } };
    assert.equal(await parser.bundle(local), local);
    const external = { openapi: '3.0.3', paths: {}, components: { schemas: { A: { $ref: 'no-such-file.yaml#/B' } } } };
    assert.equal(onlyLocalRefs(external), false);
    await assert.rejects(parser.bundle(external), /no-such-file\.yaml/);
  });
});
