import type { RequestListener } from 'node:http';
import { UNAVAILABLE_RETRY_SECONDS } from '../core/errors.js';

/**
 * What the port answers between binding and the service being ready (the runtime opening its
 * state): alive, not ready, and a Status body for the API, so that clients retry.
 */
export const answerWhileStarting: RequestListener = (req, res) => {
  const route = (req.url ?? '/').split('?')[0];
  const [code, body] = route === '/healthz'
    ? [200, { status: 'ok' }]
    : route === '/readyz'
      ? [503, { status: 'starting' }]
      : [503, { status: 'Failure', message: 'the service is starting; try again shortly', code: 503, reason: 'ServiceUnavailable' }];
  const text = JSON.stringify(body);
  const retry = code === 503 && route !== '/readyz' ? { 'retry-after': String(UNAVAILABLE_RETRY_SECONDS) } : {};
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...retry });
  res.end(text);
};
