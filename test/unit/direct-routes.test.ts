import assert from 'node:assert/strict';
import express, { type NextFunction, type Request, type Response } from 'express';
import supertest from 'supertest';
import { directRoutes } from '../../src/http/direct-routes.js';

/** An app where a stand-in for the validator names the route from a header, then the direct routes, then a router. */
function app() {
  const server = express();
  server.use((req, _res, next) => {
    const route = req.get('x-route');
    if (route) (req as Request & { openapi?: object }).openapi = { openApiRoute: route };
    next();
  });
  server.use(
    directRoutes({
      'POST /things': (_req, res) => {
        res.json({ by: 'direct' });
      },
      'GET /things/{name}': () => {
        throw new Error('refused');
      },
    }),
  );
  server.use((req, res) => {
    res.json({ by: 'router', method: req.method });
  });
  server.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: error.message });
  });
  return supertest(server);
}

describe('routes answered straight from the route the validator matched', () => {
  it('when the matched route and method are listed, then their handler answers and nothing after it runs', async () => {
    assert.deepEqual((await app().post('/things').set('x-route', '/things').expect(200)).body, { by: 'direct' });
  });

  it('when the method, the route or any match is missing, then the request goes on to the routers', async () => {
    const client = app();
    assert.deepEqual((await client.get('/things').set('x-route', '/things').expect(200)).body, { by: 'router', method: 'GET' });
    assert.deepEqual((await client.post('/other').set('x-route', '/other').expect(200)).body, { by: 'router', method: 'POST' });
    assert.deepEqual((await client.post('/things').expect(200)).body, { by: 'router', method: 'POST' });
  });

  it('when a listed handler throws, then the error handlers answer', async () => {
    assert.deepEqual((await app().get('/things/a').set('x-route', '/things/{name}').expect(500)).body, { error: 'refused' });
  });
});
