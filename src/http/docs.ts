import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Express, Router } from 'express';
import { stringify as toYaml } from 'yaml';

// Only the folder of swagger-ui-dist's files: requiring the package itself would load its whole bundle.
const swaggerUiDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Serves the OpenAPI document at `<base>/openapi.yaml` and `<base>/openapi.json` (plain routes, no sub-router). */
export function serveApiDocument(app: Express, base: string, apiDocument: object): void {
  // Written as YAML when first asked for: turning the document into YAML is a noticeable part of a start.
  let yaml: string | undefined;
  const json = JSON.stringify(apiDocument);
  app.get(`${base}/openapi.yaml`, (_req, res) => {
    yaml ??= toYaml(apiDocument);
    res.type('application/yaml').send(yaml);
  });
  app.get(`${base}/openapi.json`, (_req, res) => {
    res.type('application/json').send(json);
  });
}

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>job-scheduler API</title><link rel="stylesheet" href="swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="swagger-ui-bundle.js"></script><script src="init.js"></script></body>
</html>
`;
const INIT = `window.ui = SwaggerUIBundle({ url: 'openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;

/** Swagger UI over the document, from the swagger-ui-dist files; no third-party requests. */
export function swaggerUiRouter(apiDocument: object): Router {
  const router = Router();
  const json = JSON.stringify(apiDocument);
  router.get('/', (req, res, next) => {
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) {
      res.redirect(301, `${req.baseUrl}/`);
      return;
    }
    next();
  });
  router.get(['/', '/index.html'], (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/init.js', (_req, res) => {
    res.type('application/javascript').send(INIT);
  });
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(json);
  });
  router.use(express.static(swaggerUiDir, { index: false }));
  return router;
}
