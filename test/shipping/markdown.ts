/** The fenced code blocks of a Markdown text whose info string is `lang`, without the fences. */
export function codeBlocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].filter((m) => m[1] === lang).map((m) => m[2]!);
}

/** The text of the `## title` section (up to the next `## `). */
export function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`no "## ${title}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/**
 * The `helm` commands of the `sh` blocks, as argument lists without `helm`: continuation lines joined, `&&`
 * chains split, quotes removed. Enough shell for the documentation's own commands, not a shell.
 */
export function helmCommands(markdown: string): string[][] {
  const commands = codeBlocks(markdown, 'sh')
    .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
    .flatMap((line) => line.split('&&'))
    .map((command) => command.trim())
    .filter((command) => command.startsWith('helm '));
  return commands.map((command) => words(command).slice(1));
}

function words(command: string): string[] {
  const result: string[] = [];
  for (const match of command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) result.push(match[1] ?? match[2] ?? match[3]!);
  return result;
}

/** The value of `--name value`, `--name=value` or the short form `-n value`, if given. */
export function flag(args: readonly string[], long: string, short?: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === long || (short && args[i] === short)) return args[i + 1];
    if (args[i]!.startsWith(`${long}=`)) return args[i]!.slice(long.length + 1);
  }
  return undefined;
}
