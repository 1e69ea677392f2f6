import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { root } from './harness.js';

/** A second process holding SQLite's write lock on a store file: the real fault a service meets beside another writer. */
export interface WriteLock {
  process: ChildProcess;
  /** Commits, closes and waits for the holder to exit. */
  release(): Promise<void>;
}

/** Starts a process that takes the write lock on `dbFile` and holds it until released; resolves once it holds it. */
export async function holdWriteLock(dbFile: string): Promise<WriteLock> {
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `
    import Database from 'better-sqlite3';
    const db = new Database(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { db.exec('COMMIT'); db.close(); process.exit(0); });
  `, dbFile], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((resolve) => createInterface({ input: holder.stdout! }).once('line', resolve));
  return {
    process: holder,
    async release() {
      if (holder.exitCode !== null || holder.signalCode !== null) return;
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.stdin!.end();
      await exited;
    },
  };
}
