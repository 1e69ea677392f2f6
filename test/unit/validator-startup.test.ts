import assert from 'node:assert/strict';
import express from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import supertest from 'supertest';
import { deferValidatorStartupWork } from '../../src/http/validator-startup.js';

/** A small document whose request body is a `$ref` to a component schema that itself refers to another. */
const document = () => ({
  openapi: '3.0.3',
  info: { title: 't', version: '1' },
  paths: {
    '/things': {
      post: {
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
        responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } } },
      },
    },
  },
  components: {
    schemas: {
      Thing: { type: 'object', required: ['size'], additionalProperties: false, properties: { size: { $ref: '#/components/schemas/Size' } } },
      Size: { type: 'integer', minimum: 1 },
    },
  },
});

function app(apiSpec: object, validateApiSpec: boolean) {
  const server = express();
  server.use(express.json());
  server.use(OpenApiValidator.middleware({ apiSpec: apiSpec as never, validateApiSpec, validateRequests: true, validateResponses: true }));
  server.post('/things', (req, res) => {
    res.json(req.body);
  });
  server.use((error: { status?: number; message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(error.status ?? 500).json({ message: error.message });
  });
  return supertest(server);
}

describe("the validator's start-up work, deferred", function () {
  // Compiling the API document's validators or parsing its YAML takes seconds on a busy machine; no timing is asserted.
  this.timeout(30_000);
  before(() => deferValidatorStartupWork());

  it('validates requests and responses through referenced schemas as before', async () => {
    const request = app(document(), false);
    await request.post('/things').send({ size: 2 }).expect(200, { size: 2 });
    const tooSmall = await request.post('/things').send({ size: 0 }).expect(400);
    assert.match(tooSmall.body.message, /size must be >= 1/);
    const unknown = await request.post('/things').send({ size: 2, colour: 'red' }).expect(400);
    assert.match(unknown.body.message, /must NOT have additional properties/);
  });

  it('still checks the document when asked to', async () => {
    const broken = document() as { paths: Record<string, unknown> };
    broken.paths['/things'] = { post: { responses: 'none' } };
    const response = await app(broken, true).post('/things').send({ size: 2 });
    assert.equal(response.status, 500);
    assert.match(response.body.message, /apiDoc was invalid/);
  });

  it('when installed twice, patches once', () => {
    deferValidatorStartupWork();
    return app(document(), false).post('/things').send({ size: 3 }).expect(200, { size: 3 });
  });
});
