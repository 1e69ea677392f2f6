import type { V1OwnerReference } from '@kubernetes/client-node';
import type { BatchRecord, JobRecord, JobSpec } from '../../core/model.js';
import { type ClusterSettings, jobObject, type PayloadRef } from './manifests.js';

// Stand-ins for what differs between the Jobs of one spec; JSON escapes them to text no Kubernetes name holds.
// A spec of the job's own that held one is caught by checking the template once (see `build`).
const MARKS = { name: '\u0000js:name\u0000', jobId: '\u0000js:job-id\u0000', secret: '\u0000js:secret\u0000' } as const;
const ESCAPED = Object.fromEntries(Object.entries(MARKS).map(([key, mark]) => [JSON.stringify(mark).slice(1, -1), key])) as Record<string, keyof typeof MARKS>;
const SPLIT = new RegExp(`(${Object.keys(ESCAPED).map((mark) => mark.replace(/\\/g, '\\\\')).join('|')})`);

/** The template with each slot's value, escaped as JSON escapes it. */
function fill(template: Template, values: Record<keyof typeof MARKS, string>): string {
  let text = template.parts[0]!;
  for (let i = 0; i < template.slots.length; i++) text += JSON.stringify(values[template.slots[i]!]).slice(1, -1) + template.parts[i + 1]!;
  return text;
}

interface Template {
  /** Literal text and slots, alternating: text, slot, text, …, text. */
  parts: string[];
  slots: Array<keyof typeof MARKS>;
}

/**
 * The text of each Job manifest (`JSON.stringify(jobObject(…))`, byte for byte), built from one serialised
 * template per spec: the Jobs of a batch mostly share one spec (see core/accept.ts), so a 10,000-job batch
 * builds and serialises two manifests, and each Job's text is a few string joins. One per batch.
 */
export class JobTemplates {
  private readonly templates = new Map<string, Template | null>();
  private readonly ids = new WeakMap<JobSpec, number>();
  private nextId = 0;

  constructor(private readonly options: { settings: ClusterSettings; batchType: BatchRecord['type']; owner: V1OwnerReference }) {}

  /** The Job manifest of `job`, serialised; a restarted job's run (rare) is built whole. */
  text(job: JobRecord, payload: PayloadRef, run = 0): string {
    if (run > 0) return JSON.stringify(this.manifest(job, payload, run));
    const key = `${this.idOf(job.spec)}/${job.jobId === undefined ? '' : 'id'}`;
    let template = this.templates.get(key);
    if (template === undefined) this.templates.set(key, (template = this.build(job)));
    if (template === null || payload.key !== job.name) return JSON.stringify(this.manifest(job, payload));
    return fill(template, { name: job.name, jobId: job.jobId ?? '', secret: payload.secretName });
  }

  private idOf(spec: JobSpec): number {
    let id = this.ids.get(spec);
    if (id === undefined) this.ids.set(spec, (id = this.nextId++));
    return id;
  }

  /** The template of jobs like `job`, or null when it would not give their manifests exactly. */
  private build(job: JobRecord): Template | null {
    const marked: JobRecord = { ...job, name: MARKS.name, jobId: job.jobId === undefined ? undefined : MARKS.jobId };
    const pieces = JSON.stringify(this.manifest(marked, { secretName: MARKS.secret, key: MARKS.name })).split(SPLIT);
    const template = { parts: pieces.filter((_, i) => i % 2 === 0), slots: pieces.filter((_, i) => i % 2 === 1).map((mark) => ESCAPED[mark]!) };
    // Checked once against a manifest built whole: a mark inside the spec itself would show here.
    const probe = { name: 'probe-name', jobId: 'probe "id"', secret: 'probe-secret' };
    const whole = JSON.stringify(this.manifest({ ...job, name: probe.name, jobId: job.jobId === undefined ? undefined : probe.jobId }, { secretName: probe.secret, key: probe.name }));
    return fill(template, probe) === whole ? template : null;
  }

  private manifest(job: JobRecord, payload: PayloadRef, run = 0) {
    return jobObject({ settings: this.options.settings, job, batchType: this.options.batchType, owner: this.options.owner, payload, run });
  }
}
