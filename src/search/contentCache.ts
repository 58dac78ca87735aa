/**
 * Files a text search downloaded, kept on disk so the next search downloads only what changed.
 * An entry is valid for one path at one size and modification time (as a fresh listing shows
 * them): any change on the server makes it a miss. Capped in bytes; the least recently used go
 * first. A file whose server gives no modification time is never cached (size alone would miss a
 * same-size edit).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

interface Entry {
  /** Empty for a binary file: only the fact is kept, so the next search need not download it again. */
  file: string;
  binary?: true;
  /** The file's size on the server, as listed. */
  size: number;
  /** Bytes it takes in the cache (0 for a binary file). */
  bytes: number;
  mtime: number;
  used: number;
}

interface Manifest {
  version: 1;
  entries: Record<string, Entry>;
}

const MANIFEST = 'manifest.json';

export class ContentCache {
  private entries = new Map<string, Entry>();
  private total = 0;
  private loaded?: Promise<void>;
  private clock = 0;
  private dirty = false;
  /** Answered from disk / had to be downloaded, since this object was made. */
  hits = 0;
  misses = 0;

  constructor(
    readonly dir: string,
    private capBytes: number,
  ) {}

  get bytes(): number {
    return this.total;
  }
  get count(): number {
    return this.entries.size;
  }

  setCap(bytes: number): void {
    this.capBytes = bytes;
  }

  /**
   * The cached bytes of `id` (a server and path) if the cache has it at this size and time, or
   * 'binary' when it was found binary at this size and time.
   */
  async get(id: string, size: number, mtime: number | undefined): Promise<Buffer | 'binary' | undefined> {
    await this.load();
    const entry = this.entries.get(id);
    if (!entry || mtime === undefined || entry.size !== size || entry.mtime !== mtime) {
      this.misses++;
      return undefined;
    }
    if (entry.binary) {
      entry.used = this.tick();
      this.hits++;
      return 'binary';
    }
    try {
      const data = await fs.readFile(path.join(this.dir, entry.file));
      if (data.length !== size) throw new Error('size differs');
      entry.used = this.tick();
      this.dirty = true;
      this.hits++;
      return data;
    } catch {
      // Removed or damaged behind our back: a miss, and the entry goes.
      this.drop(id);
      this.misses++;
      return undefined;
    }
  }

  /** Keeps `data` as `id` at this size and time, then evicts the least recently used beyond the cap. */
  async put(id: string, size: number, mtime: number | undefined, data: Uint8Array): Promise<void> {
    if (mtime === undefined || data.length !== size || data.length > this.capBytes) return;
    await this.load();
    const file = createHash('sha1').update(`${id}\0${size}\0${mtime}`).digest('hex');
    await fs.mkdir(this.dir, { recursive: true });
    await fs.writeFile(path.join(this.dir, file), data);
    const old = this.entries.get(id);
    if (old && old.file !== file) this.drop(id);
    else if (old) this.total -= old.bytes;
    this.entries.set(id, { file, size, bytes: size, mtime, used: this.tick() });
    this.total += size;
    this.dirty = true;
    await this.evict();
  }

  /** Remembers that `id` at this size and time is binary (no bytes kept). */
  async putBinary(id: string, size: number, mtime: number | undefined): Promise<void> {
    if (mtime === undefined) return;
    await this.load();
    this.drop(id);
    this.entries.set(id, { file: '', binary: true, size, bytes: 0, mtime, used: this.tick() });
    this.dirty = true;
  }

  /** Writes the manifest (what is cached, and when it was last used) if it changed. */
  async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const manifest: Manifest = { version: 1, entries: Object.fromEntries(this.entries) };
    await fs.mkdir(this.dir, { recursive: true });
    const temp = path.join(this.dir, `${MANIFEST}.${process.pid}.tmp`);
    await fs.writeFile(temp, JSON.stringify(manifest));
    await fs.rename(temp, path.join(this.dir, MANIFEST));
  }

  /** Removes everything. */
  async clear(): Promise<void> {
    await this.load();
    const files = [...this.entries.values()].map((e) => e.file).filter((f) => f !== '');
    this.entries.clear();
    this.total = 0;
    this.dirty = true;
    await Promise.all(files.map((f) => fs.rm(path.join(this.dir, f), { force: true })));
    await this.flush();
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      try {
        const manifest = JSON.parse(await fs.readFile(path.join(this.dir, MANIFEST), 'utf8')) as Manifest;
        if (manifest.version !== 1) return;
        for (const [id, e] of Object.entries(manifest.entries)) {
          this.entries.set(id, e);
          this.total += e.bytes;
          this.clock = Math.max(this.clock, e.used);
        }
      } catch {
        // No cache yet, or an unreadable manifest: start empty (the files it named are overwritten or evicted).
      }
    })();
    return this.loaded;
  }

  private tick(): number {
    this.clock = Math.max(this.clock + 1, Date.now());
    return this.clock;
  }

  private drop(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.total -= entry.bytes;
    this.dirty = true;
    if (entry.file) void fs.rm(path.join(this.dir, entry.file), { force: true }).catch(() => undefined);
  }

  private async evict(): Promise<void> {
    if (this.total <= this.capBytes) return;
    const oldestFirst = [...this.entries].sort((a, b) => a[1].used - b[1].used);
    for (const [id] of oldestFirst) {
      if (this.total <= this.capBytes) break;
      this.drop(id);
    }
  }
}
