export { JobSchedulerClient, type JobSchedulerClientOptions } from './client.js';
export { JobSchedulerError, type StatusBody } from './errors.js';
export type { BatchEvent, FollowEventsOptions, LiveEvent, StreamEvent } from './events.js';
export type { RetryOptions } from './retry.js';
export type * from './types.js';
