import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SyncState } from '../../src/sync/state';
import type { TreeEntry } from '../../src/sync/types';

const MIN = 60_000;
const T = Date.UTC(2026, 10, 20, 8, 30);

describe('sync record: server times taken in another zone (SyncState.reconcileZone)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function stateWith(stored: object): Promise<SyncState> {
    const file = path.join(dir, 'link.json');
    fs.writeFileSync(file, JSON.stringify(stored));
    return SyncState.load(file, 'test');
  }
  const listed = (size: number, mtime: number, mtimePrecision?: TreeEntry['mtimePrecision']): TreeEntry => ({ type: 'file', size, mtime, ...(mtimePrecision ? { mtimePrecision } : {}) });
  const local = { size: 1, mtime: 5 };

  it('an older record (version 1): LIST times read as UTC are moved by the zone now known; exact and already-right times are not', async () => {
    const state = await stateWith({ version: 1, link: 'x', files: {
      'wall-clock.txt': { local, remote: { size: 10, mtime: T + 120 * MIN } }, // the server's wall clock, UTC+2, read as UTC
      'already-utc.txt': { local, remote: { size: 10, mtime: T } }, // written since zones were detected
      'mlsd.txt': { local, remote: { size: 10, mtime: T + 120 * MIN } }, // an exact time is never moved
      'resized.txt': { local, remote: { size: 10, mtime: T + 120 * MIN } }, // changed on the server: stays a change
    } });
    assert.equal(state.remoteZone, undefined);
    const tree = new Map<string, TreeEntry>([
      ['wall-clock.txt', listed(10, T, 'minute')],
      ['already-utc.txt', listed(10, T, 'minute')],
      ['mlsd.txt', listed(10, T)],
      ['resized.txt', listed(11, T, 'minute')],
    ]);
    assert.deepEqual(state.reconcileZone(tree, 120, false), ['wall-clock.txt']);
    assert.deepEqual(state.get('wall-clock.txt'), { local, remote: { size: 10, mtime: T } });
    assert.deepEqual(state.get('mlsd.txt')?.remote, { size: 10, mtime: T + 120 * MIN });
    assert.deepEqual(state.get('resized.txt')?.remote, { size: 10, mtime: T + 120 * MIN });
    assert.equal(state.remoteZone, undefined, 'a part of the link says nothing of the rest');
    state.reconcileZone(tree, 120, true);
    assert.equal(state.remoteZone, 120);
    await state.save();
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'link.json'), 'utf8')) as { version: number; remoteZone?: number };
    assert.deepEqual([saved.version, saved.remoteZone], [2, 120]);
  });

  it('a record of a zone set since changed (timeZoneOffset +02:00 → +01:00) follows the difference; the same zone moves nothing', async () => {
    const state = await stateWith({ version: 2, link: 'x', remoteZone: 120, files: { 'a.txt': { local, remote: { size: 3, mtime: T } } } });
    // With +01:00 the same LIST line is an hour later in UTC than with +02:00.
    const tree = new Map<string, TreeEntry>([['a.txt', listed(3, T + 60 * MIN, 'day')]]);
    assert.deepEqual(state.reconcileZone(tree, 120, true), [], 'same zone');
    assert.deepEqual(state.reconcileZone(tree, 60, true), ['a.txt']);
    assert.equal(state.get('a.txt')?.remote.mtime, T + 60 * MIN);
    assert.equal(state.remoteZone, 60);
  });
});
