import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from '../core/errors.js';

/**
 * Requires `Authorization: Bearer <token>`. Both sides are hashed first so the comparison takes
 * the same time whatever the length or content of what was sent.
 */
export function bearerAuth(token: string): RequestHandler {
  const expected = createHash('sha256').update(token).digest();
  return (req, _res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const offered = createHash('sha256').update(match?.[1] ?? '').digest();
    if (!match || !timingSafeEqual(offered, expected)) {
      next(ApiError.unauthorized());
      return;
    }
    next();
  };
}
