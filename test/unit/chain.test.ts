import assert from 'node:assert/strict';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import supertest from 'supertest';
import { chain } from '../../src/http/chain.js';

/** An app with `handlers` chained at `/x`, what comes after the chain, and an error handler; `seen` lists who ran. */
function app(handlers: (seen: string[]) => RequestHandler[]) {
  const seen: string[] = [];
  const server = express();
  server.use('/x', chain(...handlers(seen)));
  server.use('/x', (req, res) => {
    seen.push('after');
    res.json({ seen, baseUrl: req.baseUrl, url: req.url });
  });
  server.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ seen, error: error.message });
  });
  return supertest(server);
}

const step = (seen: string[], name: string): RequestHandler => (_req, _res, next) => {
  seen.push(name);
  next();
};

describe('middleware chained as one layer', () => {
  it('when each calls next, then all run in order, mounted as the layer is, and the request goes on past the chain', async () => {
    const { body } = await app((seen) => [step(seen, 'a'), step(seen, 'b'), step(seen, 'c')]).get('/x/y?z=1').expect(200);
    assert.deepEqual(body, { seen: ['a', 'b', 'c', 'after'], baseUrl: '/x', url: '/y?z=1' });
  });

  it("when one calls next('route'), then the next one runs, as in Express", async () => {
    const skip: RequestHandler = (_req, _res, next) => next('route');
    const { body } = await app((seen) => [step(seen, 'a'), skip, step(seen, 'c')]).get('/x').expect(200);
    assert.deepEqual(body.seen, ['a', 'c', 'after']);
  });

  for (const [name, fail] of [
    ['passes an error to next', (_req, _res, next) => next(new Error('given'))],
    ['throws', () => {
      throw new Error('given');
    }],
    ['answers a promise that rejects', async () => {
      await Promise.resolve();
      throw new Error('given');
    }],
  ] as Array<[string, RequestHandler]>) {
    it(`when one ${name}, then the rest of the chain is skipped and the error handler answers`, async () => {
      const { body } = await app((seen) => [step(seen, 'a'), fail, step(seen, 'c')]).get('/x').expect(500);
      assert.deepEqual(body, { seen: ['a'], error: 'given' });
    });
  }

  it("when one calls next('router'), then the app's router is left: nothing after the chain runs", async () => {
    const leave: RequestHandler = (_req, _res, next) => next('router');
    await app((seen) => [step(seen, 'a'), leave, step(seen, 'c')]).get('/x').expect(404);
  });

  it('when one answers without calling next, then nothing after it runs', async () => {
    const answer: RequestHandler = (_req, res) => {
      res.status(202).json({ answered: true });
    };
    const { body } = await app((seen) => [step(seen, 'a'), answer, step(seen, 'c')]).get('/x').expect(202);
    assert.deepEqual(body, { answered: true });
  });

  it('when given an error handler, refuses it: it would never be called in a chain', () => {
    const handler = ((_error: unknown, _req: Request, _res: Response, next: NextFunction) => next()) as unknown as RequestHandler;
    assert.throws(() => chain(handler), /error handler/);
  });
});
