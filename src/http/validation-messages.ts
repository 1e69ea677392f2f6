import type { Request } from 'express';
import type { FieldProblem } from '../core/errors.js';
import { didYouMean } from '../core/closest.js';

/** One problem as express-openapi-validator reports it. */
export interface ValidatorProblem {
  path?: string;
  message?: string;
  errorCode?: string;
}

type Schema = { $ref?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean; allOf?: Schema[] };
type Operation = { parameters?: Array<{ name?: string; in?: string }>; requestBody?: { content?: Record<string, { schema?: Schema }> } };

/** Patterns of the API document, said in words a client can act on. */
const PATTERN_WORDS: Array<[RegExp, string]> = [
  [/^\^\[\+-\]\?\(\\d\+/, 'must be a Kubernetes quantity such as 500m or 256Mi'],
  [/^\^\[a-z0-9\]\(\[-a-z0-9\]\*/, 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit'],
  [/^\^\[a-z0-9\]\(\[-a-z0-9\.\]\*/, 'must be lower-case letters, digits, "-" and ".", starting and ending with a letter or digit'],
  [/^\^\[0-9\]\{1,4\}\$$/, 'must be a whole number of at most 4 digits, written as a string'],
];

/** Rewords the validator's problems: unknown fields and query parameters name what exists, patterns say what they mean. */
export function describeProblems(problems: ValidatorProblem[], req: Request, apiDocument: object | undefined): FieldProblem[] {
  const operation = operationOf(req, apiDocument);
  const described = problems.map((problem) => describe(problem, req, operation, apiDocument));
  // An unknown field first: a misspelt key also makes the field it meant "required", which is the consequence, not the cause.
  return [...described.filter((p) => p.unknown), ...described.filter((p) => !p.unknown)].map(({ path, message }) => ({ path, message }));
}

function describe(problem: ValidatorProblem, req: Request, operation: Operation | undefined, apiDocument: object | undefined): FieldProblem & { unknown: boolean } {
  const segments = segmentsOf(problem.path);
  const path = fieldPath(segments);
  const message = problem.message ?? 'is invalid';
  const unknownQuery = /^Unknown query parameter '(.*)'$/.exec(message);
  if (unknownQuery) {
    // Parameters shared by several routes are `$ref`s to the document's components.
    const parameters = (operation?.parameters ?? []).map((p) => (resolve(p as Schema, apiDocument) ?? {}) as { name?: string; in?: string });
    const known = parameters.filter((p) => p.in === 'query').map((p) => p.name ?? '');
    const takes = known.length > 0 ? `${req.method} ${req.path} takes ${known.join(', ')}` : `${req.method} ${req.path} takes no query parameters`;
    return { path, message: `is not a known query parameter: ${takes}${didYouMean(unknownQuery[1] ?? '', known)}`, unknown: true };
  }
  if (problem.errorCode === 'additionalProperties.openapi.validation') {
    const name = segments.at(-1) ?? '';
    const known = Object.keys(schemaAt(requestSchema(operation), segments.slice(1, -1), apiDocument)?.properties ?? {});
    return { path, message: `is not a known field${didYouMean(name, known)}`, unknown: true };
  }
  if (problem.errorCode === 'required.openapi.validation') return { path, message: 'is required', unknown: false };
  const pattern = /^must match pattern "(.*)"$/.exec(message)?.[1];
  const words = pattern === undefined ? undefined : PATTERN_WORDS.find(([test]) => test.test(pattern))?.[1];
  return { path, message: words ?? message, unknown: false };
}

function operationOf(req: Request, apiDocument: object | undefined): Operation | undefined {
  const route = (req as { openapi?: { openApiRoute?: string } }).openapi?.openApiRoute;
  const paths = (apiDocument as { paths?: Record<string, Record<string, Operation>> } | undefined)?.paths;
  return route ? paths?.[route]?.[req.method.toLowerCase()] : undefined;
}

function requestSchema(operation: Operation | undefined): Schema | undefined {
  return operation?.requestBody?.content?.['application/json']?.schema;
}

/** The schema at a path of property names and indexes, following local `$ref`s. */
function schemaAt(schema: Schema | undefined, segments: string[], apiDocument: object | undefined): Schema | undefined {
  let at = resolve(schema, apiDocument);
  for (const segment of segments) {
    if (!at) return undefined;
    const next = /^\d+$/.test(segment) ? at.items : at.properties?.[segment] ?? (typeof at.additionalProperties === 'object' ? at.additionalProperties : undefined);
    at = resolve(next, apiDocument);
  }
  return at;
}

function resolve(schema: Schema | undefined, apiDocument: object | undefined): Schema | undefined {
  let at = schema;
  for (let hops = 0; at?.$ref && hops < 16; hops++) {
    at = at.$ref.replace(/^#\//, '').split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], apiDocument) as Schema | undefined;
  }
  if (at?.allOf) return { properties: Object.assign({}, ...at.allOf.map((part) => resolve(part, apiDocument)?.properties ?? {}), at.properties) };
  return at;
}

/** `/body/jobScheduleDescriptions/3/payload` becomes `['body', 'jobScheduleDescriptions', '3', 'payload']`. */
function segmentsOf(path: string | undefined): string[] {
  return (path ?? '').replace(/^\.?\/?/, '').split(/[/.]/).filter(Boolean);
}

/** `['body', 'jobScheduleDescriptions', '3', 'payload']` becomes `jobScheduleDescriptions[3].payload`. */
export function fieldPath(segments: string[]): string {
  const inRequest = /^(body|query|params|headers|path)$/.test(segments[0] ?? '') ? segments.slice(1) : segments;
  if (segments.length === 0) return '(request)';
  return inRequest.reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '') || '(body)';
}
