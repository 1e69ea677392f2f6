import { parse as parseYaml } from 'yaml';

/** One documented value of a chart's values.yaml: a row of the chart README's values table. */
export interface ValueDoc {
  /** Dotted path, e.g. `image.repository`. */
  key: string;
  /** `int`, `float`, `string`, `bool`, `list` or `object`; or the `(type)` written after `# --`. */
  type: string;
  /** Markdown: the value in backticks, or the text of an `# @default --` line. */
  default: string;
  description: string;
}

/** What {@link readValuesDocs} found: the documented values, and the keys nothing documents. */
export interface ValuesDocs {
  values: ValueDoc[];
  undocumented: string[];
}

const KEY_LINE = /^(\s*)([A-Za-z0-9_-]+):(?:\s|$)/;

/**
 * Reads the helm-docs style comments of a values.yaml: a `# --` comment block right above a key documents it
 * (and everything under it); `# -- (int) text` names the type of a value that is empty by default; a
 * following `# @default -- text` replaces the shown default. A key that neither has such a comment nor sits
 * under a documented one is reported as undocumented, unless it is a map whose keys are documented.
 */
export function readValuesDocs(valuesYaml: string): ValuesDocs {
  const values = parseYaml(valuesYaml) as Record<string, unknown>;
  const result: ValuesDocs = { values: [], undocumented: [] };
  const parents: { indent: number; key: string; documented: boolean }[] = [];
  let comments: string[] = [];
  for (const line of valuesYaml.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) {
      comments.push(trimmed.replace(/^#\s?/, ''));
      continue;
    }
    const match = KEY_LINE.exec(line);
    const above = comments;
    comments = [];
    if (!match) continue;
    const indent = match[1]!.length;
    while (parents.length > 0 && parents.at(-1)!.indent >= indent) parents.pop();
    const path = [...parents.map((p) => p.key), match[2]!];
    const underDocumented = parents.some((p) => p.documented);
    const doc = underDocumented ? undefined : describe(above);
    parents.push({ indent, key: match[2]!, documented: underDocumented || doc !== undefined });
    if (underDocumented) continue;
    const value = path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values);
    if (doc) {
      result.values.push({ key: path.join('.'), type: doc.type ?? typeOf(value), default: doc.default ?? `\`${JSON.stringify(value ?? null)}\``, description: doc.description });
    } else if (!isNonEmptyMap(value)) {
      result.undocumented.push(path.join('.'));
    }
  }
  return result;
}

function describe(comments: string[]): { description: string; type?: string; default?: string } | undefined {
  const start = comments.findLastIndex((line) => line.startsWith('-- ') || line === '--');
  if (start < 0) return undefined;
  const lines = [comments[start]!.slice(2).trim(), ...comments.slice(start + 1)];
  const typed = /^\((\w+)\)\s*/.exec(lines[0]!);
  if (typed) lines[0] = lines[0]!.slice(typed[0].length);
  const defaultAt = lines.findIndex((line) => line.startsWith('@default -- '));
  const description = (defaultAt < 0 ? lines : lines.slice(0, defaultAt)).join(' ').replace(/\s+/g, ' ').trim();
  return {
    description,
    ...(typed ? { type: typed[1]! } : {}),
    ...(defaultAt >= 0 ? { default: lines[defaultAt]!.slice('@default -- '.length).trim() } : {}),
  };
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null || value === undefined) return 'string';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return 'string';
}

const isNonEmptyMap = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0;

/** The values table in Markdown, one row per documented value, in the order of values.yaml. */
export function valuesTable(values: readonly ValueDoc[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = values.map((v) => `| \`${v.key}\` | ${v.type} | ${cell(v.default)} | ${cell(v.description)} |`);
  return ['| Key | Type | Default | Description |', '|-----|------|---------|-------------|', ...rows].join('\n');
}

/** Where the generated table sits in the chart README. */
export const TABLE_START = '<!-- values table: generated from values.yaml by `node --import tsx test/shipping/chart-readme.ts`; do not edit by hand -->';
export const TABLE_END = '<!-- end of values table -->';

/** The README with the text between the table markers replaced by `table`. */
export function withValuesTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`the README has no "${TABLE_START}" ... "${TABLE_END}" section`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}
