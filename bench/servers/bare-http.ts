// The machine's limit: a bare node:http server answering JSON constants, no framework.
import { createServer } from 'node:http';

const sizes = JSON.parse(process.env.BENCH_SIZES ?? '{}') as Record<string, number>;
const constant = (bytes: number) => JSON.stringify({ name: 'x', data: 'x'.repeat(Math.max(0, bytes - 22)) });
const jobBody = constant(sizes.job ?? 300);
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method === 'POST') JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(jobBody);
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
