import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import supertest from 'supertest';
import { answerWhileStarting } from '../../src/http/starting.js';

describe('the port while the service starts', () => {
  let server: Server;
  let request: supertest.Agent;
  before(async () => {
    server = createServer(answerWhileStarting);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    request = supertest.agent(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('when probed, /healthz answers alive and /readyz starting (503)', async () => {
    assert.deepEqual((await request.get('/healthz').expect(200)).body, { status: 'ok' });
    assert.deepEqual((await request.get('/readyz?verbose=1').expect(503)).body, { status: 'starting' });
  });

  it('when the API is called, answers 503 with a Status body saying to try again', async () => {
    const response = await request.post('/api/v1/jobs').send({ payload: 'x' }).expect(503).expect('content-type', /json/);
    assert.deepEqual(response.body, { status: 'Failure', message: 'the service is starting; try again shortly', code: 503, reason: 'ServiceUnavailable' });
    assert.equal(response.headers['retry-after'], '5');
  });
});
