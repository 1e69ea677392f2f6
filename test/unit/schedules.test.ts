import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ApiError } from '../../src/core/errors.js';
import { DEFAULT_LIMITS } from '../../src/core/limits.js';
import {
  compileSchedule, decide, dueTick, nextTick, runNames, type ScheduleConfig, scheduleProblems, tickOfRun,
} from '../../src/core/schedules.js';
import { silentLogger } from '../../src/logger.js';
import { memoryScheduleStates, ScheduleRunner, type ScheduleRunnerOptions } from '../../src/scheduler/schedules.js';
import { FakeClock } from './fake-clock.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const apiDocument = parseYaml(readFileSync(path.join(root, 'api/openapi.yaml'), 'utf8')) as object;

function configProblems(componentYaml: string): string[] {
  try {
    loadConfig({ env: {}, componentYaml, componentPath: 'component.yaml', apiDocument, cpus: 1 });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

const at = (text: string) => new Date(text);

describe('schedules: checking the component file', () => {
  const cases: Array<[string, ScheduleConfig[], string[]]> = [
    ['a valid list', [{ name: 'nightly', schedule: '0 2 * * *', timeZone: 'Europe/Oslo', concurrencyPolicy: 'Forbid' }, { name: 'often', schedule: '*/5 * * * *' }], []],
    ['a name that is not a DNS label', [{ name: 'Nightly_Run', schedule: '0 2 * * *' }], ['schedules[0].name must be lower case letters']],
    ['two schedules of one name', [{ name: 'a', schedule: '0 2 * * *' }, { name: 'a', schedule: '0 3 * * *' }], ['schedules[1].name "a" is already the name of schedules[0]']],
    ['a bad cron expression', [{ name: 'a', schedule: '61 * * * *' }], ['schedules[0].schedule "61 * * * *" is not a cron expression: Invalid value for minute: 61']],
    ['too few fields', [{ name: 'a', schedule: '* * *' }], ['schedules[0].schedule "* * *" is not a cron expression']],
    ['an expression that names no time', [{ name: 'a', schedule: '0 0 30 2 *' }], ['schedules[0].schedule "0 0 30 2 *" never matches a time']],
    ['a misspelt time zone', [{ name: 'a', schedule: '0 2 * * *', timeZone: 'Europe/Olso' }], ['schedules[0].timeZone "Europe/Olso" is not an IANA time zone (did you mean Europe/Oslo?)']],
    ['21 schedules', Array.from({ length: 21 }, (_, i) => ({ name: `s${i}`, schedule: '0 2 * * *' })), ['schedules has 21 entries; at most 20 are allowed']],
  ];
  for (const [what, schedules, expected] of cases) {
    it(`when given ${what}, answers ${expected.length === 0 ? 'no problem' : 'the field and what is wrong'}`, () => {
      const found = scheduleProblems(schedules).map((problem) => `${problem.path} ${problem.message}`);
      assert.equal(found.length, expected.length, found.join('\n'));
      expected.forEach((start, i) => assert.ok(found[i]!.startsWith(start), `${found[i]} does not start with ${start}`));
    });
  }

  it('when the component file has a bad schedule, start-up names the file, the field and a close name', () => {
    const problems = configProblems('name: compute\ncommand: [node, job.js]\nschedules:\n  - name: nightly\n    schedule: "0 2 * * *"\n    concurrencypolicy: Forbid\n');
    assert.deepEqual(problems, ['component.yaml: schedules.0.concurrencypolicy is not a known field (did you mean concurrencyPolicy?)']);
    const bad = configProblems('name: compute\ncommand: [node, job.js]\nschedules:\n  - name: nightly\n    schedule: "0 25 * * *"\n    timeZone: Mars/Olympus\n');
    assert.equal(bad.length, 2);
    assert.match(bad[0]!, /^component\.yaml: schedules\[0\]\.timeZone "Mars\/Olympus" is not an IANA time zone/);
    assert.match(bad[1]!, /^component\.yaml: schedules\[0\]\.schedule "0 25 \* \* \*" is not a cron expression/);
  });

  it('when the example component is read, it has its nightly schedule', () => {
    const config = loadConfig({ env: {}, componentYaml: readFileSync(path.join(root, 'examples/compute/component.yaml'), 'utf8'), componentPath: 'component.yaml', apiDocument, cpus: 1 });
    assert.deepEqual(config.component.schedules?.map((entry) => entry.name), ['nightly']);
  });

  it('when the README shows a schedules example, it is the example component\'s', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Schedules'), readme.indexOf('## Notifications'));
    const shown = parseYaml(/```yaml\n([\s\S]*?)```/.exec(section)![1]!) as { schedules: unknown };
    const example = parseYaml(readFileSync(path.join(root, 'examples/compute/component.yaml'), 'utf8')) as { schedules: unknown };
    assert.deepEqual(shown.schedules, example.schedules);
  });
});

describe('schedules: ticks and decisions', () => {
  const hourly = compileSchedule({ name: 'hourly', schedule: '0 * * * *' });

  it('when nothing is set, the schedule runs in UTC, allows overlap, and has a one-hour starting deadline', () => {
    assert.deepEqual({ zone: hourly.timeZone, policy: hourly.concurrencyPolicy, deadline: hourly.startingDeadlineSeconds }, { zone: 'UTC', policy: 'Allow', deadline: 3600 });
  });

  it('when a time zone is set, ticks follow its local time across daylight saving', () => {
    const oslo = compileSchedule({ name: 'x', schedule: '0 3 * * *', timeZone: 'Europe/Oslo' });
    assert.equal(nextTick(oslo, at('2026-01-10T00:00:00Z'))?.toISOString(), '2026-01-10T02:00:00.000Z');
    assert.equal(nextTick(oslo, at('2026-07-10T00:00:00Z'))?.toISOString(), '2026-07-10T01:00:00.000Z');
  });

  const dues: Array<[string, string, string, string]> = [
    ['no tick since the last handled', '2026-11-24T10:00:00Z', '2026-11-24T10:30:00Z', 'none'],
    ['a tick just now', '2026-11-24T09:00:00Z', '2026-11-24T10:00:00Z', 'run 2026-11-24T10:00:00.000Z'],
    ['several ticks missed: only the latest', '2026-11-24T06:00:00Z', '2026-11-24T10:59:00Z', 'run 2026-11-24T10:00:00.000Z'],
  ];
  for (const [what, handled, now, expected] of dues) {
    it(`when ${what}, answers ${expected}`, () => {
      const due = dueTick(hourly, at(handled), at(now));
      assert.equal(due.kind === 'none' ? 'none' : `${due.kind} ${due.tick.toISOString()}`, expected);
    });
  }

  it('when the latest missed tick is older than the starting deadline, answers it as missed; at the deadline, runs it', () => {
    const daily = compileSchedule({ name: 'x', schedule: '0 2 * * *' });
    assert.deepEqual(dueTick(daily, at('2026-11-20T00:00:00Z'), at('2026-11-24T03:00:01Z')), { kind: 'missed', tick: at('2026-11-24T02:00:00Z') });
    assert.deepEqual(dueTick(daily, at('2026-11-20T00:00:00Z'), at('2026-11-24T03:00:00Z')), { kind: 'run', tick: at('2026-11-24T02:00:00Z') });
    const strict = compileSchedule({ name: 'x', schedule: '0 * * * *', startingDeadlineSeconds: 60 });
    assert.deepEqual(dueTick(strict, at('2026-11-24T06:00:00Z'), at('2026-11-24T10:01:01Z')), { kind: 'missed', tick: at('2026-11-24T10:00:00Z') });
  });

  it('decides by policy: nothing running starts; Allow starts; Forbid skips; Replace stops the running ones', () => {
    assert.deepEqual(decide('Forbid', []), { action: 'start' });
    assert.deepEqual(decide('Allow', ['a']), { action: 'start' });
    assert.deepEqual(decide('Forbid', ['a']), { action: 'skip' });
    assert.deepEqual(decide('Replace', ['a', 'b']), { action: 'replace', stop: ['a', 'b'] });
  });

  it('derives the same run names from the same schedule and tick, other names from others, and reads the tick back', () => {
    const tick = at('2026-11-24T10:00:00Z');
    const names = runNames('compute', 'hourly', tick);
    assert.deepEqual(runNames('compute', 'hourly', tick), names);
    assert.notEqual(runNames('compute', 'other', tick).jobName, names.jobName);
    assert.notEqual(runNames('compute', 'hourly', at('2026-11-24T11:00:00Z')).jobName, names.jobName);
    assert.match(names.jobName, /^batch-compute-20261124100000-[a-z0-9]{8}-[a-z0-9]{8}$/);
    assert.equal(tickOfRun('compute', 'hourly', names.jobName)?.toISOString(), tick.toISOString());
    assert.equal(tickOfRun('compute', 'other', names.jobName), undefined);
    assert.equal(tickOfRun('compute', 'hourly', 'batch-compute-20261124100000-abcdefgh-ijklmnop'), undefined);
  });
});

describe('schedules: the runner and its clock', () => {
  function fakeScheduler(options: { failures?: number } = {}) {
    const created: string[] = [];
    let failures = options.failures ?? 0;
    return {
      created,
      isReady: true,
      trackedJobs: 0,
      listJobsPage: () => ({ items: created.map((name) => ({ name, status: 'Succeeded' })) }),
      createScheduledJob: async (names: { batchName: string; jobSuffix: string }) => {
        if (failures-- > 0) throw ApiError.unavailable('the store cannot write now');
        created.push(`${names.batchName}-${names.jobSuffix}`);
        return {};
      },
      stopJob: async () => ({}),
    };
  }

  function runner(scheduler: ReturnType<typeof fakeScheduler>, clock: FakeClock, schedules: ScheduleConfig[]) {
    return new ScheduleRunner({
      schedules, component: 'compute', scheduler: scheduler as unknown as ScheduleRunnerOptions['scheduler'], states: memoryScheduleStates(),
      limits: DEFAULT_LIMITS, logger: silentLogger(), clock,
    });
  }

  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('when the next tick is a year away, never arms a timer longer than an hour, and runs nothing early', async () => {
    const clock = new FakeClock('2026-11-24T10:00:00Z');
    const scheduler = fakeScheduler();
    const schedules = runner(scheduler, clock, [{ name: 'yearly', schedule: '0 0 1 1 *' }]);
    const delays: number[] = [];
    const setTimeoutOf = clock.setTimeout.bind(clock);
    clock.setTimeout = (callback, ms) => {
      delays.push(ms);
      return setTimeoutOf(callback, ms);
    };
    await schedules.start();
    for (let hour = 0; hour < 5; hour++) {
      clock.advance(3600_000);
      await settle();
    }
    assert.ok(delays.length >= 5 && delays.every((ms) => ms <= 3600_000), delays.join(','));
    assert.equal(scheduler.created.length, 0);
    await schedules.close();
  });

  it('when a run cannot be submitted, tries again with backoff and runs the tick once', async () => {
    const clock = new FakeClock('2026-11-24T09:59:59Z');
    const scheduler = fakeScheduler({ failures: 2 });
    const schedules = runner(scheduler, clock, [{ name: 'hourly', schedule: '0 * * * *' }]);
    await schedules.start();
    clock.advance(1000);
    await settle();
    assert.equal(scheduler.created.length, 0);
    for (let i = 0; i < 4; i++) {
      clock.advance(2000);
      await settle();
    }
    assert.deepEqual(scheduler.created, [runNames('compute', 'hourly', at('2026-11-24T10:00:00Z')).jobName]);
    await schedules.close();
  });

  it('when the scheduler is not ready, no tick runs; when closed, no timer is left armed and no later tick runs', async () => {
    const clock = new FakeClock('2026-11-24T09:59:30Z');
    const scheduler = fakeScheduler();
    const schedules = runner(scheduler, clock, [{ name: 'hourly', schedule: '0 * * * *' }]);
    await schedules.start();
    scheduler.isReady = false;
    clock.advance(30_000);
    await settle();
    assert.equal(scheduler.created.length, 0);
    scheduler.isReady = true;
    await schedules.close();
    await schedules.close();
    assert.equal(clock.armed, 0);
    clock.advance(3 * 3600_000);
    await settle();
    assert.equal(scheduler.created.length, 0);
  });
});
