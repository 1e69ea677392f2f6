/** `npm run test:reliability` sets RELIABILITY_FULL for the sizes the issue asks; `npm test` runs reduced ones. */
export const FULL = process.env.RELIABILITY_FULL === '1';

export const sizes = {
  killRounds: FULL ? 20 : 3,
  badInputs: FULL ? 10_000 : 600,
  loadClients: FULL ? 50 : 10,
  loadSeconds: FULL ? 60 : 5,
  kubernetesJobs: FULL ? 200 : 40,
  /** A reduced test takes seconds: one still running after five minutes hangs, and fails rather than hold CI to its limit. */
  testTimeoutMs: FULL ? 0 : 300_000,
};
