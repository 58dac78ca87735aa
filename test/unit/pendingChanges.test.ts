import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import FakeTimers from '@sinonjs/fake-timers';
import { PendingChanges } from '../../src/sync/pendingChanges';
import type { LocalChange } from '../../src/sync/localChanges';

describe('pending local changes (kept across a window reload)', () => {
  let dir: string;
  let clock: FakeTimers.Clock;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-pending-'));
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    clock.uninstall();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const del: LocalChange = { kind: 'deleted', path: '/site/a.txt' };
  const ren: LocalChange = { kind: 'renamed', from: '/site/b.txt', to: '/site/c.txt' };
  const made: LocalChange = { kind: 'created', path: '/site/d.txt' };

  it('a burst is written once, a moment later; what is loaded again is what was pending, in order', () => {
    const file = path.join(dir, 'links', 'x.pending.json');
    const p = PendingChanges.loadSync(file);
    p.add([del]);
    p.add([ren, made]);
    assert.equal(fs.existsSync(file), false, 'not written at each event');
    clock.tick(300);
    assert.deepEqual(PendingChanges.loadSync(file).all, [del, ren, made]);
  });

  it('settled changes leave; with none left the file goes; saveNow writes at once (deactivation)', () => {
    const file = path.join(dir, 'y.pending.json');
    const p = PendingChanges.loadSync(file);
    p.add([del, ren]);
    p.saveNow();
    assert.deepEqual(PendingChanges.loadSync(file).all, [del, ren]);
    const again = PendingChanges.loadSync(file);
    again.settle([again.all[0]]);
    again.saveNow();
    assert.deepEqual(PendingChanges.loadSync(file).all, [ren]);
    again.settle([...again.all]);
    clock.tick(300);
    assert.equal(fs.existsSync(file), false);
  });

  it('a damaged file, or entries of the wrong shape, are nothing pending rather than a failure', () => {
    const file = path.join(dir, 'z.pending.json');
    fs.writeFileSync(file, '{"version":1,"changes":[');
    assert.deepEqual(PendingChanges.loadSync(file).all, []);
    fs.writeFileSync(file, JSON.stringify({ version: 1, changes: [del, { kind: 'deleted' }, { kind: 'renamed', from: 1, to: 'x' }, 'junk'] }));
    assert.deepEqual(PendingChanges.loadSync(file).all, [del]);
  });
});
