import assert from 'node:assert/strict';
import { ApiError } from '../../src/core/errors.js';
import type { BatchDescription } from '../../src/core/model.js';
import { checkBatchDescription, checkBatchDescriptionInTurns } from '../../src/core/validate.js';

const jobs = (count: number) => Array.from({ length: count }, (_, i) => ({ jobId: `job-${i}`, payload: 'p', resources: { imageTagName: 'v1' } }) as BatchDescription['jobScheduleDescriptions'][number]);
const refusalOf = async (check: () => unknown): Promise<ApiError> => {
  try {
    await check();
  } catch (error) {
    return error as ApiError;
  }
  return assert.fail('not refused');
};

describe('checkBatchDescriptionInTurns', () => {
  it('when a batch has 4,500 jobs, gives the event loop turns while checking, and answers what the check in one go answers', async () => {
    const batch: BatchDescription = { labels: { team: 'a' }, jobScheduleDescriptions: jobs(4500) };
    let turns = 0;
    const checked = await checkBatchDescriptionInTurns(batch, async () => {
      turns += 1;
    });
    assert.ok(turns >= 2, `${turns} turns`);
    assert.deepEqual(checked, checkBatchDescription(batch));
    assert.equal(checked.jobScheduleDescriptions[4499]!.imageTagName, 'v1', 'the last part is normalized too');
  });

  it('when a batch of one job is checked, it takes no turn', async () => {
    let turns = 0;
    await checkBatchDescriptionInTurns({ jobScheduleDescriptions: jobs(1) }, async () => {
      turns += 1;
    });
    assert.equal(turns, 0);
  });

  it('when a late part has a bad job and a later one a payload over 1 MiB, answers 413 as the check in one go does, naming the job by its place in the batch', async () => {
    const list = jobs(6000);
    list[2500] = { jobId: 'bad\u0007id' };
    list[5000] = { payload: 'x'.repeat(1024 * 1024 + 1) };
    const batch: BatchDescription = { jobScheduleDescriptions: list };
    const inTurns = await refusalOf(() => checkBatchDescriptionInTurns(batch, async () => {}));
    const inOneGo = await refusalOf(() => checkBatchDescription(batch));
    assert.equal(inTurns.code, 413);
    assert.deepEqual(inTurns.fields, inOneGo.fields);
    assert.match(inTurns.message, /jobScheduleDescriptions\[5000\]\.payload/);
    list[5000] = {};
    const invalid = await refusalOf(() => checkBatchDescriptionInTurns(batch, async () => {}));
    assert.equal(invalid.code, 422);
    assert.match(invalid.message, /jobScheduleDescriptions\[2500\]\.jobId/);
  });
});
