import { createRequire } from 'node:module';
import path from 'node:path';

interface RefParserModule {
  bundle(document: unknown, ...rest: unknown[]): Promise<unknown>;
}

const installed = Symbol.for('job-scheduler.validator-bundle');

/**
 * express-openapi-validator (5.6) bundles the API document with json-schema-ref-parser at every start (50-70 ms
 * of CPU, on the way to ready): bundling gathers external `$ref`s into the document. A document object whose
 * every `$ref` is local (`#/...`) has none to gather and bundles to itself (a unit test checks that ours does),
 * so it is handed back as it is; anything else is bundled as before.
 */
export function skipBundlingLocalDocuments(): void {
  const require = createRequire(import.meta.url);
  let parser: (RefParserModule & { [installed]?: true }) | undefined;
  try {
    // The copy the validator itself loads.
    const dist = path.dirname(require.resolve('express-openapi-validator'));
    parser = require(require.resolve('@apidevtools/json-schema-ref-parser', { paths: [dist] })) as RefParserModule;
  } catch {
    return;
  }
  if (!parser || parser[installed] || typeof parser.bundle !== 'function') return;
  const bundle = parser.bundle.bind(parser);
  parser.bundle = (document: unknown, ...rest: unknown[]) =>
    rest.length === 0 && typeof document === 'object' && document !== null && onlyLocalRefs(document) ? Promise.resolve(document) : bundle(document, ...rest);
  parser[installed] = true;
}

/** Whether every `$ref` in the document points into the document itself. */
export function onlyLocalRefs(node: unknown): boolean {
  if (Array.isArray(node)) return node.every(onlyLocalRefs);
  if (typeof node !== 'object' || node === null) return true;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && !(typeof value === 'string' && value.startsWith('#/'))) return false;
    if (!onlyLocalRefs(value)) return false;
  }
  return true;
}
