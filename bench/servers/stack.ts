// The stack's ceiling: Express 5 + express-openapi-validator over our own api/ document, answering
// constants of the same size as the service's answers; no scheduler, no store, no runtime.
import { readFileSync } from 'node:fs';
import express from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { parse as parseYaml } from 'yaml';

const apiDocument = parseYaml(readFileSync(new URL('../../api/openapi.yaml', import.meta.url), 'utf8')) as object;
const sizes = JSON.parse(process.env.BENCH_SIZES ?? '{}') as Record<string, number>;
const filler = (bytes: number) => 'x'.repeat(Math.max(0, bytes));
const now = new Date().toISOString();
const job = (extra: number) => JSON.stringify({ name: 'batch-bench-20261123000000-aaaaaaaa-bbbbbbbb', created: now, started: null, ended: null, updated: now, status: 'Waiting', failed: 0, podStatuses: [], message: filler(extra) });
const jobBody = job(Math.max(0, (sizes.job ?? 300) - job(0).length));
const batchBody = JSON.stringify({ name: 'batch-bench', batchName: 'batch-bench', batchType: 'batch', created: now, started: null, ended: null, updated: now, status: 'Waiting', message: filler(sizes.batch ?? 100) });

const app = express();
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.use('/api', express.json({ limit: 256 * 1024 * 1024 }));
app.use('/api', OpenApiValidator.middleware({ apiSpec: apiDocument as never, validateRequests: true, validateResponses: false, validateSecurity: false }));
const sendJob = (_req: express.Request, res: express.Response) => {
  res.type('application/json').send(jobBody);
};
app.post('/api/v1/jobs', sendJob);
app.get('/api/v1/jobs/:jobName', sendJob);
app.post('/api/v1/batches', (_req, res) => {
  res.type('application/json').send(batchBody);
});
app.get('/api/v1/batches/:batchName', (_req, res) => {
  res.type('application/json').send(batchBody);
});
const server = app.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
