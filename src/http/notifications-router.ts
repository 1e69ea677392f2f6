import { Router } from 'express';
import type { DeadLetter } from '../notifications/outbox.js';

/** What the notifications routes read: the notifier, when a webhook is configured. */
export interface DeadLetterSource {
  /** The newest dead letters first, at most `limit`. */
  deadLetters(limit: number): DeadLetter[];
}

/** Dead letters listed when the request names no `limit` (the document bounds it to 1000). */
const DEFAULT_LIMIT = 100;

/** `/api/v1/notifications`: the webhook's admin reads. */
export function notificationsRouter(source: DeadLetterSource | undefined): Router {
  const router = Router();
  router.get('/dead-letters', (req, res) => {
    // The validator has checked `limit` against the document; it arrives as a string.
    const limit = req.query.limit === undefined ? DEFAULT_LIMIT : Number(req.query.limit);
    res.json(source?.deadLetters(limit) ?? []);
  });
  return router;
}
