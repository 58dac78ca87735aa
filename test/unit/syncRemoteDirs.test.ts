import * as assert from 'node:assert/strict';
import { FtpError } from '../../src/ftp/errors';
import type { FileEntry } from '../../src/ftp/types';
import { RemoteDirs } from '../../src/sync/remoteDirs';
import type { SyncRemote } from '../../src/sync/types';

/** A stand-in server: folders and the names in them; counts listings and MKDs. */
class FakeRemote implements SyncRemote {
  readonly folders = new Map<string, Set<string>>([['/', new Set()], ['/site', new Set(['old.txt'])]]);
  readonly listed: string[] = [];
  readonly made: string[] = [];
  failListing = false;
  readonly cache = { invalidate: (): void => undefined };

  async list(path: string): Promise<FileEntry[]> {
    this.listed.push(path);
    await new Promise((r) => setImmediate(r)); // the answer comes later: other files ask meanwhile
    if (this.failListing) throw new FtpError('connection-lost', 'gone');
    const names = this.folders.get(path);
    if (!names) throw new FtpError('not-found', `${path}: not found`);
    return [...names].map((name) => ({ name, type: 'file', size: 1 }));
  }
  async createDirectory(path: string): Promise<void> {
    if (this.folders.has(path)) throw new FtpError('exists', `${path} exists`);
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (!this.folders.has(parent)) throw new FtpError('server', '550 Create directory operation failed.');
    this.made.push(path);
    this.folders.set(path, new Set());
  }
  downloadToFile(): Promise<number> { throw new Error('not used'); }
  writeFile(): Promise<FileEntry & { created: boolean }> { throw new Error('not used'); }
  createFile(): Promise<number> { throw new Error('not used'); }
  delete(): Promise<void> { throw new Error('not used'); }
  rename(): Promise<void> { throw new Error('not used'); }
  removeListed(): Promise<void> { throw new Error('not used'); }
}

describe('RemoteDirs: making folders', () => {
  it('makes a missing parent once when several of its new folders are made at once, whatever order their refusals come in', async () => {
    // The server judged b's MKD when the parent was missing, but its answer comes only after a's
    // refusal has led to the parent being made.
    class SlowToRefuse extends FakeRemote {
      override async createDirectory(path: string): Promise<void> {
        const judged = super.createDirectory(path);
        judged.catch(() => undefined);
        if (path === '/new/b') for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        return judged;
      }
    }
    const remote = new SlowToRefuse();
    const dirs = new RemoteDirs(remote);
    await Promise.all([dirs.ensure('/new/a'), dirs.ensure('/new/b')]);
    assert.deepEqual(remote.made.sort(), ['/new', '/new/a', '/new/b']);
  });
});

describe('RemoteDirs: what is surely absent on the server', () => {
  it('trusts the folders it made itself, parents included, without listing them', async () => {
    const remote = new FakeRemote();
    const dirs = new RemoteDirs(remote, ['/site']);
    await dirs.ensure('/site/a/b');
    assert.deepEqual(remote.made, ['/site/a', '/site/a/b']);
    assert.equal(await dirs.isAbsent('/site/a/b/new.txt'), true);
    assert.equal(await dirs.isAbsent('/site/a/new.txt'), true);
    assert.deepEqual(remote.listed, []);
  });

  it('does not trust a folder that was there already: one listing, shared by the files going into it', async () => {
    const remote = new FakeRemote();
    const dirs = new RemoteDirs(remote);
    await dirs.ensure('/site');
    assert.deepEqual(remote.made, [], 'it existed');
    const answers = await Promise.all([dirs.isAbsent('/site/new.txt'), dirs.isAbsent('/site/old.txt'), dirs.isAbsent('/site/other.txt')]);
    assert.deepEqual(answers, [true, false, true]);
    assert.deepEqual(remote.listed, ['/site']);
  });

  it('lists the folder again once its listing is a few seconds old', async () => {
    const remote = new FakeRemote();
    let now = 1_000_000;
    const dirs = new RemoteDirs(remote, ['/site'], () => now);
    assert.equal(await dirs.isAbsent('/site/late.txt'), true);
    remote.folders.get('/site')!.add('late.txt');
    now += 1000;
    assert.equal(await dirs.isAbsent('/site/late.txt'), true, 'still within the listing\'s few seconds');
    now += 5000;
    assert.equal(await dirs.isAbsent('/site/late.txt'), false, 'someone else put it there meanwhile');
    assert.deepEqual(remote.listed, ['/site', '/site']);
  });

  it('counts a folder it cannot list as "maybe there"', async () => {
    const remote = new FakeRemote();
    remote.failListing = true;
    const dirs = new RemoteDirs(remote, ['/site']);
    assert.equal(await dirs.isAbsent('/site/new.txt'), false);
    assert.equal(await dirs.isAbsent('/nowhere/new.txt'), false);
  });
});
