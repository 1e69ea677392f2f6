import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { OVERRIDE_GRANTS } from './core/trust.js';
import { apiDocumentSource } from './http/api-document.js';

/** The build's compiled validator, beside this module (`dist/`); CommonJS, so that it loads synchronously. */
const PRECOMPILED = new URL('./component-validator.generated.cjs', import.meta.url);

interface BaseSchema {
  properties: Record<string, { items?: object }>;
}

/**
 * The validator of a component file. Compiling it (with the API document it refers to) is 80-300 ms of each start,
 * so the build writes it as code (ajv's standalone output, `http/build-api.ts`); it is used when it was made from
 * the very document and component schema the service loaded, and compiled here otherwise (tests, an edited
 * schema without a build).
 */
export function componentValidatorFor(apiDocument: object, base: BaseSchema, precompiled: URL | string = PRECOMPILED): ValidateFunction {
  const schema = withGrants(base);
  const source = apiDocumentSource(apiDocument);
  if (source !== undefined) {
    try {
      const module = createRequire(import.meta.url)(typeof precompiled === 'string' ? precompiled : fileURLToPath(precompiled)) as { validate: ValidateFunction; source: string };
      if (module.source === sourceOf(source, schema)) return module.validate;
    } catch {
      // No build output (run from the sources): compiled below.
    }
  }
  return compile(apiDocument, schema, false).getSchema('component')!;
}

/** The component file's schema as shipped (the build reads it here; the service through config.ts). */
export function readComponentSchema(): BaseSchema {
  return JSON.parse(readFileSync(new URL('../api/component.schema.json', import.meta.url), 'utf8')) as BaseSchema;
}

/** Writes the validator as code, for the document whose YAML has this digest (a step of the build). */
export function writeComponentValidator(apiDocument: object, base: BaseSchema, source: string, file: URL | string = PRECOMPILED): void {
  const schema = withGrants(base);
  const standaloneCode = createRequire(import.meta.url)('ajv/dist/standalone') as (ajv: Ajv, refs: Record<string, string>) => string;
  const code = standaloneCode(compile(apiDocument, schema, true), { validate: 'component' });
  writeFileSync(file, `${code}\nexports.source = ${JSON.stringify(sourceOf(source, schema))};\n`);
}

/** The grant names live in core/trust.ts alone; the file's schema takes them from there. */
function withGrants(base: BaseSchema): BaseSchema {
  const schema = structuredClone(base);
  schema.properties.allowOverrides = { ...schema.properties.allowOverrides, items: { enum: OVERRIDE_GRANTS } };
  return schema;
}

const sourceOf = (documentSource: string, schema: object) => createHash('sha256').update(documentSource).update(JSON.stringify(schema)).digest('hex');

function compile(apiDocument: object, schema: BaseSchema, asCode: boolean): Ajv {
  // verbose: each error carries its schema, whose known fields name the close one of a misspelt field.
  // validateSchema: false: checking the schemas against the meta-schema costs each start 60-80 ms; the tests check them.
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, validateSchema: false, ...(asCode ? { code: { source: true } } : {}) });
  ajv.addSchema({ ...apiDocument, $id: 'api' });
  ajv.addSchema({ ...schema, $id: 'component' });
  return ajv;
}
