import { createRequire } from 'node:module';
import path from 'node:path';

interface SchemaValidatorModule {
  OpenAPISchemaValidator: new (options: { validateApiSpec?: boolean }) => { validate(document: unknown): { errors: unknown[] } };
}

interface Preprocessor {
  apiDoc: { components?: { schemas?: Record<string, unknown> } };
  resolveSchema(schema: unknown): unknown;
}

const installed = Symbol.for('job-scheduler.validator-startup');
const COMPONENT_SCHEMA = /^#\/components\/schemas\/([^/~]+)$/;

/**
 * Two pieces of work express-openapi-validator (5.6) does at every start, each about a sixth of a start's CPU,
 * that change nothing it then does:
 * - it compiles the whole OpenAPI 3 meta-schema with ajv even with `validateApiSpec: false`, when nothing will
 *   ask it to check the document. Its validator is now made when first asked (tests check the document);
 * - its schema preprocessor looks each `$ref` to a component schema up with `ajv.getSchema`, which compiles the
 *   schema to answer its `schema` field: the very object the document holds under that name (ajv keeps it by
 *   reference). It now takes that object from the document; other references go the library's own way.
 * Requests and responses are validated by validators the library compiles as before.
 */
export function deferValidatorStartupWork(): void {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('express-openapi-validator'));
  // These are the library's internals: a version that moved them is left to do its own work, as before.
  const internal = <T>(file: string): T | undefined => {
    try {
      return require(path.join(dist, file)) as T;
    } catch {
      return undefined;
    }
  };
  const checker = internal<SchemaValidatorModule & { [installed]?: true }>('framework/openapi.schema.validator.js');
  const preprocessor = internal<{ SchemaPreprocessor?: { prototype: Preprocessor } }>('middlewares/parsers/schema.preprocessor.js')?.SchemaPreprocessor;
  if (!checker || checker[installed] || typeof checker.OpenAPISchemaValidator !== 'function' || typeof preprocessor?.prototype.resolveSchema !== 'function') return;
  const Eager = checker.OpenAPISchemaValidator;
  checker.OpenAPISchemaValidator = class LazySchemaValidator {
    private validator?: InstanceType<typeof Eager>;
    constructor(private readonly options: ConstructorParameters<typeof Eager>[0]) {}
    validate(document: unknown) {
      this.validator ??= new Eager(this.options);
      return this.validator.validate(document);
    }
  };
  const resolve = preprocessor.prototype.resolveSchema;
  preprocessor.prototype.resolveSchema = function (this: Preprocessor, schema: unknown) {
    const ref = (schema as { $ref?: unknown } | null)?.$ref;
    const name = typeof ref === 'string' ? COMPONENT_SCHEMA.exec(ref)?.[1] : undefined;
    const schemas = this.apiDoc.components?.schemas;
    if (name !== undefined && schemas && Object.hasOwn(schemas, name)) return schemas[name];
    return resolve.call(this, schema);
  };
  checker[installed] = true;
}
