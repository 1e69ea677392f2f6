import assert from 'node:assert/strict';
import type { FailurePolicy, JobStatusValue } from '../../src/core/model.js';
import { type BatchStatusRule, countStatuses, decideAfterFailure, deriveBatchStatus } from '../../src/core/status.js';

describe('decideAfterFailure', () => {
  const policy: FailurePolicy = {
    rules: [
      { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } },
      { action: 'Ignore', onExitCodes: { operator: 'In', values: [3, 4] } },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [5] } },
      { action: 'Ignore', onExitCodes: { operator: 'In', values: [5] } },
    ],
  };
  const table: Array<[string, FailurePolicy | undefined, number, number, number | null, ReturnType<typeof decideAfterFailure>['action'], boolean, string?]> = [
    ['no policy, retries left', undefined, 2, 0, 1, 'retry', true],
    ['no policy, the last retry used', undefined, 2, 2, 1, 'fail', true, 'BackoffLimitExceeded'],
    ['backoffLimit 0 fails on the first failure', undefined, 0, 0, 1, 'fail', true, 'BackoffLimitExceeded'],
    ['FailJob rule matches', policy, 10, 0, 42, 'fail', true, 'PodFailurePolicy'],
    ['Ignore rule matches, even with no retries left', policy, 0, 0, 3, 'retry', false],
    ['Count by NotIn', policy, 1, 1, 7, 'fail', true, 'BackoffLimitExceeded'],
    ['first matching rule wins over a later Ignore', policy, 1, 0, 9, 'retry', true],
    ['NotIn excludes the listed code, a later rule applies', policy, 0, 0, 5, 'retry', false],
    ['a lost process has no exit code and matches no rule', policy, 1, 0, null, 'retry', true],
  ];
  for (const [when, rules, limit, failed, exitCode, action, counted, reason] of table) {
    it(`when ${when}, then ${action}${reason ? ` (${reason})` : ''}`, () => {
      const decision = decideAfterFailure(rules, limit, failed, exitCode);
      assert.equal(decision.action, action);
      assert.equal(decision.counted, counted);
      if (reason) assert.equal(decision.action === 'fail' && decision.reason, reason);
    });
  }
});

describe('deriveBatchStatus', () => {
  const derive = (statuses: JobStatusValue[], rules?: BatchStatusRule[]) =>
    deriveBatchStatus(countStatuses(statuses.map((status) => ({ status }))), statuses.length, rules);
  const table: Array<[JobStatusValue[], string]> = [
    [['Waiting', 'Waiting'], 'Waiting'],
    [['Waiting', 'Active'], 'Running'],
    [['Succeeded', 'Waiting'], 'Running'],
    [['Running', 'Failed'], 'Running'],
    [['Succeeded', 'Succeeded'], 'Succeeded'],
    [['Succeeded', 'Failed', 'Stopped'], 'Failed'],
    [['Succeeded', 'Stopped'], 'Stopped'],
    [['Stopping', 'Succeeded'], 'Stopping'],
    [['Stopping', 'Running'], 'Running'],
  ];
  for (const [statuses, expected] of table) {
    it(`when jobs are ${statuses.join(', ')}, then ${expected}`, () => assert.equal(derive(statuses), expected));
  }

  it('when a batchStatusRule matches, it overrides the default, first match first', () => {
    const rules: BatchStatusRule[] = [
      { condition: 'Any', operator: 'In', jobStatuses: ['Failed'], batchStatus: 'Failed' },
      { condition: 'All', operator: 'In', jobStatuses: ['Succeeded', 'Failed'], batchStatus: 'Completed' },
      { condition: 'All', operator: 'NotIn', jobStatuses: ['Waiting'], batchStatus: 'Active' },
    ];
    assert.equal(derive(['Running', 'Failed'], rules), 'Failed');
    assert.equal(derive(['Succeeded', 'Succeeded'], rules), 'Completed');
    assert.equal(derive(['Running', 'Succeeded'], rules), 'Active');
    assert.equal(derive(['Waiting', 'Succeeded'], rules), 'Running');
  });
});
