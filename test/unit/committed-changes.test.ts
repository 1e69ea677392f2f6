import assert from 'node:assert/strict';
import type { JobRecord } from '../../src/core/model.js';
import { CommittedChanges } from '../../src/runtimes/local/committed-changes.js';
import { aJobRecord } from './records.js';

const aRecord = (name: string, status: JobRecord['status']) => aJobRecord({ name, status });

describe('CommittedChanges', () => {
  it('tells nothing before a commit, then every saved record in the order saved', () => {
    const told: string[] = [];
    const changes = new CommittedChanges((job) => told.push(`${job.name}:${job.status}`));
    changes.saved(aRecord('a', 'Running'));
    changes.saved(aRecord('b', 'Running'));
    changes.saved(aRecord('a', 'Succeeded'));
    assert.deepEqual(told, []);
    changes.committed();
    assert.deepEqual(told, ['a:Running', 'b:Running', 'a:Succeeded']);
    changes.committed();
    assert.equal(told.length, 3, 'a record is told once');
  });

  it('an undone record is never told, and the others keep their order', () => {
    const told: string[] = [];
    const changes = new CommittedChanges((job) => told.push(`${job.name}:${job.status}`));
    const undone = aRecord('a', 'Active');
    changes.saved(aRecord('b', 'Running'));
    changes.saved(undone);
    changes.saved(aRecord('b', 'Succeeded'));
    changes.undone(undone);
    changes.committed();
    assert.deepEqual(told, ['b:Running', 'b:Succeeded']);
  });

  it('beyond its limit (a long fault of the store) it keeps each job\'s latest record, in the order of their last saves', () => {
    const told: string[] = [];
    const changes = new CommittedChanges((job) => told.push(`${job.name}:${job.status}`), 3);
    changes.saved(aRecord('a', 'Active'));
    changes.saved(aRecord('b', 'Active'));
    changes.saved(aRecord('a', 'Running'));
    changes.saved(aRecord('a', 'Succeeded'));
    changes.committed();
    assert.deepEqual(told, ['b:Active', 'a:Succeeded']);
  });
});
