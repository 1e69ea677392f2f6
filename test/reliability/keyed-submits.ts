import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type supertest from 'supertest';
import type { JobStatusView } from '../../src/core/view.js';
import { aJob } from '../component/harness.js';

interface ServiceProcess {
  child: ChildProcess;
  request: supertest.Agent;
}

/**
 * A client that submits batches with idempotency keys and retries every key it has used, as a backend retrying
 * timed-out requests does, while the service is killed under it. The same key always comes with the same body;
 * the batch's batchId is the key, so that the batches of each key can be counted afterwards.
 */
export class KeyedClient {
  /** Every batch name each key was answered with. */
  private readonly answered = new Map<string, Set<string>>();
  private readonly keys: string[] = [];
  /** The jobs of the answered batches: job name → batch name. */
  readonly jobs = new Map<string, string>();

  constructor(private readonly runs: string) {}

  /** Two new keys, then every key so far again and again, until the service's process exits. */
  async retryUntilExit(service: ServiceProcess, round: number): Promise<void> {
    this.keys.push(`key-${round}-a`, `key-${round}-b`);
    let exited = service.child.exitCode !== null || service.child.signalCode !== null;
    service.child.once('exit', () => (exited = true));
    while (!exited) await Promise.all(this.keys.map((key) => this.submit(service, key, { mayFail: true })));
  }

  /** Every key once more, on a service that stays up: each must be answered. */
  async retryAll(service: ServiceProcess): Promise<void> {
    for (const key of this.keys) await this.submit(service, key, { mayFail: false });
  }

  /** No key answered two batches; each key's batch is there, once; no keyed batch is there without its key's answer. */
  assertOneBatchPerKey(batches: Array<{ name: string; batchId?: string }>): void {
    for (const key of this.keys) {
      const names = [...(this.answered.get(key) ?? [])];
      assert.equal(names.length, 1, `key ${key} was answered with ${names.length} batches: ${names.join(', ')}`);
      assert.deepEqual(batches.filter((batch) => batch.batchId === key).map((batch) => batch.name), names, `key ${key}: its batch is lost or duplicated`);
    }
    const keyed = batches.filter((batch) => batch.batchId?.startsWith('key-'));
    assert.equal(keyed.length, this.keys.length, 'a keyed batch exists that no key answered');
  }

  private async submit(service: ServiceProcess, key: string, { mayFail }: { mayFail: boolean }): Promise<void> {
    const body = { batchId: key, jobScheduleDescriptions: [aJob({ appendTo: this.runs, sleeps: [0.05] }), aJob({ appendTo: this.runs, sleeps: [0.1] })] };
    const response = await service.request.post('/api/v1/batches').set('Idempotency-Key', key).send(body).then((r) => r, (error: unknown) => {
      if (!mayFail) throw error;
      return undefined;
    });
    if (response === undefined) return;
    assert.equal(response.status, 200, `${key}: ${response.status} ${JSON.stringify(response.body)}`);
    this.answered.set(key, new Set([...(this.answered.get(key) ?? []), response.body.name as string]));
    for (const job of response.body.jobStatuses as JobStatusView[]) this.jobs.set(job.name, response.body.name as string);
  }
}
