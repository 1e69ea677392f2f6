#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { JobSchedulerClient, JobSchedulerError } from '@job-scheduler/client';
import { act, get, type ListFlags, list, type LogFlags, logs } from './commands.js';
import { describeError, EXIT, EXIT_CODES_HELP, exitCodeOf } from './exit-codes.js';
import { Output, type OutputFormat } from './output.js';
import { integer, keyValue, type SubmitFlags, submission, UsageError } from './submit.js';
import { watchBatch } from './watch.js';

interface GlobalFlags {
  url: string;
  token?: string;
  output: OutputFormat;
}

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const program = new Command('job-scheduler')
  .description('Submit, list, watch, read the logs of, stop, restart and delete the jobs of a job-scheduler service.')
  .version(version)
  .addOption(new Option('--url <url>', 'the service').env('JOB_SCHEDULER_URL').default('http://127.0.0.1:8000'))
  .addOption(new Option('--token <token>', 'the API token, when the service has one').env('JOB_SCHEDULER_TOKEN'))
  .addOption(new Option('-o, --output <format>', 'text for people, json for scripts').choices(['text', 'json']).default('text'))
  .addHelpText('after', EXIT_CODES_HELP)
  .exitOverride()
  .showHelpAfterError('(add --help for usage)');

/** Runs a command's action with the client and output the global flags ask for; its result is the exit code. */
function action<A extends unknown[]>(run: (context: { client: JobSchedulerClient; output: Output }, ...args: A) => Promise<number>) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const flags = command.optsWithGlobals<GlobalFlags>();
    const client = new JobSchedulerClient({ url: flags.url, token: flags.token });
    process.exitCode = await run({ client, output: new Output(flags.output) }, ...(args.slice(0, -1) as A));
  };
}

program.command('submit')
  .description('start one job (--payload, --payload-file), or a batch from a JSONL file or stdin (--batch), one payload per line; prints the name')
  .option('--payload <text>', 'the job\'s payload')
  .option('--payload-file <file>', 'the job\'s payload, read from a file')
  .option('--batch [file]', 'start a batch: one payload per line of this JSONL file (stdin when left out or -)')
  .option('--job-id <id>', 'the job\'s own id (one job)')
  .option('--batch-id <id>', 'the batch\'s own id')
  .option('--time-limit <seconds>', 'timeLimitSeconds (the batch\'s default)', integer(1))
  .option('--backoff-limit <n>', 'backoffLimit (the batch\'s default)', integer(0))
  .option('--label <key=value>', 'a label (repeat for more)', keyValue, {})
  .option('--idempotency-key <key>', 'the Idempotency-Key (one is made when left out, so a retried submit runs once)')
  .option('--dry-run', 'answer the effective settings; record and start nothing')
  .action(action(async ({ client, output }, flags: SubmitFlags) => {
    const what = await submission(flags, process.stdin);
    if (flags.dryRun) {
      const planned = 'job' in what ? await client.dryRunJob(what.job) : await client.dryRunBatch(what.batch);
      output.print(planned, () => JSON.stringify(planned, null, 2));
      return EXIT.ok;
    }
    const options = flags.idempotencyKey !== undefined ? { idempotencyKey: flags.idempotencyKey } : {};
    const answer = 'job' in what ? await client.createJob(what.job, options) : await client.createBatch(what.batch, options);
    output.print(answer, () => answer.name);
    return EXIT.ok;
  }));

program.command('ls')
  .description('list batches (the default), single jobs (ls jobs) or the jobs of a batch (ls <batch>)')
  .argument('[what]', 'batches, jobs or a batch\'s name', 'batches')
  .option('--status <statuses>', 'only these statuses, separated by commas (Waiting,Running,Failed...)')
  .option('--label <selector>', 'a label selector (team=vision); repeat for more', (value: string, previous: string[]) => [...previous, value], [] as string[])
  .option('--limit <n>', 'at most this many', integer(1))
  .action(action(({ client, output }, what: string, flags: ListFlags) => list(client, what, flags, output)));

program.command('get')
  .description('the state of a job, or of a batch with its counts by status')
  .argument('<name>', 'a job\'s or a batch\'s name')
  .action(action(({ client, output }, name: string) => get(client, name, output)));

program.command('watch')
  .description('follow a batch until it ends: a progress bar by status, then its counts; exit code 0 when every job succeeded, 1 when not')
  .argument('<batch>', 'the batch\'s name')
  .action(action(({ client, output }, batch: string) => watchBatch(client, batch, output)));

program.command('logs')
  .description('the output of a job\'s attempt (the latest by default)')
  .argument('<job>', 'the job\'s name')
  .option('-f, --follow', 'stream the output until the attempt ends (waits for a job that has not started)')
  .option('--tail <n>', 'only the last n lines', integer(0))
  .option('--attempt <n>', 'this attempt (from 0)', integer(0))
  .action(action(({ client, output }, job: string, flags: LogFlags) => logs(client, job, flags, output, (ms) => new Promise((resolve) => setTimeout(resolve, ms)))));

for (const [name, verb, description] of [
  ['stop', 'stop', 'stop a job, or every job of a batch that has not ended'],
  ['rm', 'rm', 'delete a single job, or a batch and all its jobs'],
  ['restart', 'restart', 'run a job that has ended again, or every ended job of a batch'],
] as const) {
  program.command(name)
    .description(description)
    .argument('<name>', 'a job\'s or a batch\'s name')
    .action(action(({ client, output }, target: string) => act(client, verb, target, output)));
}

program.command('rerun-failed')
  .description('run again the jobs of a batch that failed or were stopped')
  .argument('<batch>', 'the batch\'s name')
  .action(action(async ({ client, output }, batch: string) => {
    const answer = await client.rerunFailedJobs(batch);
    output.print(answer, () => `${answer.name} ${answer.status}`);
    return EXIT.ok;
  }));

try {
  await program.parseAsync();
} catch (error) {
  process.exitCode = fail(error);
}

function fail(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof JobSchedulerError) {
    process.stderr.write(`${describeError(error, program.opts<GlobalFlags>().url)}\n`);
    return exitCodeOf(error);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (error instanceof UsageError || code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    process.stderr.write(`job-scheduler: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`job-scheduler: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.internal;
}
