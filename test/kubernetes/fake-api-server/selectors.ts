import { badRequest } from './status.js';
import type { Obj } from './types.js';
import { labelValue, qualifiedName } from './validation.js';

/** Tests an object's labels (label selector) or the object itself (field selector). */
export type Matcher = (object: Obj) => boolean;

type Op = '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | '>' | '<';
interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

// Tokens as k8s.io/apimachinery/pkg/labels/selector.go's lexer sees them.
const TOKEN = /\s*(==|!=|=|!|\(|\)|,|>|<|[^\s=!(),<>]+)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const match = TOKEN.exec(text);
    if (!match) break;
    tokens.push(match[1]!);
  }
  return tokens;
}

function requirement(tokens: string[], at: number, text: string): [Requirement, number] {
  const fail = (why: string) => badRequest(`unable to parse requirement: ${why} in selector ${JSON.stringify(text)}`);
  let i = at;
  if (tokens[i] === '!') {
    const key = tokens[i + 1];
    if (!key || /^[=!(),<>]/.test(key)) throw fail(`found '${key ?? ''}', expected: identifier after '!'`);
    return [{ key, op: '!', values: [] }, i + 2];
  }
  const key = tokens[i++];
  if (!key || /^[=!(),<>]/.test(key)) throw fail(`found '${key ?? ''}', expected: !, identifier, or 'end of string'`);
  const next = tokens[i];
  if (next === undefined || next === ',') return [{ key, op: 'exists', values: [] }, i];
  if (next === '=' || next === '==' || next === '!=' || next === '>' || next === '<') {
    const value = tokens[i + 1];
    const op: Op = next === '==' ? '=' : next;
    if (value === undefined || value === ',') return [{ key, op, values: [''] }, i + 1];
    if (/^[=!()<>]/.test(value)) throw fail(`found '${value}', expected: identifier`);
    if ((op === '>' || op === '<') && !/^-?\d+$/.test(value)) throw fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
    return [{ key, op, values: [value] }, i + 2];
  }
  if (next === 'in' || next === 'notin') {
    if (tokens[i + 1] !== '(') throw fail(`found '${tokens[i + 1] ?? ''}', expected: '('`);
    const values: string[] = [];
    i += 2;
    while (tokens[i] !== ')') {
      const value = tokens[i];
      if (value === undefined) throw fail("found '', expected: ')'");
      if (value !== ',') values.push(value);
      i++;
    }
    if (values.length === 0) throw fail("for 'in', 'notin' operators, values set can't be empty");
    return [{ key, op: next, values }, i + 1];
  }
  throw fail(`found '${next}', expected: in, notin, =, ==, !=, gt, lt`);
}

/** Parses a label selector; an invalid one is a 400, as on the real server. */
export function parseLabelSelector(text: string | undefined): Matcher {
  if (!text || text.trim() === '') return () => true;
  const tokens = tokenize(text);
  const requirements: Requirement[] = [];
  for (let i = 0; i < tokens.length; ) {
    const [parsed, next] = requirement(tokens, i, text);
    const keyErrors = qualifiedName(parsed.key);
    if (keyErrors.length) throw badRequest(`unable to parse requirement: values[0][${parsed.key}]: Invalid value: ${JSON.stringify(parsed.key)}: ${keyErrors[0]}`);
    for (const value of parsed.op === '>' || parsed.op === '<' ? [] : parsed.values) {
      const valueErrors = labelValue(value);
      if (valueErrors.length) throw badRequest(`unable to parse requirement: values[0][${parsed.key}]: Invalid value: ${JSON.stringify(value)}: ${valueErrors[0]}`);
    }
    requirements.push(parsed);
    i = next;
    if (i < tokens.length && tokens[i++] !== ',') throw badRequest(`found '${tokens[i - 1]}', expected: ',' or 'end of string' in selector ${JSON.stringify(text)}`);
  }
  return (object) => requirements.every((r) => matches(r, object?.metadata?.labels ?? {}));
}

function matches({ key, op, values }: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, key);
  const value = labels[key];
  switch (op) {
    case '=': return has && value === values[0];
    case '!=': return !has || value !== values[0];
    case 'in': return has && values.includes(value!);
    case 'notin': return !has || !values.includes(value!);
    case 'exists': return has;
    case '!': return !has;
    case '>': return has && /^-?\d+$/.test(value!) && Number(value) > Number(values[0]);
    case '<': return has && /^-?\d+$/.test(value!) && Number(value) < Number(values[0]);
  }
}

/** Splits on commas not escaped with a backslash, as fields.ParseSelector does. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) {
      current += text[i] + text[++i]!;
    } else if (text[i] === ',') {
      terms.push(current);
      current = '';
    } else {
      current += text[i];
    }
  }
  terms.push(current);
  return terms.filter((term) => term.trim() !== '');
}

const unescape = (value: string) => value.replace(/\\(.)/g, '$1');

/** Parses a field selector against the kind's selectable fields; unknown fields are a 400. */
export function parseFieldSelector(text: string | undefined, fields: Record<string, (object: Obj) => string>): Matcher {
  if (!text || text.trim() === '') return () => true;
  const terms = splitTerms(text).map((term) => {
    const match = /^\s*([^=!\s]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, field, op, raw] = match;
    const read = fields[field!];
    if (!read) throw badRequest(`field label not supported: ${field}`);
    return { read, negate: op === '!=', value: unescape(raw!) };
  });
  return (object) => terms.every(({ read, negate, value }) => (read(object) === value) !== negate);
}
