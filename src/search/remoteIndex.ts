/**
 * The index of one remote folder: every file and folder under it, by relative path, so that Go to
 * File answers without a round trip and a text search knows which files to read. It is filled by
 * a walk through the pool's background lane (folders in parallel, each applied as soon as it is
 * listed), kept current by every listing anyone makes through the same RemoteFs (the Explorer's
 * included) and by the extension's own writes, and kept on disk between sessions with the time of
 * its last complete walk — its age is always known, never hidden.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { FtpError, isFtpError } from '../ftp/errors';
import { normalize } from '../ftp/remotePath';
import type { FileEntry } from '../ftp/types';
import type { LaneOptions, RemoteFsNews } from '../remote/remoteFs';
import { joinRel, walkFolders, type RelPath } from '../remote/walk';
import { PathFilter } from './glob';

/** What the index needs of RemoteFs. */
export interface IndexSource {
  list(path: string, opts?: LaneOptions & { fresh?: boolean }): Promise<FileEntry[]>;
  observe(observer: (news: RemoteFsNews) => void): () => void;
}

/** A file as the index knows it; `mtime` undefined when the server does not tell it. */
export interface IndexedFile {
  /** Relative to the index's root. */
  path: RelPath;
  size: number;
  mtime?: number;
}

interface Folder {
  files: Map<string, { size: number; mtime?: number }>;
  folders: Set<string>;
}

export interface RemoteIndexOptions {
  /** Globs of files and folders never indexed (walked into), relative to the root. */
  exclude?: readonly string[];
  /** Where the index is kept between sessions (a file path); none: memory only. */
  storePath?: string;
  /** Listings at once during a walk (the pool's background share caps the connections). */
  concurrency?: number;
  now?: () => number;
}

export interface RefreshOptions {
  signal?: AbortSignal;
  /** Walk only this folder of the root and below (default '': all); the index's age counts whole walks only. */
  under?: RelPath;
  /** Told each folder's files as the walk lists it (e.g. for a text search to start on them). */
  onFolder?: (rel: RelPath, files: IndexedFile[]) => void;
  /** Told each folder the walk could not list (it goes on without it). */
  onProblem?: (problem: WalkProblem) => void;
  /** Awaited before each folder is listed (a search holds its walk back while files wait to be read). */
  beforeList?: () => Promise<void>;
}

/** Folders a walk could not list, and why (e.g. "550 Permission denied"). */
export interface WalkProblem {
  path: RelPath;
  message: string;
}

const STORE_VERSION = 1;

interface Stored {
  version: number;
  root: string;
  exclude: string[];
  walkedAt?: number;
  complete: boolean;
  /** [folder, [[name, size, mtime?]…], [subfolder…]] */
  folders: [RelPath, [string, number, number?][], string[]][];
}

export class RemoteIndex extends EventEmitter {
  readonly root: string;
  private readonly folders = new Map<RelPath, Folder>();
  private readonly filter: PathFilter;
  private readonly exclude: string[];
  private readonly storePath?: string;
  private readonly concurrency: number;
  private readonly now: () => number;
  private readonly unobserve: () => void;
  private walking?: Promise<void>;
  private walkAbort?: AbortController;
  private fileTotal = 0;
  /** End of the last walk that listed every folder; undefined: never. */
  private walked?: number;
  private problems: WalkProblem[] = [];
  /** When the last whole walk ended, complete or not. */
  private attempted?: number;

  constructor(
    private readonly source: IndexSource,
    root: string,
    options: RemoteIndexOptions = {},
  ) {
    super();
    this.root = normalize(root);
    this.exclude = [...(options.exclude ?? [])];
    this.filter = new PathFilter({ exclude: this.exclude });
    this.storePath = options.storePath;
    this.concurrency = options.concurrency ?? 8;
    this.now = options.now ?? Date.now;
    this.unobserve = source.observe((news) => this.onNews(news));
  }

  /** Files known now. */
  get fileCount(): number {
    return this.fileTotal;
  }
  get folderCount(): number {
    return this.folders.size;
  }
  /** When the last complete walk ended (ms since the epoch); undefined when none did. */
  get walkedAt(): number | undefined {
    return this.walked;
  }
  /** Milliseconds since the last complete walk; undefined when none did. */
  get age(): number | undefined {
    return this.walked === undefined ? undefined : this.now() - this.walked;
  }
  get isWalking(): boolean {
    return this.walking !== undefined;
  }
  /** Folders the last walk could not list. */
  get walkProblems(): readonly WalkProblem[] {
    return this.problems;
  }

  *files(): Generator<IndexedFile> {
    for (const [dir, folder] of this.folders) {
      for (const [name, sig] of folder.files) yield { path: joinRel(dir, name), size: sig.size, mtime: sig.mtime };
    }
  }

  /** Whether the folder at `rel` is indexed ('' is the root once anything was listed). */
  hasFolder(rel: RelPath): boolean {
    return this.folders.has(rel);
  }

  /** The file at `rel`, if indexed. */
  file(rel: RelPath): IndexedFile | undefined {
    const { dir, name } = splitRel(rel);
    const sig = this.folders.get(dir)?.files.get(name);
    return sig ? { path: rel, ...sig } : undefined;
  }

  /**
   * Walks the whole tree from the server (never from the listing cache).
   * A walk already under way is joined rather than repeated. Folders that cannot be listed are
   * left out and reported in `walkProblems`; a lost connection or a cancel ends the walk, leaving
   * what was listed and the previous age (the index says it is not complete).
   */
  refresh(options: RefreshOptions = {}): Promise<void> {
    const under = options.under ?? '';
    if (this.walking && !options.onFolder && under === '') return this.joinWalk(options.signal);
    const abort = new AbortController();
    // Every listing at once waits on it (the pool's queue, the transfer): that many listeners are no leak.
    setMaxListeners(2 * this.concurrency + 10, abort.signal);
    const onAbort = () => abort.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const problems: WalkProblem[] = [];
    const { beforeList } = options;
    const list = beforeList ? async (dir: string) => { await beforeList(); return this.listForWalk(dir); } : (dir: string) => this.listForWalk(dir);
    const work = walkFolders(list, this.root, [under], {
      concurrency: this.concurrency,
      signal: abort.signal,
      descend: (rel) => this.filter.entersFolder(rel),
      onFolder: (rel, entries) => {
        if (!entries) return this.removeFolder(rel);
        this.applyListing(rel, entries);
        options.onFolder?.(rel, this.filesOf(rel));
      },
      onError: (rel, err) => {
        // A folder the user may not read is not a reason to give up on the others.
        if (!isFtpError(err) || err.kind !== 'permission') return false;
        problems.push({ path: rel, message: err.message });
        options.onProblem?.({ path: rel, message: err.message });
        return true;
      },
    }).then(() => {
      if (under !== '') return;
      this.walked = this.now();
      this.problems = problems;
      this.emit('change');
      this.emit('walked');
    });
    if (under !== '') return work.finally(() => options.signal?.removeEventListener('abort', onAbort));
    const tracked = work.finally(() => {
      this.attempted = this.now();
      options.signal?.removeEventListener('abort', onAbort);
      if (this.walking === tracked) {
        this.walking = undefined;
        this.walkAbort = undefined;
      }
      this.emit('state');
    });
    this.walking = tracked;
    this.walkAbort = abort;
    this.emit('state');
    return tracked;
  }

  /**
   * Refreshes in the background when the index is older than `maxAgeMs` or was never completed —
   * but a walk that failed is not tried again within a minute (or `maxAgeMs`, if shorter): a server
   * that cuts every walk short must not be walked on every keystroke of Go to File.
   */
  refreshIfOlderThan(maxAgeMs: number): Promise<void> | undefined {
    if (this.walking) return this.walking;
    const age = this.age;
    if (age !== undefined && age < maxAgeMs) return undefined;
    if (age === undefined && this.attempted !== undefined && this.now() - this.attempted < Math.min(maxAgeMs, 60_000)) return undefined;
    return this.refresh();
  }

  /** Reads the index kept on disk; false when there is none (or it is for another folder or version). */
  async load(): Promise<boolean> {
    if (!this.storePath) return false;
    let stored: Stored;
    try {
      stored = JSON.parse(await fs.readFile(this.storePath, 'utf8')) as Stored;
    } catch {
      return false;
    }
    if (stored.version !== STORE_VERSION || stored.root !== this.root || JSON.stringify(stored.exclude) !== JSON.stringify(this.exclude)) return false;
    this.folders.clear();
    this.fileTotal = 0;
    for (const [dir, files, subfolders] of stored.folders) {
      const folder: Folder = { files: new Map(), folders: new Set(subfolders) };
      for (const [name, size, mtime] of files) folder.files.set(name, mtime === undefined || mtime === null ? { size } : { size, mtime });
      this.fileTotal += folder.files.size;
      this.folders.set(dir, folder);
    }
    this.walked = stored.complete ? stored.walkedAt : undefined;
    this.emit('change');
    return true;
  }

  /** Writes the index to disk (a temporary file renamed over the old one: a crash leaves one of them whole). */
  async save(): Promise<void> {
    if (!this.storePath) return;
    const stored: Stored = {
      version: STORE_VERSION,
      root: this.root,
      exclude: this.exclude,
      walkedAt: this.walked,
      complete: this.walked !== undefined,
      folders: [...this.folders].map(([dir, f]) => [dir, [...f.files].map(([name, s]): [string, number, number?] => (s.mtime === undefined ? [name, s.size] : [name, s.size, s.mtime])), [...f.folders]]),
    };
    await fs.mkdir(path.dirname(this.storePath), { recursive: true });
    const temp = `${this.storePath}.${process.pid}.tmp`;
    await fs.writeFile(temp, JSON.stringify(stored));
    await fs.rename(temp, this.storePath);
  }

  /** Stops a walk under way and stops listening to the RemoteFs. */
  dispose(): void {
    this.walkAbort?.abort();
    this.unobserve();
    this.removeAllListeners();
  }

  // --- keeping current

  /** The relative path of a remote path, undefined when it is outside the root. */
  relativeOf(remotePath: string): RelPath | undefined {
    const p = normalize(remotePath);
    if (p === this.root) return '';
    const prefix = this.root === '/' ? '/' : `${this.root}/`;
    return p.startsWith(prefix) ? p.slice(prefix.length) : undefined;
  }

  private onNews(news: RemoteFsNews): void {
    switch (news.type) {
      case 'listed': {
        const rel = this.relativeOf(news.path);
        // Only folders the index has (or whose parent it has): a listing elsewhere says nothing new.
        if (rel === undefined || !this.known(rel)) return;
        this.applyListing(rel, news.entries);
        return;
      }
      case 'written': {
        const rel = this.relativeOf(news.path);
        if (rel === undefined || rel === '' || !this.filter.keepsFile(rel)) return;
        const { dir, name } = splitRel(rel);
        const folder = this.folders.get(dir);
        if (!folder) return;
        if (!folder.files.has(name)) this.fileTotal++;
        const entry = news.entry;
        folder.files.set(name, entry?.mtime === undefined ? { size: entry?.size ?? -1 } : { size: entry.size, mtime: entry.mtime });
        this.emit('change');
        return;
      }
      case 'folder-created': {
        const rel = this.relativeOf(news.path);
        if (rel === undefined || rel === '' || !this.filter.entersFolder(rel)) return;
        const { dir, name } = splitRel(rel);
        const parent = this.folders.get(dir);
        if (!parent) return;
        parent.folders.add(name);
        if (!this.folders.has(rel)) this.folders.set(rel, { files: new Map(), folders: new Set() });
        this.emit('change');
        return;
      }
      case 'deleted': {
        const rel = this.relativeOf(news.path);
        if (rel === undefined) return;
        this.removePath(rel);
        this.emit('change');
        return;
      }
      case 'renamed': {
        const from = this.relativeOf(news.from);
        const to = this.relativeOf(news.to);
        if (from !== undefined) this.movePath(from, to);
        this.emit('change');
        return;
      }
    }
  }

  private known(rel: RelPath): boolean {
    return this.folders.has(rel) || (rel !== '' && this.folders.has(splitRel(rel).dir));
  }

  private async listForWalk(dir: string): Promise<FileEntry[] | undefined> {
    try {
      // From the server: a walk is how the index learns what others changed, so no cached listing answers it.
      return await this.source.list(dir, { lane: 'background', fresh: true });
    } catch (err) {
      if (isFtpError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /** A folder's listing replaces what the index had of it; subfolders that are gone go with all below them. */
  private applyListing(rel: RelPath, entries: readonly FileEntry[]): void {
    const old = this.folders.get(rel);
    const folder: Folder = { files: new Map(), folders: new Set() };
    for (const e of entries) {
      if (e.name === '.' || e.name === '..') continue;
      const child = joinRel(rel, e.name);
      if (e.type === 'directory') {
        if (this.filter.entersFolder(child)) folder.folders.add(e.name);
      } else if (e.type === 'file') {
        if (this.filter.keepsFile(child)) folder.files.set(e.name, e.mtime === undefined ? { size: e.size } : { size: e.size, mtime: e.mtime });
      }
    }
    if (old) {
      this.fileTotal -= old.files.size;
      for (const name of old.folders) if (!folder.folders.has(name)) this.removeFolder(joinRel(rel, name));
    } else if (rel !== '') {
      // A folder listed before its parent (the Explorer opened it first): its parent learns of it.
      this.folders.get(splitRel(rel).dir)?.folders.add(splitRel(rel).name);
    }
    this.fileTotal += folder.files.size;
    this.folders.set(rel, folder);
    this.emit('change');
  }

  private filesOf(rel: RelPath): IndexedFile[] {
    const folder = this.folders.get(rel);
    return folder ? [...folder.files].map(([name, s]) => ({ path: joinRel(rel, name), size: s.size, mtime: s.mtime })) : [];
  }

  /** Forgets a folder and everything below it. */
  private removeFolder(rel: RelPath): void {
    const prefix = rel === '' ? '' : `${rel}/`;
    for (const [dir, folder] of [...this.folders]) {
      if (dir === rel || dir.startsWith(prefix)) {
        this.fileTotal -= folder.files.size;
        this.folders.delete(dir);
      }
    }
  }

  private removePath(rel: RelPath): void {
    if (rel === '') {
      this.removeFolder('');
      return;
    }
    const { dir, name } = splitRel(rel);
    const parent = this.folders.get(dir);
    if (parent?.files.delete(name)) this.fileTotal--;
    parent?.folders.delete(name);
    this.removeFolder(rel);
  }

  /** A rename moves a file or a whole subtree; out of the root it is a delete. */
  private movePath(from: RelPath, to: RelPath | undefined): void {
    if (from === '') return;
    const { dir, name } = splitRel(from);
    const parent = this.folders.get(dir);
    const file = parent?.files.get(name);
    const moved: [RelPath, Folder][] = [];
    const prefix = `${from}/`;
    for (const [d, folder] of this.folders) if (d === from || d.startsWith(prefix)) moved.push([d, folder]);
    this.removePath(from);
    if (to === undefined || to === '') return;
    const target = splitRel(to);
    const newParent = this.folders.get(target.dir);
    if (file && this.filter.keepsFile(to)) {
      if (!newParent) return;
      if (!newParent.files.has(target.name)) this.fileTotal++;
      newParent.files.set(target.name, file);
    } else if (moved.length > 0 && this.filter.entersFolder(to)) {
      this.removePath(to);
      newParent?.folders.add(target.name);
      for (const [d, folder] of moved) {
        this.folders.set(to + d.slice(from.length), folder);
        this.fileTotal += folder.files.size;
      }
    }
  }

  private joinWalk(signal?: AbortSignal): Promise<void> {
    const walking = this.walking!;
    if (!signal) return walking;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new FtpError('cancelled', 'Cancelled'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      walking.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

function splitRel(rel: RelPath): { dir: RelPath; name: string } {
  const i = rel.lastIndexOf('/');
  return i < 0 ? { dir: '', name: rel } : { dir: rel.slice(0, i), name: rel.slice(i + 1) };
}

