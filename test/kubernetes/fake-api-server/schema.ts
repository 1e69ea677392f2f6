import * as models from '@kubernetes/client-node';
import { isPlainObject, type Obj } from './types.js';

interface Attribute {
  baseName: string;
  type: string;
}

/** What decoding a body into the kind's Go struct would do: drop unknown fields, reject wrong types. */
export interface Decoded {
  object: Obj;
  /** Paths of fields the kind does not have, dropped as the real server drops them. */
  unknownFields: string[];
  /** Type mismatches; the real server answers 400 for these. */
  typeErrors: string[];
}

// The generated client models carry the API's field list and types, so the fake knows the schema
// without a copy of the OpenAPI document.
function attributesOf(type: string): Attribute[] | undefined {
  const model = (models as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>)[type];
  return typeof model?.getAttributeTypeMap === 'function' ? model.getAttributeTypeMap() : undefined;
}

const MAP_PREFIX = '{ [key: string]: ';

function walk(value: Obj, type: string, path: string, out: Decoded): Obj {
  const mismatch = () => {
    out.typeErrors.push(`json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go struct field ${path || '.'} of type ${type}`);
    return value;
  };
  if (value === null || value === undefined) return value;
  if (type === 'any' || type === 'V1MicroTime') return value;
  if (type === 'Date') {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
      out.typeErrors.push(`parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
      return value;
    }
    // metav1.Time keeps seconds only: what a client sends with milliseconds comes back without.
    return new Date(value).toISOString().replace(/\.\d+Z$/, 'Z');
  }
  if (type === 'string') return typeof value === 'string' ? value : mismatch();
  if (type === 'number') return typeof value === 'number' ? value : mismatch();
  if (type === 'boolean') return typeof value === 'boolean' ? value : mismatch();
  if (type === 'IntOrString') return typeof value === 'string' || typeof value === 'number' ? value : mismatch();
  if (type.startsWith('Array<')) {
    if (!Array.isArray(value)) return mismatch();
    const inner = type.slice('Array<'.length, -1);
    return value.map((item, index) => walk(item, inner, `${path}[${index}]`, out));
  }
  if (type.startsWith(MAP_PREFIX)) {
    if (!isPlainObject(value)) return mismatch();
    const inner = type.slice(MAP_PREFIX.length, -3);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, inner, `${path}[${key}]`, out)]));
  }
  const attributes = attributesOf(type);
  if (!attributes) return value;
  if (!isPlainObject(value)) return mismatch();
  const result: Record<string, Obj> = {};
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.find((candidate) => candidate.baseName === key);
    const childPath = path ? `${path}.${key}` : key;
    if (!attribute) out.unknownFields.push(childPath);
    else if (item !== null) result[key] = walk(item, attribute.type, childPath, out);
  }
  return result;
}

/** Decodes a body as the kind's model (e.g. 'V1Job'), as the API server's JSON decoder would. */
export function decode(object: Obj, model: string): Decoded {
  const out: Decoded = { object: undefined, unknownFields: [], typeErrors: [] };
  out.object = walk(object, model, '', out);
  return out;
}
