import cliProgress from 'cli-progress';
import { type BatchStatus, type JobSchedulerClient, JobSchedulerError } from '@job-scheduler/client';
import { EXIT } from './exit-codes.js';
import { countsText, type Output } from './output.js';

const ENDED = ['Succeeded', 'Failed', 'Stopped', 'Completed'];
const SUCCESS = ['Succeeded', 'Completed'];

/**
 * Follows a batch until it ends: a progress bar of its jobs by status on a terminal (stderr), the final
 * counts on stdout. The counts are read again after each event (one read at a time, so a burst of events
 * costs one read); the first read happens once the event stream is open, so no change is missed.
 */
export async function watchBatch(client: JobSchedulerClient, batchName: string, output: Output): Promise<number> {
  const stop = new AbortController();
  const bar = output.format === 'text' && process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: '{bar} {value}/{total} ended | {counts}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  let latest: BatchStatus | undefined;
  let failure: unknown;
  let reading: Promise<void> | undefined;
  let again = false;

  const show = (batch: BatchStatus) => {
    const counts = batch.jobCounts;
    if (!bar || !counts) return;
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const ended = counts.Succeeded + counts.Failed + counts.Stopped;
    if (latest === undefined) bar.start(total, ended, { counts: `${batch.status} ${countsText(counts)}` });
    bar.setTotal(total);
    bar.update(ended, { counts: `${batch.status} ${countsText(counts)}` });
  };
  const read = async () => {
    do {
      again = false;
      const batch = await client.getBatchCounts(batchName);
      show(batch);
      latest = batch;
      if (ENDED.includes(batch.status) && batch.ended) stop.abort();
    } while (again && !stop.signal.aborted);
  };
  const refresh = () => {
    if (reading) {
      again = true;
      return reading;
    }
    reading = read().catch((error: unknown) => {
      failure = error;
      stop.abort();
    }).finally(() => (reading = undefined));
    return reading;
  };

  try {
    for await (const event of client.events({ batch: batchName, signal: stop.signal, onOpen: refresh })) {
      if (event.event === 'Delete') {
        failure = new JobSchedulerError({ message: `batch ${batchName} was deleted while it was watched`, code: 404, reason: 'NotFound' });
        stop.abort();
      } else void refresh();
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  } finally {
    bar?.stop();
  }
  await reading;
  if (failure) throw failure;
  const batch = latest!;
  output.print(batch, () => `${batch.status} ${countsText(batch.jobCounts)}`);
  return SUCCESS.includes(batch.status) ? EXIT.ok : EXIT.notSucceeded;
}
