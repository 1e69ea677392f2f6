import type { Cause } from './status.js';
import type { Obj } from './types.js';

/** A resource the fake serves, with the rules its registry strategy applies on the real server. */
export interface Kind {
  resource: string;
  kind: string;
  listKind: string;
  group: string;
  version: string;
  /** The client model the body decodes into, e.g. 'V1Job'. */
  model: string;
  statusSubresource: boolean;
  /** What DELETE does to dependents when the request names no propagationPolicy. */
  defaultPropagation: 'Orphan' | 'Background';
  /** Pods answer DELETE with the object; most kinds with a Success Status. */
  returnsDeletedObject: boolean;
  /** The selectable fields beyond metadata.name and metadata.namespace. */
  fields: Record<string, (object: Obj) => string>;
  nameRule(name: string): string[];
  /** Defaults and server-set fields on create (uid and name already set). */
  prepareForCreate?(object: Obj): void;
  /** Fields the server keeps or derives on update of the main resource. */
  prepareForUpdate?(next: Obj, old: Obj): void;
  validate?(object: Obj): Cause[];
  validateUpdate?(next: Obj, old: Obj): Cause[];
  validateStatusUpdate?(next: Obj, old: Obj): Cause[];
  /** Seconds a DELETE waits before the object goes (graceful pod deletion); 0 to delete at once. */
  gracePeriod?(object: Obj, requested: number | undefined): number;
  /** An extra warning the server adds to a DELETE without a propagationPolicy. */
  deleteWarning?: string;
}

export const apiVersionOf = (kind: Kind) => (kind.group ? `${kind.group}/${kind.version}` : kind.version);

/** Selectable fields every kind has. */
export const metaFields = {
  'metadata.name': (object: Obj) => String(object.metadata?.name ?? ''),
  'metadata.namespace': (object: Obj) => String(object.metadata?.namespace ?? ''),
};

/** Deep equality on JSON values, for no-op detection and immutability checks. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a).filter((key) => (a as Obj)[key] !== undefined);
  const bKeys = Object.keys(b).filter((key) => (b as Obj)[key] !== undefined);
  return aKeys.length === bKeys.length && aKeys.every((key) => sameJson((a as Obj)[key], (b as Obj)[key]));
}
