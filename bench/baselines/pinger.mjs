// From its own process: GET the given URL every 10 ms (one at a time) until told to stop, then sends
// over IPC the longest time one ping waited for its answer: how long the server's event loop stalled.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

const url = process.argv[2];
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
let longest = 0;
let pings = 0;
let stopping = false;
process.on('message', (message) => {
  if (message === 'stop') stopping = true;
});

const ping = () => new Promise((resolve, reject) => {
  request(url, { agent }, (res) => {
    res.resume();
    res.once('end', resolve);
  }).once('error', reject).end();
});

process.send({ ready: true });
while (!stopping) {
  const started = performance.now();
  await ping();
  const took = performance.now() - started;
  longest = Math.max(longest, took);
  pings++;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10 - took)));
}
process.send({ longestMs: longest, pings });
process.disconnect();
agent.destroy();
