import assert from 'node:assert/strict';
import express from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import supertest from 'supertest';
import { cacheStaticRouteLookups } from '../../src/http/metadata-cache.js';
import { thingsDocument } from './things-document.js';

const document = thingsDocument;

/** An app whose handlers answer what the validator told them: the route, its parameters and the coerced query. */
function app() {
  const server = express();
  server.use(express.json());
  server.use(OpenApiValidator.middleware({ apiSpec: document() as never, validateRequests: true, validateResponses: false }));
  const told = (req: express.Request, res: express.Response) => {
    const { openapi } = req as express.Request & { openapi: { openApiRoute: string; pathParams: object } };
    res.json({ route: openapi.openApiRoute, pathParams: openapi.pathParams, params: req.params, query: req.query });
  };
  server.post('/things', told);
  server.get('/things/:name', told);
  server.use((error: { status?: number; message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(error.status ?? 500).json({ message: error.message });
  });
  return supertest(server);
}

describe("the validator's route lookups, remembered for paths without parameters", () => {
  before(() => cacheStaticRouteLookups());

  it('when a static route is asked again, then it is matched and validated as the first time, query and all', async () => {
    const client = app();
    const answers = [];
    for (const query of ['', '?dryRun=true', '']) answers.push((await client.post(`/things${query}`).send({ size: 2 }).expect(200)).body);
    assert.deepEqual(answers[0], { route: '/things', pathParams: {}, params: {}, query: {} });
    assert.deepEqual(answers[1], { route: '/things', pathParams: {}, params: {}, query: { dryRun: true } });
    assert.deepEqual(answers[2], answers[0]);
    const refused = await client.post('/things').send({ size: 0 }).expect(400);
    assert.match(refused.body.message, /size/);
  });

  it('when a route with parameters is asked for different names, then each gets its own', async () => {
    const client = app();
    for (const name of ['abc', 'xyz']) {
      const { body } = await client.get(`/things/${name}`).expect(200);
      assert.deepEqual(body, { route: '/things/{name}', pathParams: { name }, params: { name }, query: {} });
    }
    await client.get('/things/ABC').expect(400);
  });

  it('when a remembered path is asked with another method or a path is unknown, then the refusal is as before', async () => {
    const client = app();
    await client.post('/things').send({ size: 1 }).expect(200);
    assert.equal((await client.delete('/things').expect(405)).body.message, 'DELETE method not allowed');
    await client.post('/nothing').send({}).expect(404);
    await client.post('/things').send({ size: 1 }).expect(200);
  });

  it('when installed twice, wraps the lookup once', () => {
    const prototype = (OpenApiValidator as unknown as { OpenApiValidator?: { prototype: { metadataMiddleware: unknown } } }).OpenApiValidator?.prototype;
    const before = prototype?.metadataMiddleware;
    cacheStaticRouteLookups();
    assert.equal(prototype?.metadataMiddleware, before);
  });
});
