import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as FakeTimers from '@sinonjs/fake-timers';
import { IgnoreMatcher } from '../../src/sync/ignore';
import { choosePropagation, type ServerChange } from '../../src/sync/serverChanges';
import { ChangeBatcher, planLocalChanges, type LocalChange, type LocalEntry } from '../../src/sync/localChanges';
import type { Signature } from '../../src/sync/types';

const ROOT = path.resolve('/work/site');
const at = (rel: string) => path.join(ROOT, ...rel.split('/'));
const deleted = (rel: string): LocalChange => ({ kind: 'deleted', path: at(rel) });
const created = (rel: string): LocalChange => ({ kind: 'created', path: at(rel) });
const renamed = (from: string, to: string): LocalChange => ({ kind: 'renamed', from: at(from), to: at(to) });
const outside = (name: string) => path.resolve('/elsewhere', name);

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const file = (size: number, mtime = T0): LocalEntry => ({ type: 'file', size, mtime });
const dir: LocalEntry = { type: 'directory', size: 0 };

function plan(changes: LocalChange[], now: Record<string, LocalEntry> = {}, synced: Record<string, Signature> = {}, ignore = new IgnoreMatcher(['*.log', 'build/'])) {
  const rec = new Map(Object.entries(synced).map(([k, local]) => [k, { local }]));
  return planLocalChanges({ localRoot: ROOT, ignore, changes, now: new Map(Object.entries(now)), record: { get: (k) => rec.get(k), keys: () => [...rec.keys()] } });
}

describe('local changes → server changes (planLocalChanges)', () => {
  it('an Explorer delete of a file and of a folder: one delete each, the folder covering its files', () => {
    const p = plan([deleted('a.txt'), deleted('img/x.png'), deleted('img')], {}, { 'a.txt': file(1), 'img/x.png': file(2) });
    assert.deepEqual(p, { deletes: ['a.txt', 'img'], renames: [], uploads: [] });
  });

  it('an Explorer rename is a rename, however the watcher reports it as well, in any order', () => {
    const now = { 'new.txt': file(5) };
    const expected = { deletes: [], renames: [{ from: 'old.txt', to: 'new.txt' }], uploads: [] };
    assert.deepEqual(plan([renamed('old.txt', 'new.txt'), deleted('old.txt'), created('new.txt')], now), expected);
    assert.deepEqual(plan([deleted('old.txt'), created('new.txt'), renamed('old.txt', 'new.txt')], now), expected);
  });

  it('renames in a row are one rename; renamed back is nothing', () => {
    assert.deepEqual(plan([renamed('a.txt', 'b.txt'), renamed('b.txt', 'c.txt')], { 'c.txt': file(1) }).renames, [{ from: 'a.txt', to: 'c.txt' }]);
    assert.deepEqual(plan([renamed('a.txt', 'b.txt'), renamed('b.txt', 'a.txt')], { 'a.txt': file(1) }), { deletes: [], renames: [], uploads: [] });
  });

  it('renamed, then deleted: the original is deleted', () => {
    assert.deepEqual(plan([renamed('a.txt', 'b.txt'), deleted('b.txt')]), { deletes: ['a.txt'], renames: [], uploads: [] });
  });

  it('a rename into an ignored path or out of the link is a delete; from outside or an ignored path in, an upload', () => {
    assert.deepEqual(plan([renamed('a.txt', 'a.log')], { 'a.log': file(1) }), { deletes: ['a.txt'], renames: [], uploads: [] });
    assert.deepEqual(plan([renamed('site.css', 'build/site.css')], { 'build/site.css': file(1) }), { deletes: ['site.css'], renames: [], uploads: [] });
    assert.deepEqual(plan([{ kind: 'renamed', from: at('a.txt'), to: outside('a.txt') }]), { deletes: ['a.txt'], renames: [], uploads: [] });
    assert.deepEqual(plan([{ kind: 'renamed', from: outside('b.txt'), to: at('b.txt') }], { 'b.txt': file(1) }), { deletes: [], renames: [], uploads: ['b.txt'] });
    assert.deepEqual(plan([renamed('trace.log', 'trace.txt')], { 'trace.txt': file(1) }), { deletes: [], renames: [], uploads: ['trace.txt'] });
  });

  it('never names a path outside the link or ignored', () => {
    const p = plan([{ kind: 'deleted', path: outside('x') }, deleted('debug.log'), deleted('build'), deleted('node_modules/pkg'), deleted('.git/index')]);
    assert.deepEqual(p, { deletes: [], renames: [], uploads: [] });
  });

  it('deleted and made again (an editor or git replacing a file) is no delete', () => {
    assert.deepEqual(plan([deleted('index.html'), created('index.html')], { 'index.html': file(9, T0 + 1000) }, { 'index.html': file(7) }), { deletes: [], renames: [], uploads: [] });
    // Events told by the watcher after the fact: what the disk holds at the end decides.
    assert.deepEqual(plan([deleted('index.html')], { 'index.html': file(9) }), { deletes: [], renames: [], uploads: [] });
  });

  it("a program's move (delete + create) is a rename when the new file has the recorded size and time", () => {
    const synced = { 'docs/a.md': file(10) };
    assert.deepEqual(plan([deleted('docs/a.md'), created('notes/a.md')], { 'notes/a.md': file(10) }, synced), { deletes: [], renames: [{ from: 'docs/a.md', to: 'notes/a.md' }], uploads: [] });
    // Another time (a copy, or rewritten): a delete and an upload.
    assert.deepEqual(plan([deleted('docs/a.md'), created('notes/a.md')], { 'notes/a.md': file(10, T0 + 60_000) }, synced), { deletes: ['docs/a.md'], renames: [], uploads: ['notes/a.md'] });
  });

  it("a program's move of a folder is a rename when it holds every recorded file unchanged; new files in it are uploads", () => {
    const synced = { 'old/a.txt': file(1), 'old/sub/b.txt': file(2) };
    const now = { new: dir, 'new/a.txt': file(1), 'new/sub': dir, 'new/sub/b.txt': file(2), 'new/extra.txt': file(3) };
    assert.deepEqual(plan([deleted('old'), created('new')], now, synced), { deletes: [], renames: [{ from: 'old', to: 'new' }], uploads: ['new/extra.txt'] });
    const changed = { ...now, 'new/sub/b.txt': file(20) };
    assert.deepEqual(plan([deleted('old'), created('new')], changed, synced), { deletes: ['old'], renames: [], uploads: ['new'] });
  });

  it('a folder moved by a program into a folder made for it: the new parent is no upload, the move a rename', () => {
    const synced = { 'blog/2024/a.txt': file(1) };
    const now = { archive: dir, 'archive/2024': dir, 'archive/2024/a.txt': file(1), 'archive/README': file(7) };
    assert.deepEqual(plan([deleted('blog/2024'), created('archive')], now, synced), { deletes: [], renames: [{ from: 'blog/2024', to: 'archive/2024' }], uploads: ['archive/README'] });
  });

  it('a folder reported as created that the record knows (its creation seen late, in the same batch) is no upload; its files deleted are deletes', () => {
    const synced = { 'site/a.txt': file(1), 'site/b.txt': file(2) };
    assert.deepEqual(plan([created('site'), created('site/a.txt'), deleted('site/a.txt')], { site: dir, 'site/b.txt': file(2) }, synced), { deletes: ['site/a.txt'], renames: [], uploads: [] });
  });

  it('a git checkout of another branch: files gone, files replaced, files new — deletes and uploads, no rename guessed', () => {
    const synced = { 'a.txt': file(1), 'b.txt': file(2), 'lib/c.js': file(3) };
    const changes = [deleted('a.txt'), deleted('b.txt'), created('b.txt'), deleted('lib/c.js'), deleted('lib'), created('d.txt')];
    assert.deepEqual(plan(changes, { 'b.txt': file(5, T0 + 9000), 'd.txt': file(4, T0 + 9000) }, synced), { deletes: ['a.txt', 'lib'], renames: [], uploads: ['d.txt'] });
  });

  it('a folder renamed, then a file in it deleted: the folder is renamed on the server and the file deleted at its new place', () => {
    const p = plan([renamed('old', 'new'), deleted('new/x.txt')], { new: dir, 'new/y.txt': file(1) }, { 'old/x.txt': file(1), 'old/y.txt': file(1) });
    assert.deepEqual(p, { deletes: ['new/x.txt'], renames: [{ from: 'old', to: 'new' }], uploads: [] });
  });

  it('a file made in a folder after its rename is new there', () => {
    const p = plan([renamed('old', 'new'), created('new/fresh.txt')], { new: dir, 'new/fresh.txt': file(1), 'new/y.txt': file(1) }, { 'old/y.txt': file(1) });
    assert.deepEqual(p, { deletes: [], renames: [{ from: 'old', to: 'new' }], uploads: ['new/fresh.txt'] });
  });
});

describe('change batcher', () => {
  let clock: FakeTimers.Clock;
  beforeEach(() => (clock = FakeTimers.install()));
  afterEach(() => clock.uninstall());

  it('hands over a burst as one batch once the folder is quiet, in the order the events came', () => {
    const batches: LocalChange[][] = [];
    const b = new ChangeBatcher({ quietMs: 1000, onBatch: (c) => batches.push(c) });
    for (let i = 0; i < 200; i++) {
      b.add(deleted(`f${i}.txt`));
      clock.tick(20);
    }
    assert.equal(batches.length, 0, 'nothing while events keep coming');
    // The last event came 20 ms ago: the quiet window ends 980 ms from now.
    clock.tick(979);
    assert.equal(batches.length, 0);
    clock.tick(1);
    assert.equal(batches.length, 1);
    assert.equal(batches[0].length, 200);
    assert.deepEqual(batches[0][0], deleted('f0.txt'));
    assert.deepEqual(batches[0][199], deleted('f199.txt'));
    b.add(deleted('later.txt'));
    clock.tick(1000);
    assert.deepEqual(batches[1], [deleted('later.txt')], 'the next burst is the next batch');
  });

  it('a folder that never goes quiet still gets a batch after the longest wait', () => {
    const batches: LocalChange[][] = [];
    const b = new ChangeBatcher({ quietMs: 1000, maxWaitMs: 5000, onBatch: (c) => batches.push(c) });
    for (let i = 0; i < 60; i++) {
      b.add(created(`f${i}`));
      clock.tick(100);
    }
    assert.deepEqual(batches.map((x) => x.length), [50]);
    clock.tick(1000);
    assert.deepEqual(batches.map((x) => x.length), [50, 10]);
  });

  it('a long burst (a git checkout of 30 s) with a pause of 1.5 s in it is one batch; the wait after it grows with it, to 5 s at most', () => {
    const batches: LocalChange[][] = [];
    const b = new ChangeBatcher({ onBatch: (c) => batches.push(c) });
    let n = 0;
    const burst = (ms: number) => {
      for (let t = 0; t < ms; t += 50) {
        b.add(deleted(`f${n++}.txt`));
        clock.tick(50);
      }
    };
    burst(20_000);
    // 20 s into the burst a pause of a second and a half is a pause in it, not its end.
    clock.tick(1500);
    assert.equal(batches.length, 0);
    burst(10_000);
    // The last event came 50 ms ago, 31.45 s into the burst: it ends after 3.145 s of quiet.
    clock.tick(3000);
    assert.equal(batches.length, 0, 'still within the wait a 30 s burst earns');
    clock.tick(95);
    assert.deepEqual(batches.map((x) => x.length), [n], 'one batch, one question');
    // A short burst afterwards waits the plain second again.
    b.add(deleted('later.txt'));
    clock.tick(1000);
    assert.deepEqual(batches[1], [deleted('later.txt')]);
  });

  it('by default a folder that never goes quiet is handed over 60 s after its first event, and the rest after', () => {
    const batches: LocalChange[][] = [];
    const b = new ChangeBatcher({ onBatch: (c) => batches.push(c) });
    for (let i = 0; i < 700; i++) {
      b.add(created(`f${i}`));
      clock.tick(100);
    }
    assert.deepEqual(batches.map((x) => x.length), [600]);
    clock.tick(1000);
    assert.deepEqual(batches.map((x) => x.length), [600, 100]);
    assert.deepEqual(b.changes, []);
  });

  it('flush hands over at once; dispose drops what is pending', () => {
    const batches: LocalChange[][] = [];
    const b = new ChangeBatcher({ onBatch: (c) => batches.push(c) });
    b.flush();
    assert.equal(batches.length, 0, 'an empty batch is never handed over');
    b.add(deleted('a'));
    b.flush();
    assert.equal(batches.length, 1);
    b.add(deleted('b'));
    b.dispose();
    clock.runAll();
    assert.equal(batches.length, 1);
  });
});

describe('choosing by the link\'s settings (choosePropagation)', () => {
  const del = (p: string, changed: string[] = []): ServerChange => ({ kind: 'delete', path: p, type: 'file', files: [p], dirs: [], changed });
  const ren: ServerChange = { kind: 'rename', from: 'a', to: 'b', type: 'file' };
  const names = (cs: ServerChange[]) => cs.map((c) => (c.kind === 'rename' ? `${c.from}→${c.to}` : c.path));

  it('ask asks everything, in one list; always does it; never keeps it', () => {
    const all = [del('x'), ren];
    assert.deepEqual(names(choosePropagation(all, { deletes: 'ask', renames: 'ask' }).ask), ['x', 'a→b']);
    assert.deepEqual(names(choosePropagation(all, { deletes: 'always', renames: 'always' }).go), ['x', 'a→b']);
    assert.deepEqual(names(choosePropagation(all, { deletes: 'never', renames: 'never' }).kept), ['x', 'a→b']);
    const mixed = choosePropagation(all, { deletes: 'ask', renames: 'always' });
    assert.deepEqual([names(mixed.go), names(mixed.ask)], [['a→b'], ['x']]);
  });

  it('a delete of something changed on the server (or never synced) is asked even under always, never done under never', () => {
    const c = choosePropagation([del('x', ['x']), del('y')], { deletes: 'always', renames: 'always' });
    assert.deepEqual([names(c.go), names(c.ask)], [['y'], ['x']]);
    assert.deepEqual(names(choosePropagation([del('x', ['x'])], { deletes: 'never', renames: 'ask' }).kept), ['x']);
  });
});
