import type Database from 'better-sqlite3';
import type { Labels } from '../core/labels.js';
import type { JobRecord, JobSpec, JobStatusValue } from '../core/model.js';
import { type JobRecordSource, StoredJob } from '../core/stored-job.js';

/** The parts of a job record that change after acceptance, stored as one JSON column. */
type JobState = Omit<JobRecord, 'name' | 'batchName' | 'index' | 'spec'>;

/**
 * A finished job with nothing asked of it is loaded as the index's compact form: SQLite picks its few fields
 * out of the JSON columns, so that its spec and attempts are never parsed here (its `spec` and `state` come
 * back NULL). A live job comes whole. A batch's rows mostly repeat the batch name, the spec and the labels of
 * the row before: SQLite answers NULL for those (labels: the text 'null' for none), so that 100,000 rows do
 * not make 100,000 copies to parse.
 */
const QUERY = `
  SELECT name, nullif(batch_name, lag(batch_name) OVER run) AS batch_name, idx, stored,
         CASE WHEN stored THEN NULL WHEN spec IS lag(spec) OVER run AND NOT lag(stored) OVER run THEN NULL ELSE spec END AS spec,
         CASE WHEN stored THEN NULL ELSE state END AS state,
         CASE WHEN stored THEN status END AS status,
         CASE WHEN stored THEN state ->> '$.jobId' END AS job_id,
         CASE WHEN stored THEN state ->> '$.generation' END AS generation,
         CASE WHEN stored THEN json_array_length(state, '$.attempts') END AS attempt_count,
         CASE WHEN stored THEN state ->> '$.attempts[#-1].replicaStatus' END AS last_replica_status,
         CASE WHEN stored THEN state ->> '$.created' END AS created,
         CASE WHEN stored THEN state ->> '$.started' END AS started,
         CASE WHEN stored THEN state ->> '$.ended' END AS ended,
         CASE WHEN stored THEN state ->> '$.updated' END AS updated,
         CASE WHEN labels IS lag(labels) OVER run THEN NULL ELSE coalesce(labels, 'null') END AS labels
    FROM (SELECT j.name, j.batch_name, j.idx, j.spec, j.state, b.seq, j.state ->> '$.status' AS status, j.spec -> '$.labels' AS labels,
                 j.state ->> '$.status' IN ('Succeeded', 'Failed', 'Stopped') AND j.state ->> '$.intent' IS NULL AND j.state ->> '$.ending' IS NULL AS stored
            FROM jobs j JOIN batches b ON b.name = j.batch_name WHERE b.accepting = 0)
  WINDOW run AS (ORDER BY seq, idx) ORDER BY seq, idx`;

interface Row {
  name: string;
  batch_name: string | null;
  idx: number;
  stored: number;
  spec: string | null;
  state: string | null;
  status: JobStatusValue | null;
  job_id: string | null;
  generation: number | null;
  attempt_count: number | null;
  last_replica_status: string | null;
  created: string | null;
  started: string | null;
  ended: string | null;
  updated: string | null;
  labels: string | null;
}

/** Every accepted job in acceptance order: finished ones as `StoredJob`s reading the rest from `source`. */
export function loadJobs(db: Database.Database, source: JobRecordSource): JobRecord[] {
  const specs = new Map<string, JobSpec>();
  const labelSets = new Map<string, Labels>();
  const jobs: JobRecord[] = [];
  let batchName = '';
  let spec: JobSpec | undefined;
  let labels: Labels | undefined;
  for (const row of db.prepare(QUERY).iterate() as IterableIterator<Row>) {
    if (row.batch_name !== null) batchName = row.batch_name;
    if (row.labels !== null) labels = row.labels === 'null' ? undefined : shared(labelSets, row.labels) as Labels;
    if (row.stored) {
      const stored = StoredJob.of(source, {
        name: row.name, batchName, index: row.idx, status: row.status!, created: row.created!, started: row.started, ended: row.ended, updated: row.updated!,
        attemptCount: row.attempt_count ?? 0,
        ...(row.last_replica_status === null ? {} : { lastReplicaStatus: row.last_replica_status }),
        ...(row.job_id === null ? {} : { jobId: row.job_id }),
        ...(row.generation === null ? {} : { generation: row.generation }),
        ...(labels === undefined ? {} : { labels }),
      });
      // Times that would not read back the same: the job is kept whole.
      if (stored) {
        jobs.push(stored);
        continue;
      }
    }
    const record = row.stored ? source.readJob(row.name)! : undefined;
    if (record) {
      jobs.push(record);
      continue;
    }
    if (row.spec !== null) spec = shared(specs, row.spec) as JobSpec;
    jobs.push({ name: row.name, batchName, index: row.idx, spec: spec!, ...(JSON.parse(row.state!) as JobState) });
  }
  return jobs;
}

/** Jobs of a batch mostly share one spec and one set of labels: each distinct text is parsed once and shared. */
function shared(parsed: Map<string, object>, text: string): object {
  let value = parsed.get(text);
  if (!value) {
    value = JSON.parse(text) as object;
    parsed.set(text, value);
  }
  return value;
}
