import { createRequire } from 'node:module';
import express, { Router } from 'express';
import { stringify as toYaml } from 'yaml';

const require = createRequire(import.meta.url);
const swaggerUiDir = (require('swagger-ui-dist') as { getAbsoluteFSPath(): string }).getAbsoluteFSPath();

/** The OpenAPI document, as YAML and as JSON. */
export function apiDocumentRouter(apiDocument: object): Router {
  const yaml = toYaml(apiDocument);
  const json = JSON.stringify(apiDocument);
  const router = Router();
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(yaml);
  });
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(json);
  });
  return router;
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
