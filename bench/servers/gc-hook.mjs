// Loaded into the service (`node --expose-gc --import`) for the memory rows only: on SIGUSR2, a full GC,
// then process.memoryUsage() written to BENCH_MEMORY_FILE. It adds no work to anything the service does.
import { renameSync, writeFileSync } from 'node:fs';

process.on('SIGUSR2', () => {
  for (let i = 0; i < 3; i++) globalThis.gc();
  const file = process.env.BENCH_MEMORY_FILE;
  writeFileSync(`${file}.tmp`, JSON.stringify(process.memoryUsage()));
  renameSync(`${file}.tmp`, file);
});
