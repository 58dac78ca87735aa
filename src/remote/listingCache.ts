/**
 * Short-lived cache of folder listings. VS Code asks for the same folder and for many files that do
 * not exist (.vscode/settings.json, .vscode/tasks.json, .git, …) in bursts; a listing fetched a few
 * seconds ago answers those without a round trip, and a path the server said was not there is
 * remembered as absent — with everything below it — for as long as a listing is. Our own changes,
 * and the server showing a path after all, invalidate the affected folders and paths at once.
 */
import type { FileEntry } from '../ftp/types';

export type Lookup = { kind: 'entry'; entry: FileEntry } | { kind: 'absent' } | { kind: 'unknown' };

interface Cached {
  entries: Map<string, FileEntry>;
  at: number;
  /** The server left out names beginning with a dot: the listing does not speak for them. */
  hidesDotFiles?: boolean;
}

const MAX_ABSENT = 1000;

export class ListingCache {
  private readonly folders = new Map<string, Cached>();
  /** Paths known missing (said by the server, or looked up in a listing), with since when. */
  private readonly absent = new Map<string, number>();
  /**
   * Files as the server described them a moment ago: a stat's answer, or (`own`) what our own save
   * found right after it — the stat VS Code makes after a save is answered from that.
   */
  private readonly files = new Map<string, { entry: FileEntry; at: number; own: boolean }>();
  /** Invalidations so far; the latest per changed path (it and what is below it), and per folder holding one. */
  private changes = 0;
  private readonly changedAt = new Map<string, number>();
  private readonly folderChangedAt = new Map<string, number>();

  constructor(
    private ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  setTtl(ms: number): void {
    this.ttlMs = ms;
    if (ms <= 0) this.clear();
  }

  /** The cached listing of `dir`, if fresh. */
  get(dir: string): FileEntry[] | undefined {
    const c = this.fresh(dir);
    return c ? [...c.entries.values()] : undefined;
  }

  set(dir: string, entries: readonly FileEntry[], opts: { hidesDotFiles?: boolean } = {}): void {
    if (this.ttlMs <= 0) return;
    this.folders.set(dir, { entries: new Map(entries.map((e) => [e.name, e])), at: this.now(), ...(opts.hidesDotFiles ? { hidesDotFiles: true } : {}) });
  }

  /** A mark for changedSince(), taken when a listing is asked for. */
  mark(): number {
    return this.changes;
  }

  /**
   * Something in or below `dir` was invalidated after `since` (a mark()): a listing asked for
   * before it may not show our own create or rename, so it must not be kept.
   */
  changedSince(dir: string, since: number): boolean {
    if ((this.folderChangedAt.get(dir) ?? 0) > since) return true;
    for (const [p, at] of this.changedAt) {
      if (at > since && (p === dir || dir.startsWith(p === '/' ? '/' : `${p}/`))) return true;
    }
    return false;
  }

  /**
   * What the cache says about `path`: missing when the server said so of it or of a folder above it
   * (recently), else what its parent's fresh listing shows. A listing does not speak for paths
   * below its entries until one of them was looked up and found missing: a folder another client
   * made since would look missing, and a search walk fills the cache with many listings.
   */
  lookup(path: string): Lookup {
    if (this.isMissing(path)) return { kind: 'absent' };
    if (path === '/') return { kind: 'unknown' };
    const { dir, name } = split(path);
    const c = this.fresh(dir);
    if (!c) return { kind: 'unknown' };
    const entry = c.entries.get(name);
    if (entry) return { kind: 'entry', entry };
    if (c.hidesDotFiles && name.startsWith('.')) return { kind: 'unknown' };
    // Remembered as missing as long as the listing that shows it is fresh: what VS Code asks next is
    // below it (.vscode/settings.json, .vscode/tasks.json, … after .vscode).
    if (!this.absent.has(path)) this.rememberAbsent(path, c.at);
    return { kind: 'absent' };
  }

  /** The server said `path` does not exist (550 to a stat or listing). */
  setAbsent(path: string): void {
    if (this.ttlMs <= 0 || path === '/') return;
    this.files.delete(path);
    this.absent.delete(path);
    this.rememberAbsent(path, this.now());
  }

  /** Bounded: a long session (a search, a sync) asks about many paths once each. */
  private rememberAbsent(path: string, at: number): void {
    this.absent.set(path, at);
    if (this.absent.size <= MAX_ABSENT) return;
    for (const key of [...this.absent.keys()]) if (!this.isAbsent(key)) this.absent.delete(key);
    while (this.absent.size > MAX_ABSENT) this.absent.delete(this.absent.keys().next().value as string);
  }

  /**
   * The server has just shown that `path` exists (a stat, read or listing of it worked): a cached
   * listing above it that says otherwise is out of date — someone else made it — and goes.
   */
  confirmExists(path: string): void {
    for (let p = path; p !== '/'; p = split(p).dir) {
      this.absent.delete(p);
      const { dir, name } = split(p);
      const c = this.folders.get(dir);
      if (c && !c.entries.has(name)) this.folders.delete(dir);
    }
  }

  /** The server described the file at `path` now (`own`: as our own save left it). */
  rememberFile(path: string, entry: FileEntry, own: boolean): void {
    if (this.ttlMs <= 0) return;
    this.files.delete(path);
    this.files.set(path, { entry, at: this.now(), own });
    if (this.files.size > MAX_ABSENT) this.files.delete(this.files.keys().next().value as string);
  }

  /**
   * The file at `path` as the server described it less than `maxAgeMs` ago (at most the cache's
   * lifetime); with `ownOnly`, only as our own save left it.
   */
  recentFile(path: string, opts: { maxAgeMs?: number; ownOnly?: boolean; once?: boolean } = {}): FileEntry | undefined {
    const known = this.files.get(path);
    if (!known) return undefined;
    const age = this.now() - known.at;
    if (age >= this.ttlMs) {
      this.files.delete(path);
      return undefined;
    }
    if (opts.ownOnly && !known.own) return undefined;
    if (opts.maxAgeMs !== undefined && age >= opts.maxAgeMs) return undefined;
    if (opts.once) this.files.delete(path);
    return known.entry;
  }

  /** Forget `path`, its parent folder and (for folders) everything below it. */
  invalidate(path: string): void {
    this.changes++;
    const marks: Array<[Map<string, number>, string]> = [[this.changedAt, path]];
    if (path !== '/') marks.push([this.folderChangedAt, split(path).dir]);
    for (const [map, key] of marks) {
      map.delete(key);
      map.set(key, this.changes);
      // Only listings in flight need these: a few hundred paths are far more than ever are.
      while (map.size > 512) map.delete(map.keys().next().value as string);
    }
    this.folders.delete(path);
    for (const key of [...this.files.keys()]) if (key === path || key.startsWith(path === '/' ? '/' : `${path}/`)) this.files.delete(key);
    if (path !== '/') this.folders.delete(split(path).dir);
    const prefix = path === '/' ? '/' : `${path}/`;
    for (const key of [...this.folders.keys()]) if (key.startsWith(prefix)) this.folders.delete(key);
    // A path made now, or a folder made above paths once missing (mkdir -p): none is absent any more.
    for (const key of [...this.absent.keys()]) if (key === path || key.startsWith(prefix) || path.startsWith(`${key}/`)) this.absent.delete(key);
  }

  clear(): void {
    this.folders.clear();
    this.files.clear();
    this.absent.clear();
  }

  /** The server said `path` or a folder above it is missing, within the cache's lifetime. */
  isMissing(path: string): boolean {
    for (let p = path; p !== '/'; p = split(p).dir) if (this.isAbsent(p)) return true;
    return false;
  }

  private isAbsent(path: string): boolean {
    const at = this.absent.get(path);
    if (at === undefined) return false;
    if (this.now() - at < this.ttlMs) return true;
    this.absent.delete(path);
    return false;
  }

  private fresh(dir: string): Cached | undefined {
    const c = this.folders.get(dir);
    if (!c) return undefined;
    if (this.now() - c.at >= this.ttlMs) {
      this.folders.delete(dir);
      return undefined;
    }
    return c;
  }
}

function split(path: string): { dir: string; name: string } {
  const i = path.lastIndexOf('/');
  return { dir: i <= 0 ? '/' : path.slice(0, i), name: path.slice(i + 1) };
}
