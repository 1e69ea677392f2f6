import assert from 'node:assert/strict';
import type { JobRecord } from '../../src/core/model.js';
import { DEFERRED_SAVE_MS, DeferredSaves } from '../../src/runtimes/local/deferred-saves.js';
import { FakeTimers } from './fake-timers.js';
import { aJobRecord } from './records.js';

const aRecord = (name: string, status: JobRecord['status']) => aJobRecord({ name, status });

describe('DeferredSaves', () => {
  function aDeferral() {
    const saved: string[] = [];
    const timers = new FakeTimers();
    const deferred = new DeferredSaves((job) => saved.push(`${job.name}:${job.status}`), { timers });
    return { saved, timers, deferred };
  }

  it('when nothing else happens to the job, its record is saved once the wait is over, and not before', () => {
    const { saved, timers, deferred } = aDeferral();
    deferred.defer(aRecord('a', 'Running'));
    timers.advance(DEFERRED_SAVE_MS - 1);
    assert.deepEqual(saved, []);
    timers.advance(1);
    assert.deepEqual(saved, ['a:Running']);
    timers.advance(DEFERRED_SAVE_MS);
    assert.deepEqual(saved, ['a:Running'], 'saved once');
    assert.equal(timers.armed, 0);
  });

  it('when the job changes again, its waiting record is saved first (the caller then saves the change), and only its own', () => {
    const { saved, timers, deferred } = aDeferral();
    deferred.defer(aRecord('a', 'Running'));
    deferred.defer(aRecord('b', 'Running'));
    deferred.saveNow('a');
    saved.push('a:Succeeded');
    deferred.saveNow('a');
    assert.deepEqual(saved, ['a:Running', 'a:Succeeded']);
    timers.advance(DEFERRED_SAVE_MS);
    assert.deepEqual(saved, ['a:Running', 'a:Succeeded', 'b:Running']);
  });

  it('when the runtime closes, every waiting record is saved at once and the timer is disarmed', () => {
    const { saved, timers, deferred } = aDeferral();
    deferred.defer(aRecord('a', 'Running'));
    deferred.defer(aRecord('b', 'Running'));
    deferred.saveAll();
    assert.deepEqual(saved, ['a:Running', 'b:Running']);
    assert.equal(timers.armed, 0);
  });
});
