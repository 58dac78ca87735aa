/**
 * The remote index's bookkeeping: a walk fills it, listings and the extension's own writes keep it
 * current, it survives on disk with its age, and ignore globs keep folders out. The server side is a
 * folder tree in memory behind the same interface RemoteFs gives the index (list + observe);
 * test/integration/search.test.ts checks the same against real servers.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpError } from '../../src/ftp/errors';
import type { FileEntry } from '../../src/ftp/types';
import type { RemoteFsNews } from '../../src/remote/remoteFs';
import { RemoteIndex, type IndexSource } from '../../src/search/remoteIndex';

/** A server's tree: folder path → entries; lists count the listings asked for. */
class MemoryTree implements IndexSource {
  readonly dirs = new Map<string, FileEntry[]>();
  readonly lanes: (string | undefined)[] = [];
  readonly fresh: (boolean | undefined)[] = [];
  private readonly observers = new Set<(n: RemoteFsNews) => void>();
  denied = new Set<string>();

  constructor(files: Record<string, number>) {
    for (const [p, size] of Object.entries(files)) this.add(p, size);
  }
  add(p: string, size: number, mtime = 1000): void {
    const parts = p.split('/').filter(Boolean);
    let dir = '/';
    this.dirs.set('/', this.dirs.get('/') ?? []);
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i];
      const list = this.dirs.get(dir)!;
      const isFile = i === parts.length - 1;
      const existing = list.findIndex((e) => e.name === name);
      if (existing >= 0) list.splice(existing, 1);
      list.push(isFile ? { name, type: 'file', size, mtime } : { name, type: 'directory', size: 0 });
      dir = dir === '/' ? `/${name}` : `${dir}/${name}`;
      if (!isFile && !this.dirs.has(dir)) this.dirs.set(dir, []);
    }
  }
  async list(p: string, opts?: { lane?: string; fresh?: boolean }): Promise<FileEntry[]> {
    this.lanes.push(opts?.lane);
    this.fresh.push(opts?.fresh);
    await new Promise((r) => setImmediate(r));
    if (this.denied.has(p)) throw new FtpError('permission', `550 ${p}: Permission denied`, { code: 550 });
    const entries = this.dirs.get(p);
    if (!entries) throw new FtpError('not-found', `550 ${p}: No such file or directory`, { code: 550 });
    const copy = entries.map((e) => ({ ...e }));
    this.tell({ type: 'listed', path: p, entries: copy });
    return copy;
  }
  observe(observer: (n: RemoteFsNews) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }
  tell(news: RemoteFsNews): void {
    for (const o of this.observers) o(news);
  }
}

const paths = (index: RemoteIndex) => [...index.files()].map((f) => f.path).sort();

describe('RemoteIndex', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-index-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('walks the whole tree in the background lane, streaming folders, and knows its age', async () => {
    const tree = new MemoryTree({ 'a.txt': 1, 'src/b.ts': 2, 'src/deep/c.ts': 3, 'docs/d.md': 4 });
    let now = 5000;
    const index = new RemoteIndex(tree, '/', { now: () => now });
    assert.equal(index.age, undefined, 'never walked: no age');
    const seen: string[] = [];
    await index.refresh({ onFolder: (rel, files) => seen.push(`${rel || '.'}:${files.length}`) });
    assert.deepEqual(paths(index), ['a.txt', 'docs/d.md', 'src/b.ts', 'src/deep/c.ts']);
    assert.deepEqual(seen.sort(), ['.:1', 'docs:1', 'src/deep:1', 'src:1']);
    assert.ok(tree.lanes.every((l) => l === 'background'));
    assert.ok(tree.fresh.every((f) => f === true), 'a walk never takes a cached listing');
    now += 1500;
    assert.equal(index.age, 1500);
    assert.equal(index.fileCount, 4);
  });

  it('indexes a folder below the server root with paths relative to it', async () => {
    const tree = new MemoryTree({ 'www/index.html': 1, 'www/css/site.css': 2, 'other/x': 3 });
    const index = new RemoteIndex(tree, '/www');
    await index.refresh();
    assert.deepEqual(paths(index), ['css/site.css', 'index.html']);
    assert.equal(index.relativeOf('/www/css/site.css'), 'css/site.css');
    assert.equal(index.relativeOf('/wwwx/a'), undefined);
  });

  it('leaves out excluded folders without listing them', async () => {
    const tree = new MemoryTree({ 'a.js': 1, 'node_modules/p/index.js': 2, 'lib/.git/HEAD': 3, 'lib/b.js': 4 });
    const index = new RemoteIndex(tree, '/', { exclude: ['**/node_modules', '.git'] });
    await index.refresh();
    assert.deepEqual(paths(index), ['a.js', 'lib/b.js']);
    assert.equal(tree.lanes.length, 2, 'only / and /lib were listed');
  });

  it('is updated by any listing of a known folder: new, changed and vanished files and folders', async () => {
    const tree = new MemoryTree({ 'a.txt': 1, 'sub/b.txt': 2, 'sub/inner/c.txt': 3 });
    const index = new RemoteIndex(tree, '/');
    await index.refresh();
    let changes = 0;
    index.on('change', () => changes++);
    // Someone else changes the server; the Explorer lists /sub.
    tree.dirs.set('/sub', [{ name: 'b.txt', type: 'file', size: 20, mtime: 2000 }, { name: 'new.txt', type: 'file', size: 5, mtime: 2000 }]);
    await tree.list('/sub');
    assert.deepEqual(paths(index), ['a.txt', 'sub/b.txt', 'sub/new.txt']);
    assert.equal(index.file('sub/b.txt')?.size, 20);
    assert.equal(index.fileCount, 3);
    assert.ok(changes > 0);
    // A listing of a folder the index never reached (outside its root) changes nothing.
    const outside = new RemoteIndex(tree, '/sub');
    await tree.list('/');
    assert.equal(outside.fileCount, 0);
  });

  it('follows the extension\'s own writes: save, new folder, rename, delete', async () => {
    const tree = new MemoryTree({ 'a.txt': 1, 'sub/b.txt': 2 });
    const index = new RemoteIndex(tree, '/');
    await index.refresh();
    tree.tell({ type: 'written', path: '/sub/new.txt', entry: { name: 'new.txt', type: 'file', size: 7, mtime: 3000 } });
    assert.deepEqual(index.file('sub/new.txt'), { path: 'sub/new.txt', size: 7, mtime: 3000 });
    tree.tell({ type: 'folder-created', path: '/made' });
    tree.tell({ type: 'written', path: '/made/x.txt' });
    assert.equal(index.file('made/x.txt')?.size, -1, 'a file created without a stat has an unknown size');
    tree.tell({ type: 'renamed', from: '/sub', to: '/moved' });
    assert.deepEqual(paths(index), ['a.txt', 'made/x.txt', 'moved/b.txt', 'moved/new.txt']);
    tree.tell({ type: 'renamed', from: '/a.txt', to: '/moved/a2.txt' });
    tree.tell({ type: 'deleted', path: '/made' });
    assert.deepEqual(paths(index), ['moved/a2.txt', 'moved/b.txt', 'moved/new.txt']);
    assert.equal(index.fileCount, 3);
  });

  it('goes on past a folder it may not read and reports it; a lost connection ends the walk without an age', async () => {
    const tree = new MemoryTree({ 'a.txt': 1, 'secret/s.txt': 2, 'open/o.txt': 3 });
    tree.denied.add('/secret');
    const index = new RemoteIndex(tree, '/');
    await index.refresh();
    assert.deepEqual(paths(index), ['a.txt', 'open/o.txt']);
    assert.deepEqual(index.walkProblems.map((p) => p.path), ['secret']);
    assert.notEqual(index.walkedAt, undefined);

    const cut = new MemoryTree({ 'a.txt': 1, 'sub/b.txt': 2 });
    const broken = new RemoteIndex(cut, '/');
    cut.list = async (p) => {
      if (p === '/sub') throw new FtpError('connection-lost', 'Connection closed by server');
      return MemoryTree.prototype.list.call(cut, p);
    };
    await assert.rejects(broken.refresh(), /Connection closed/);
    assert.equal(broken.walkedAt, undefined, 'an incomplete walk gives no age');
    assert.deepEqual(paths(broken), ['a.txt'], 'what was listed stays');
    assert.equal(broken.refreshIfOlderThan(600_000), undefined, 'a failed walk is not tried again at once');
  });

  it('is kept on disk with its age and read back; another root or other excludes start empty', async () => {
    const tree = new MemoryTree({ 'a.txt': 1, 'sub/b.txt': 2 });
    const store = path.join(tmp, 'idx', 'index.json');
    const index = new RemoteIndex(tree, '/', { storePath: store, now: () => 42 });
    await index.refresh();
    await index.save();
    const again = new RemoteIndex(tree, '/', { storePath: store, now: () => 100 });
    assert.equal(await again.load(), true);
    assert.deepEqual(paths(again), ['a.txt', 'sub/b.txt']);
    assert.equal(again.walkedAt, 42);
    assert.equal(again.age, 58);
    assert.equal(again.file('sub/b.txt')?.mtime, 1000);
    assert.equal(await new RemoteIndex(tree, '/sub', { storePath: store }).load(), false);
    assert.equal(await new RemoteIndex(tree, '/', { storePath: store, exclude: ['x'] }).load(), false);
    assert.equal(await new RemoteIndex(tree, '/', { storePath: path.join(tmp, 'none.json') }).load(), false);
  });

  it('joins a walk under way instead of starting another', async () => {
    const tree = new MemoryTree({ 'a.txt': 1, 'sub/b.txt': 2 });
    const index = new RemoteIndex(tree, '/');
    await Promise.all([index.refresh(), index.refresh(), index.refreshIfOlderThan(1000)]);
    assert.equal(tree.lanes.length, 2);
    assert.equal(index.refreshIfOlderThan(60_000), undefined, 'fresh enough: no walk');
  });
});
