/** Kubernetes label selectors (equality- and set-based), as the API server parses them. */

type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'absent' };

export type Selector = (labels: Record<string, string> | undefined) => boolean;

export class SelectorError extends Error {}

/** Splits on commas that are not inside parentheses. */
function clauses(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function parseClause(clause: string): Requirement {
  let match = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(clause);
  if (match) {
    const values = match[3]!.split(',').map((value) => value.trim());
    check(match[1]!, values);
    return { key: match[1]!, op: match[2] as 'in' | 'notin', values };
  }
  match = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(clause);
  if (match) {
    check(match[1]!, [match[3]!]);
    return { key: match[1]!, op: match[2] === '!=' ? 'neq' : 'eq', value: match[3]! };
  }
  match = /^(!?)(\S+)$/.exec(clause);
  if (match) {
    check(match[2]!, []);
    return { key: match[2]!, op: match[1] ? 'absent' : 'exists' };
  }
  throw new SelectorError(`unable to parse requirement: ${clause}`);
}

function check(key: string, values: string[]): void {
  if (!KEY.test(key)) throw new SelectorError(`invalid label key "${key}"`);
  for (const value of values) if (!VALUE.test(value) || value.length > 63) throw new SelectorError(`invalid label value: "${value}"`);
}

export function parseSelector(text: string | undefined): Selector {
  if (!text) return () => true;
  const requirements = clauses(text).map(parseClause);
  return (labels = {}) => requirements.every((req) => {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    switch (req.op) {
      case 'eq': return has && value === req.value;
      case 'neq': return !has || value !== req.value;
      case 'in': return has && req.values.includes(value!);
      case 'notin': return !has || !req.values.includes(value!);
      case 'exists': return has;
      case 'absent': return !has;
    }
    return false;
  });
}

/** Field selectors: the API server supports `metadata.name` and `metadata.namespace` on every kind. */
export function parseFieldSelector(text: string | undefined): (object: { metadata?: { name?: string; namespace?: string } }) => boolean {
  if (!text) return () => true;
  const tests = clauses(text).map((clause) => {
    const match = /^(metadata\.name|metadata\.namespace)\s*(==|!=|=)\s*(\S*)$/.exec(clause);
    if (!match) throw new SelectorError(`field label not supported: ${clause}`);
    const field = match[1] === 'metadata.name' ? 'name' : 'namespace';
    const negate = match[2] === '!=';
    return (object: { metadata?: { name?: string; namespace?: string } }) => (object.metadata?.[field] === match[3]) !== negate;
  });
  return (object) => tests.every((test) => test(object));
}
