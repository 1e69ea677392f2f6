import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RequestHandler, Router } from 'express';
import { ApiError } from '../core/errors.js';

/** Where `npm run build` writes the page: `dist/ops` at the project's root, seen from src/http and dist/http alike. */
export const OPS_PAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/ops');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// The page's own files only, from this origin; it reaches nothing but the API beside it, and no one may frame it.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Options of {@link opsPageRouter}. */
export interface OpsPageOptions {
  /** The folder of the built page (default: `dist/ops`). */
  dir?: string;
}

interface PageFile {
  type: string;
  body: Buffer;
}

/**
 * The ops page at `/ops/`: the built files, each by its exact name (a fixed list read from the folder once), so
 * no request can name anything else. The page holds no data; its calls to `/api` carry the bearer token.
 */
export function opsPageRouter(options: OpsPageOptions = {}): Router {
  const dir = options.dir ?? OPS_PAGE_DIR;
  // Read when first asked for, not at start: a start should not pay for a page nobody opens.
  let files: Map<string, PageFile> | undefined;
  const router = Router();
  router.use(strictHeaders);
  router.get('/', (req, res, next) => {
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) {
      res.redirect(301, `${req.baseUrl}/`);
      return;
    }
    next();
  });
  router.get('/{:name}', (req, res) => {
    const page = files ?? readPage(dir);
    // Kept once built: a service started before `npm run build` serves the page once it exists.
    if (page.has('index.html')) files = page;
    const name = req.params.name ?? 'index.html';
    const file = page.get(name);
    if (!file) {
      if (!page.has('index.html')) throw ApiError.notFoundIn('the ops page is not built: run `npm run build`');
      throw ApiError.notFoundIn(`the ops page has no file ${JSON.stringify(name.slice(0, 100))}`);
    }
    res.setHeader('Content-Type', file.type);
    res.send(file.body);
  });
  return router;
}

const strictHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // A new build is picked up at the next load.
  res.setHeader('Cache-Control', 'no-cache');
  next();
};

function readPage(dir: string): Map<string, PageFile> {
  const files = new Map<string, PageFile>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    const type = TYPES[path.extname(name)];
    if (type && /^[a-z0-9-]+\.[a-z]+$/.test(name)) files.set(name, { type, body: readFileSync(path.join(dir, name)) });
  }
  return files;
}
