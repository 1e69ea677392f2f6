import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { apiDocumentSource } from './api-document.js';

/** The checks of an ndjson batch's lines: the batch's own fields (its first line) and one job description. */
export interface NdjsonValidators {
  header: ValidateFunction;
  job: ValidateFunction;
}

/** The build's compiled validators, beside this module (`dist/http/`); CommonJS, so that they load synchronously. */
const PRECOMPILED = new URL('./ndjson-validators.generated.cjs', import.meta.url);

/**
 * The validators for a document. Compiling them takes 50-200 ms of one turn (a stall the first ndjson batch
 * would wait on), so the build writes them as code (ajv's standalone output, `build-api.ts`); they are used
 * when they were made from the very document the service loaded, and compiled here otherwise (tests, an
 * edited document without a build).
 */
export function ndjsonValidators(apiDocument: object, precompiled: URL | string = PRECOMPILED): NdjsonValidators {
  const source = apiDocumentSource(apiDocument);
  if (source !== undefined) {
    try {
      const module = createRequire(import.meta.url)(typeof precompiled === 'string' ? precompiled : fileURLToPath(precompiled)) as NdjsonValidators & { source: string };
      if (module.source === source) return { header: module.header, job: module.job };
    } catch {
      // No build output (run from the sources): compiled below.
    }
  }
  return compile(apiDocument, false).validators;
}

/** Writes the validators as code for the document whose YAML has this digest (a step of the build). */
export function writeNdjsonValidators(apiDocument: object, source: string, file: URL | string = PRECOMPILED): void {
  const { ajv } = compile(apiDocument, true);
  // Required where used: only the build makes code.
  const standaloneCode = createRequire(import.meta.url)('ajv/dist/standalone') as (ajv: Ajv, refs: Record<string, string>) => string;
  writeFileSync(file, `${standaloneCode(ajv, { header: 'header', job: 'job' })}\nexports.source = ${JSON.stringify(source)};\n`);
}

/** The same schemas as a JSON batch: the batch's own fields (without its job list) and one job description. */
function compile(apiDocument: object, asCode: boolean): { ajv: Ajv; validators: NdjsonValidators } {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, ...(asCode ? { code: { source: true } } : {}) });
  ajv.addSchema({ ...apiDocument, $id: 'api' });
  // Every field of a batch description but its job list, read from the document: a field added there is taken here too.
  const fields = (apiDocument as { components: { schemas: { BatchScheduleDescription: { properties: Record<string, unknown> } } } })
    .components.schemas.BatchScheduleDescription.properties;
  const properties = Object.fromEntries(Object.keys(fields).filter((name) => name !== 'jobScheduleDescriptions')
    .map((name) => [name, { $ref: `api#/components/schemas/BatchScheduleDescription/properties/${name}` }]));
  ajv.addSchema({ $id: 'header', type: 'object', additionalProperties: false, properties });
  ajv.addSchema({ $id: 'job', $ref: 'api#/components/schemas/JobScheduleDescription' });
  return { ajv, validators: { header: ajv.getSchema('header')!, job: ajv.getSchema('job')! } };
}
