import { buildBatch } from '../core/accept.js';
import type { BatchDescription, BatchRecord, JobSettings } from '../core/model.js';
import type { Logger } from '../logger.js';
import { noObserver, type Observer } from '../metrics.js';
import type { Runtime } from '../runtimes/runtime.js';
import { createSuffixSource } from './ids.js';
import type { BatchEntry } from './state-index.js';
import type { ReadModel } from './read-model.js';

export interface AdmissionOptions {
  componentName: string;
  /** The component's own settings: the first layer of every job's spec. */
  componentSettings: JobSettings;
  runtime: Runtime;
  reads: ReadModel;
  logger: Logger;
  observer?: Observer;
  now: () => Date;
}

/**
 * Turns a checked description into named records, has the runtime record them durably, and only then adds
 * them to the index: a batch is answered once it cannot be lost.
 */
export class Admission {
  private readonly suffix = createSuffixSource();

  constructor(private readonly options: AdmissionOptions) {}

  async accept(description: BatchDescription, type: BatchRecord['type']): Promise<BatchEntry> {
    const { reads, runtime, logger } = this.options;
    const accepted = buildBatch({
      componentName: this.options.componentName,
      component: this.options.componentSettings,
      description,
      type,
      now: this.options.now(),
      suffix: this.suffix,
      taken: (name) => reads.index.batch(name) !== undefined,
    });
    await runtime.accept(accepted);
    const records = accepted.jobs.map((job) => job.record);
    const entry = reads.index.addBatch(accepted.batch, records);
    logger.info('batch accepted', { batchName: accepted.batch.name, type, jobs: records.length });
    (this.options.observer ?? noObserver).batchAccepted(type, records.length);
    return entry;
  }
}
