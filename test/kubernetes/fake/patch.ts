/** The patch formats the API server takes: JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386). */

export class PatchError extends Error {}

type Json = unknown;

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function unescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parent(document: Json, path: string): { container: Record<string, Json> | Json[]; key: string } {
  if (!path.startsWith('/')) throw new PatchError(`invalid path ${path}`);
  const segments = path.slice(1).split('/').map(unescape);
  const key = segments.pop()!;
  let container = document as Record<string, Json>;
  for (const segment of segments) {
    const next = Array.isArray(container) ? container[Number(segment)] : container?.[segment];
    if (next === undefined || next === null || typeof next !== 'object') throw new PatchError(`doc is missing path: ${path}`);
    container = next as Record<string, Json>;
  }
  return { container, key };
}

export function applyJsonPatch(document: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) throw new PatchError('a JSON patch must be an array of operations');
  const result = clone(document);
  for (const raw of operations as Array<{ op: string; path: string; value?: Json; from?: string }>) {
    const { container, key } = parent(result, raw.path);
    const isArray = Array.isArray(container);
    const index = key === '-' ? (container as Json[]).length : Number(key);
    const exists = isArray ? index < (container as Json[]).length : Object.prototype.hasOwnProperty.call(container, key);
    switch (raw.op) {
      case 'add':
        if (isArray) (container as Json[]).splice(index, 0, clone(raw.value));
        else (container as Record<string, Json>)[key] = clone(raw.value);
        break;
      case 'replace':
        if (!exists) throw new PatchError(`replace operation does not apply: doc is missing key: ${raw.path}`);
        if (isArray) (container as Json[])[index] = clone(raw.value);
        else (container as Record<string, Json>)[key] = clone(raw.value);
        break;
      case 'remove':
        if (!exists) throw new PatchError(`remove operation does not apply: doc is missing path: ${raw.path}`);
        if (isArray) (container as Json[]).splice(index, 1);
        else delete (container as Record<string, Json>)[key];
        break;
      case 'test': {
        const actual = isArray ? (container as Json[])[index] : (container as Record<string, Json>)[key];
        if (JSON.stringify(actual) !== JSON.stringify(raw.value)) throw new PatchError(`testing value ${raw.path} failed`);
        break;
      }
      default:
        throw new PatchError(`unsupported patch operation ${raw.op}`);
    }
  }
  return result;
}

/** Merge patch; strategic merge patch is treated the same (lists are replaced whole). */
export function applyMergePatch(document: Json, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const result: Record<string, Json> = document && typeof document === 'object' && !Array.isArray(document) ? clone(document as Record<string, Json>) : {};
  for (const [key, value] of Object.entries(patch as Record<string, Json>)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
