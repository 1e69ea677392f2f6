import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Logger } from '../logger.js';

/** SQLite's own threshold (pages of the WAL) for the checkpoint a commit runs, restored when the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000;
/** How often the worker copies what the WAL holds into the database file. */
const INTERVAL_MS = 100;

// CommonJS run by `eval`, so that it loads the same way from the sources (tests) and from the build.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true, timeout: 0 });
let failing = false;
const timer = setInterval(() => {
  try {
    // PASSIVE takes no writer's lock: the service's writes never wait on it.
    db.pragma('wal_checkpoint(PASSIVE)');
    failing = false;
  } catch (error) {
    if (!failing) parentPort.postMessage({ failed: String(error && error.code || error) });
    failing = true;
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Runs the WAL's checkpoints (copying committed pages into the database file, and syncing it) on a connection
 * of its own in a worker thread. Left to SQLite, the commit that takes the WAL over 1,000 pages runs the
 * checkpoint on the event loop: a 100,000-job batch spent more than half its time there (issue 14). Started on
 * first need (a large batch), so that a store that never takes one has no thread.
 */
export class Checkpointer {
  private worker: Worker | undefined;
  private closed = false;

  constructor(private readonly db: Database.Database, private readonly file: string, private readonly logger: Logger) {}

  /** Starts the worker unless it runs; the service's own commits stop checkpointing meanwhile. */
  start(): void {
    if (this.worker || this.closed) return;
    let worker: Worker;
    try {
      worker = new Worker(WORKER, {
        eval: true,
        workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), file: this.file, intervalMs: INTERVAL_MS },
      });
    } catch (error) {
      // No thread to be had (a resource limit): the commits checkpoint, as SQLite does by default.
      this.logger.warn('the store\'s checkpoint worker could not start; commits checkpoint', { error: String(error) });
      return;
    }
    worker.unref();
    this.worker = worker;
    this.db.pragma('wal_autocheckpoint = 0');
    worker.on('message', (message: { failed: string }) => this.logger.warn('a checkpoint of the store failed; retrying', { cause: message.failed }));
    worker.on('error', (error) => this.logger.warn('the store\'s checkpoint worker failed; commits checkpoint again', { error: String(error) }));
    worker.once('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      // Without the worker, the WAL would grow without bound: commits checkpoint as SQLite does by default.
      if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    });
  }

  /** Whether the worker runs. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Stops the worker (it closes its connection); idempotent. */
  close(): void {
    this.closed = true;
    this.worker?.postMessage('close');
    this.worker = undefined;
  }
}
