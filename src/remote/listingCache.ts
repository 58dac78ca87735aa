/**
 * Short-lived cache of folder listings. VS Code asks for the same folder and for many files that do
 * not exist (.vscode/settings.json, .git, …) in bursts; a listing fetched a few seconds ago answers
 * those without a round trip. Our own changes invalidate the affected folders at once.
 */
import type { FileEntry } from '../ftp/types';

export type Lookup = { kind: 'entry'; entry: FileEntry } | { kind: 'absent' } | { kind: 'unknown' };

interface Cached {
  entries: Map<string, FileEntry>;
  at: number;
}

export class ListingCache {
  private readonly folders = new Map<string, Cached>();

  constructor(
    private ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  setTtl(ms: number): void {
    this.ttlMs = ms;
    if (ms <= 0) this.folders.clear();
  }

  /** The cached listing of `dir`, if fresh. */
  get(dir: string): FileEntry[] | undefined {
    const c = this.fresh(dir);
    return c ? [...c.entries.values()] : undefined;
  }

  set(dir: string, entries: readonly FileEntry[]): void {
    if (this.ttlMs <= 0) return;
    this.folders.set(dir, { entries: new Map(entries.map((e) => [e.name, e])), at: this.now() });
  }

  /** What the parent's cached listing says about `path`. */
  lookup(path: string): Lookup {
    if (path === '/') return { kind: 'unknown' };
    const { dir, name } = split(path);
    const c = this.fresh(dir);
    if (!c) return { kind: 'unknown' };
    const entry = c.entries.get(name);
    return entry ? { kind: 'entry', entry } : { kind: 'absent' };
  }

  /** Forget `path`, its parent folder and (for folders) everything below it. */
  invalidate(path: string): void {
    this.folders.delete(path);
    if (path !== '/') this.folders.delete(split(path).dir);
    const prefix = path === '/' ? '/' : `${path}/`;
    for (const key of [...this.folders.keys()]) if (key.startsWith(prefix)) this.folders.delete(key);
  }

  clear(): void {
    this.folders.clear();
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
