// Loaded into the service (`node --expose-gc --import`) for the memory rows only: on SIGUSR2, a full GC,
// then process.memoryUsage() written to BENCH_MEMORY_FILE, with V8's heap spaces (committed and used) and
// the kernel's split of the resident set (to tell V8's heap from native memory). It adds no work to
// anything the service does until asked.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

process.on('SIGUSR2', () => {
  for (let i = 0; i < 3; i++) globalThis.gc();
  const file = process.env.BENCH_MEMORY_FILE;
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
  let rollup = {};
  try {
    const text = readFileSync('/proc/self/smaps_rollup', 'utf8');
    rollup = Object.fromEntries([...text.matchAll(/^(\w+):\s+(\d+) kB$/gm)].map(([, key, kb]) => [key, Number(kb) * 1024]));
  } catch {
    // Not Linux: the rows use process.memoryUsage() only.
  }
  writeFileSync(`${file}.tmp`, JSON.stringify({ ...process.memoryUsage(), spaces, rollup }));
  renameSync(`${file}.tmp`, file);
});
