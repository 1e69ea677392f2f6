import assert from 'node:assert/strict';
import express, { type NextFunction, type Request, type Response } from 'express';
import supertest from 'supertest';
import { openApiValidation } from '../../src/http/direct-validator.js';
import { thingsDocument } from './things-document.js';

const document = thingsDocument;

/**
 * An app that tells, in each answer, whether the handler was reached in the same turn as the validation began
 * (`inTurn`): the library's own middleware wait on a promise each; the direct path does not.
 */
function app(validateResponses: boolean) {
  const server = express();
  server.use(express.json());
  server.use((req, _res, next) => {
    (req as Request & { inTurn?: boolean }).inTurn = true;
    next();
    (req as Request & { inTurn?: boolean }).inTurn = false;
  });
  server.use(openApiValidation({ apiSpec: document() as never, validateRequests: true, validateResponses, validateSecurity: false }));
  server.post('/things', (req, res) => {
    const size = (req.body as { size: number }).size;
    // size 13 is answered with a shape the document does not allow, for the response validator to catch.
    res.json({ size: size === 13 ? 'thirteen' : size, query: req.query, inTurn: (req as Request & { inTurn?: boolean }).inTurn });
  });
  server.get('/things/:name', (req, res) => {
    res.json({ params: req.params, inTurn: (req as Request & { inTurn?: boolean }).inTurn });
  });
  server.use((error: { status?: number; message: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(error.status ?? 500).json({ message: error.message });
  });
  return supertest(server);
}

describe("the validator's middleware called directly once made", () => {
  it('when the first request has gone through the library, then later ones skip its waits and are validated the same', async () => {
    const client = app(false);
    const first = (await client.post('/things').send({ size: 2 }).expect(200)).body;
    assert.equal(first.inTurn, false);
    const later = (await client.post('/things?dryRun=true').send({ size: 3 }).expect(200)).body;
    assert.deepEqual(later, { size: 3, query: { dryRun: true }, inTurn: true });
    assert.match((await client.post('/things').send({ size: 0 }).expect(400)).body.message, /size/);
    assert.match((await client.post('/things?other=1').send({ size: 1 }).expect(400)).body.message, /other/);
    assert.deepEqual((await client.get('/things/abc').expect(200)).body, { params: { name: 'abc' }, inTurn: true });
    await client.get('/things/ABC').expect(400);
    assert.equal((await client.delete('/things').expect(405)).body.message, 'DELETE method not allowed');
    await client.post('/nothing').send({}).expect(404);
  });

  it('when responses are validated, then an answer the document does not allow is still refused on the direct path', async () => {
    const client = app(true);
    await client.post('/things').send({ size: 2 }).expect(200);
    assert.equal((await client.post('/things').send({ size: 4 }).expect(200)).body.inTurn, true);
    const refused = await client.post('/things').send({ size: 13 }).expect(500);
    assert.match(refused.body.message, /size/);
  });

  it('when the first request is refused before every middleware was made, then later ones still go the whole way', async () => {
    const client = app(false);
    await client.post('/nothing').send({}).expect(404);
    await client.get('/things/ABC').expect(400);
    assert.equal((await client.post('/things').send({ size: 5 }).expect(200)).body.size, 5);
    assert.match((await client.post('/things').send({ size: -1 }).expect(400)).body.message, /size/);
  });
});
