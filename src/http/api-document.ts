import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** The API document as shipped (`api/openapi.yaml`), from `dist/http/` and from `src/http/` alike. */
const YAML_FILE = new URL('../../api/openapi.yaml', import.meta.url);
/** The build's JSON copy, beside the compiled module (`dist/http/openapi.json`). */
const JSON_FILE = new URL('./openapi.json', import.meta.url);

/** What the build writes: the document, and a digest of the YAML text it was made from. */
export interface JsonCopy {
  source: string;
  document: object;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/** The digest of the YAML each loaded document was parsed from: what the build's other artefacts are checked against. */
const sources = new WeakMap<object, string>();

/** The digest of the YAML text the document was loaded from (`loadApiDocument`); undefined for one made otherwise. */
export function apiDocumentSource(document: object): string | undefined {
  return sources.get(document);
}

/**
 * The API document. YAML-parsing it takes 0.4-0.9 s of a start, so the build (`npm run build:service`) keeps
 * a JSON copy; it is used only when it was made from the very YAML text shipped beside it, so an edited
 * document without a new build is still the one that validates requests (parsed from YAML, slowly).
 */
export function loadApiDocument(files: { yaml: URL | string; json: URL | string } = { yaml: YAML_FILE, json: JSON_FILE }): object {
  const yaml = readFileSync(files.yaml, 'utf8');
  const source = digest(yaml);
  const copy = readCopy(files.json);
  const document = copy && copy.source === source ? copy.document : (parseYaml(yaml) as object);
  sources.set(document, source);
  return document;
}

function readCopy(file: URL | string): JsonCopy | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JsonCopy;
  } catch {
    return undefined;
  }
}

/** Writes the JSON copy (a step of the build, `build-api.ts`); answers the document with its digest. */
export function writeApiDocumentCopy(files: { yaml: URL | string; json: URL | string } = { yaml: YAML_FILE, json: JSON_FILE }): JsonCopy {
  const yaml = readFileSync(files.yaml, 'utf8');
  const copy: JsonCopy = { source: digest(yaml), document: parseYaml(yaml) as object };
  writeFileSync(files.json, JSON.stringify(copy));
  return copy;
}
