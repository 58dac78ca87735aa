import * as assert from 'node:assert/strict';
import { IgnoreMatcher } from '../../src/sync/ignore';
import { contentCandidates, planSync, selectActions, summarize, type Direction, type SyncPlan } from '../../src/sync/planner';
import type { SyncRecordEntry } from '../../src/sync/state';
import type { Tree, TreeEntry } from '../../src/sync/types';

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

function file(size: number, mtime: number): TreeEntry {
  return { type: 'file', size, mtime };
}
const dir: TreeEntry = { type: 'directory', size: 0 };

function tree(entries: Record<string, TreeEntry>): Tree {
  return new Map(Object.entries(entries));
}

function record(entries: Record<string, SyncRecordEntry> = {}) {
  const map = new Map(Object.entries(entries));
  return { get: (p: string) => map.get(p), keys: () => [...map.keys()] };
}

/** What a file looked like on both sides after it was synced. */
function synced(local: TreeEntry, remote: TreeEntry): SyncRecordEntry {
  return { local: { size: local.size, mtime: local.mtime }, remote: { size: remote.size, mtime: remote.mtime } };
}

/** "kind path [conflict] [checked]" per action: compact, and a failure shows the whole plan. */
function describePlan(plan: SyncPlan): string[] {
  return plan.actions.map((a) => `${a.kind} ${a.type === 'directory' ? a.path + '/' : a.path}${a.conflict ? ' conflict' : ''}${a.recommended ? ' checked' : ''}`);
}

function plan(direction: Direction, local: Tree, remote: Tree, rec = record(), ignore?: IgnoreMatcher, scope?: string): SyncPlan {
  return planSync({ direction, local, remote, record: rec, ignore, scope });
}

describe('sync planner', () => {
  const localV1 = file(100, T0);
  const remoteV1 = file(100, T0 + 5 * MIN); // uploaded a few minutes after the edit
  const localV2 = file(120, T0 + 30 * MIN);
  const remoteV2 = file(90, T0 + 40 * MIN);

  describe('a file only on one side, never synced', () => {
    it('creates a new local file on the server, checked, counting its bytes', () => {
      const p = plan('toRemote', tree({ 'index.html': localV1 }), tree({}));
      assert.deepEqual(describePlan(p), ['create index.html checked']);
      assert.equal(p.actions[0].target, 'remote');
      assert.equal(p.actions[0].bytes, 100);
    });

    it('creates a new remote file locally when syncing to local', () => {
      const p = plan('toLocal', tree({}), tree({ 'logo.png': remoteV1 }));
      assert.deepEqual(describePlan(p), ['create logo.png checked']);
      assert.equal(p.actions[0].target, 'local');
    });

    it('offers to delete a file only on the target side, unchecked', () => {
      assert.deepEqual(describePlan(plan('toRemote', tree({}), tree({ 'old.html': remoteV1 }))), ['delete old.html']);
      assert.deepEqual(describePlan(plan('toLocal', tree({ 'draft.txt': localV1 }), tree({}))), ['delete draft.txt']);
    });
  });

  describe('a file synced before', () => {
    const rec = record({ 'a.txt': synced(localV1, remoteV1) });

    it('does nothing when neither side changed', () => {
      for (const direction of ['toRemote', 'toLocal'] as const) {
        const p = plan(direction, tree({ 'a.txt': localV1 }), tree({ 'a.txt': remoteV1 }), rec);
        assert.deepEqual(describePlan(p), []);
        assert.deepEqual(p.adopt, []);
      }
    });

    it('uploads a file changed locally', () => {
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': localV2 }), tree({ 'a.txt': remoteV1 }), rec)), ['update a.txt checked']);
    });

    it('downloads a file changed on the server', () => {
      assert.deepEqual(describePlan(plan('toLocal', tree({ 'a.txt': localV1 }), tree({ 'a.txt': remoteV2 }), rec)), ['update a.txt checked']);
    });

    it('sees a change of modification time alone, at the same size', () => {
      const touched = file(100, T0 + 3 * MIN);
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': touched }), tree({ 'a.txt': remoteV1 }), rec)), ['update a.txt checked']);
    });

    it('calls it a conflict when the sync would undo a change made on the target side', () => {
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': localV1 }), tree({ 'a.txt': remoteV2 }), rec)), ['update a.txt conflict']);
      assert.deepEqual(describePlan(plan('toLocal', tree({ 'a.txt': localV2 }), tree({ 'a.txt': remoteV1 }), rec)), ['update a.txt conflict']);
    });

    it('calls a file changed on both sides a conflict, in both directions, unchecked', () => {
      for (const direction of ['toRemote', 'toLocal'] as const) {
        const p = plan(direction, tree({ 'a.txt': localV2 }), tree({ 'a.txt': remoteV2 }), rec);
        assert.deepEqual(describePlan(p), ['update a.txt conflict'], direction);
        assert.match(p.actions[0].reason, /both sides/);
      }
    });

    it('deleted locally since the last sync: deletes it on the server only when ticked', () => {
      const p = plan('toRemote', tree({}), tree({ 'a.txt': remoteV1 }), rec);
      assert.deepEqual(describePlan(p), ['delete a.txt']);
      assert.match(p.actions[0].reason, /deleted locally since the last sync/);
    });

    it('deleted locally but changed on the server since: a conflict', () => {
      assert.deepEqual(describePlan(plan('toRemote', tree({}), tree({ 'a.txt': remoteV2 }), rec)), ['delete a.txt conflict']);
    });

    it('deleted locally, syncing to local: brings it back', () => {
      const p = plan('toLocal', tree({}), tree({ 'a.txt': remoteV1 }), rec);
      assert.deepEqual(describePlan(p), ['create a.txt checked']);
      assert.match(p.actions[0].reason, /deleted locally since the last sync/);
    });

    it('deleted on the server since the last sync: deletes it locally only when ticked', () => {
      const p = plan('toLocal', tree({ 'a.txt': localV1 }), tree({}), rec);
      assert.deepEqual(describePlan(p), ['delete a.txt']);
      assert.match(p.actions[0].reason, /deleted on the server since the last sync/);
    });

    it('deleted on the server but changed locally since: a conflict', () => {
      assert.deepEqual(describePlan(plan('toLocal', tree({ 'a.txt': localV2 }), tree({}), rec)), ['delete a.txt conflict']);
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': localV2 }), tree({}), rec)), ['create a.txt conflict']);
    });

    it('deleted on the server, syncing to the server: uploads it again', () => {
      const p = plan('toRemote', tree({ 'a.txt': localV1 }), tree({}), rec);
      assert.deepEqual(describePlan(p), ['create a.txt checked']);
      assert.match(p.actions[0].reason, /deleted on the server since the last sync/);
    });

    it('forgets the record of a file gone from both sides, within the scope only', () => {
      const both = record({ 'a.txt': synced(localV1, remoteV1), 'sub/b.txt': synced(localV1, remoteV1) });
      assert.deepEqual(plan('toRemote', tree({}), tree({}), both).forget.sort(), ['a.txt', 'sub/b.txt']);
      assert.deepEqual(plan('toRemote', tree({}), tree({}), both, undefined, 'sub').forget, ['sub/b.txt']);
    });
  });

  describe('a file on both sides, never synced', () => {
    describe('with checksums compared (compareChecksums)', () => {
      const withContent = (direction: Direction, local: Tree, remote: Tree, same: Record<string, boolean>) =>
        planSync({ direction, local, remote, record: record(), sameContent: new Map(Object.entries(same)) });

      it('asks for the files size and time would judge on a guess: same size, never synced, not ignored', () => {
        const local = tree({ 'a.txt': localV1, 'b.txt': file(5, T0), 'c.txt': localV1, 'only.txt': localV1, 'x.log': localV1, d: dir });
        const remote = tree({ 'a.txt': remoteV1, 'b.txt': file(6, T0), 'c.txt': remoteV1, 'x.log': remoteV1, d: dir });
        const rec = record({ 'c.txt': synced(localV1, remoteV1) });
        assert.deepEqual(contentCandidates({ local, remote, record: rec, ignore: new IgnoreMatcher(['*.log']) }), ['a.txt']);
      });

      it('shows same-size files with other content instead of recording them as in sync', () => {
        const p = withContent('toRemote', tree({ 'a.txt': localV1 }), tree({ 'a.txt': remoteV1 }), { 'a.txt': false });
        assert.deepEqual(describePlan(p), ['update a.txt conflict']);
        assert.match(p.actions[0].reason, /same size but other content by checksum/);
        assert.deepEqual(p.adopt, []);
        assert.deepEqual(describePlan(withContent('toRemote', tree({ 'a.txt': file(100, T0 + HOUR) }), tree({ 'a.txt': remoteV1 }), { 'a.txt': false })), ['update a.txt checked']);
      });

      it('records the same bytes as in sync even where the source looks newer', () => {
        const p = withContent('toRemote', tree({ 'a.txt': file(100, T0 + HOUR) }), tree({ 'a.txt': remoteV1 }), { 'a.txt': true });
        assert.deepEqual(describePlan(p), []);
        assert.equal(p.adopt.length, 1);
      });
    });

    it('records it as in sync when the sizes match and the source is not newer', () => {
      const p = plan('toRemote', tree({ 'a.txt': localV1 }), tree({ 'a.txt': remoteV1 }));
      assert.deepEqual(describePlan(p), []);
      assert.deepEqual(p.adopt, [{ path: 'a.txt', local: { size: 100, mtime: T0 }, remote: { size: 100, mtime: T0 + 5 * MIN } }]);
    });

    it('copies it when the source is clearly newer', () => {
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': localV2 }), tree({ 'a.txt': remoteV1 }))), ['update a.txt checked']);
      assert.deepEqual(describePlan(plan('toLocal', tree({ 'a.txt': localV1 }), tree({ 'a.txt': remoteV2 }))), ['update a.txt checked']);
    });

    it('calls it a conflict when it differs and the target is as new or newer', () => {
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': localV1 }), tree({ 'a.txt': remoteV2 }))), ['update a.txt conflict']);
    });

    it('allows a minute of slack for server times listed to the minute', () => {
      const remoteToTheMinute = file(100, T0);
      const localSecondsLater = file(100, T0 + 40_000);
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': localSecondsLater }), tree({ 'a.txt': remoteToTheMinute }))), []);
    });

    it('allows a minute of slack for a LIST time marked as such, also when it is not on a whole minute (zone moved)', () => {
      const listed: TreeEntry = { ...file(100, T0 + 30_000 - 60 * MIN), mtimePrecision: 'minute' };
      const seconds = (ms: number) => file(100, ms);
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': seconds(listed.mtime! + 50_000) }), tree({ 'a.txt': listed }))), []);
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': { ...seconds(listed.mtime! + 50_000), size: 101 } }), tree({ 'a.txt': listed }))), ['update a.txt conflict']);
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': seconds(listed.mtime! + 2 * MIN) }), tree({ 'a.txt': listed }))), ['update a.txt checked']);
    });

    it('allows a day of slack for a LIST time shown as a date only (files older than six months)', () => {
      const dateOnly: TreeEntry = { ...file(100, Date.UTC(2019, 1, 3)), mtimePrecision: 'day' };
      const sameDay = file(101, Date.UTC(2019, 1, 3, 17, 30));
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': sameDay }), tree({ 'a.txt': dateOnly }))), ['update a.txt conflict'], 'not clearly newer: the server\'s copy may be from later that day');
      const nextWeek = file(101, Date.UTC(2019, 1, 10));
      assert.deepEqual(describePlan(plan('toRemote', tree({ 'a.txt': nextWeek }), tree({ 'a.txt': dateOnly }))), ['update a.txt checked']);
    });
  });

  describe('folders', () => {
    it('creates missing folders and offers to delete extra ones with their files, unchecked', () => {
      const p = plan('toRemote', tree({ img: dir, 'img/a.png': localV1 }), tree({ old: dir, 'old/x.txt': remoteV1, 'old/deep': dir }));
      assert.deepEqual(describePlan(p), ['create img/ checked', 'create img/a.png checked', 'delete old/', 'delete old/deep/', 'delete old/x.txt']);
      assert.deepEqual(p.targetDirs.sort(), ['old', 'old/deep']);
    });

    it('deletes a folder only when everything the plan deletes inside it is ticked too', () => {
      const p = plan('toRemote', tree({}), tree({ old: dir, 'old/x.txt': remoteV1, 'old/y.txt': remoteV1 }));
      const all = p.actions.map((a) => a.id);
      assert.deepEqual(selectActions(p, all).map((a) => a.id), all);
      const withoutY = all.filter((id) => id !== 'delete:old/y.txt');
      assert.deepEqual(selectActions(p, withoutY).map((a) => a.id), ['delete:old/x.txt']);
    });

    it('reports a file on one side and a folder on the other instead of acting on it', () => {
      const p = plan('toRemote', tree({ assets: localV1 }), tree({ assets: dir }));
      assert.deepEqual(describePlan(p), []);
      assert.equal(p.problems.length, 1);
      assert.equal(p.problems[0].path, 'assets');
    });
  });

  describe('ignored paths', () => {
    it('never acts on ignored files or folders, whatever their state', () => {
      const ignore = new IgnoreMatcher(['*.log', 'cache/']);
      const rec = record({ 'app.log': synced(localV1, remoteV1) });
      const local = tree({ 'node_modules': dir, 'node_modules/x.js': localV1, 'app.log': localV2, cache: dir, 'cache/c.bin': localV1, 'index.php': localV1 });
      const remote = tree({ '.git': dir, '.git/HEAD': remoteV1, 'debug.log': remoteV2 });
      const p = plan('toRemote', local, remote, rec, ignore);
      assert.deepEqual(describePlan(p), ['create index.php checked']);
    });
  });

  describe('symbolic links', () => {
    const linkDir: TreeEntry = { type: 'directory', size: 0, symlink: true };
    const below = (e: TreeEntry, link: string): TreeEntry => ({ ...e, viaLink: link });

    it('leaves a skipped link out on both sides, with everything below it, and lists it with the reason', () => {
      const skippedLinks = new Map([['shared', 'a symbolic link on the server, left out (the link\'s "symlinks" is "skip")']]);
      // The same name is a real folder locally: neither side's copy below it is planned.
      const local = tree({ shared: dir, 'shared/a.txt': localV1, 'index.html': localV1 });
      for (const direction of ['toRemote', 'toLocal'] as const) {
        const p = planSync({ direction, local, remote: tree({}), record: record(), skippedLinks });
        assert.deepEqual(describePlan(p), direction === 'toRemote' ? ['create index.html checked'] : ['delete index.html'], direction);
        assert.deepEqual(p.problems, [{ path: 'shared', message: skippedLinks.get('shared') }]);
      }
    });

    it('keeps the record of files below a skipped link (left out of the walk, not gone)', () => {
      const skippedLinks = new Map([['lib', 'a symbolic link to a folder, left out (the link\'s "symlinks" is "skip")']]);
      const p = planSync({ direction: 'toRemote', local: tree({}), remote: tree({}), record: record({ 'lib/a.js': { local: { size: 1, mtime: 1 }, remote: { size: 1, mtime: 1 } }, 'gone.txt': { local: { size: 1, mtime: 1 }, remote: { size: 1, mtime: 1 } } }), skippedLinks });
      assert.deepEqual(p.forget, ['gone.txt']);
    });

    it('never deletes through a followed link: files below it only on the target side are kept and told once per link', () => {
      const remote = tree({ www: linkDir, 'www/a.txt': below(remoteV1, 'www'), 'www/sub': below(dir, 'www'), 'www/sub/b.txt': below(remoteV1, 'www'), 'www/both.txt': below(remoteV1, 'www') });
      const local = tree({ www: dir, 'www/both.txt': localV1, 'www/new.txt': localV1 });
      const p = plan('toRemote', local, remote);
      assert.deepEqual(describePlan(p), ['create www/new.txt checked'], 'creates and updates go through the link; no delete does');
      assert.deepEqual(p.problems, [{ path: 'www', message: '2 files only on the server below this symbolic link left as they are: a sync never deletes through a link' }]);
      // The same rule on this computer's side.
      const back = plan('toLocal', tree({ docs: linkDir, 'docs/x.md': below(localV1, 'docs') }), tree({ docs: dir }));
      assert.deepEqual(describePlan(back), []);
      assert.match(back.problems[0].message, /1 file only on this computer below this symbolic link/);
    });

    it('removes a followed link that is only on the target side as a link, unticked, and nothing below it', () => {
      const remote = tree({ old: linkDir, 'old/a.txt': below(remoteV1, 'old'), 'tool.sh': { ...remoteV1, symlink: true } });
      const p = plan('toRemote', tree({}), remote);
      assert.deepEqual(describePlan(p), ['delete old/', 'delete tool.sh']);
      assert.ok(p.actions.every((a) => a.link), 'both marked as links');
      assert.match(p.actions[0].reason, /the link alone is removed, not the folder it points to/);
      // Ticking the link's delete is enough: nothing below it waits to be deleted first.
      assert.deepEqual(selectActions(p, ['delete:old']).map((a) => a.id), ['delete:old']);
    });

    it('copies a followed link as its target, both ways', () => {
      const local = tree({ 'conf.php': { ...localV2, symlink: true } });
      const remote = tree({ 'conf.php': remoteV1 });
      const rec = record({ 'conf.php': synced(localV1, remoteV1) });
      assert.deepEqual(describePlan(plan('toRemote', local, remote, rec)), ['update conf.php checked']);
    });
  });

  it('summarizes the chosen actions', () => {
    const rec = record({ 'a.txt': synced(localV1, remoteV1), 'b.txt': synced(localV1, remoteV1) });
    const p = plan('toRemote', tree({ 'a.txt': localV2, 'new.txt': localV1 }), tree({ 'a.txt': remoteV2, 'b.txt': remoteV1 }), rec);
    assert.deepEqual(summarize(p.actions), { create: 1, update: 1, delete: 1, conflicts: 1, bytes: 220 });
  });
});
