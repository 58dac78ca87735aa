/**
 * The file operations VS Code needs, on remote paths of one server, through its pool. No `vscode`
 * import: the provider maps URIs and errors, this class holds the FTP logic (cache, safe save,
 * overwrite rules) and runs in integration tests against real servers.
 */
import type { Readable, Writable } from 'node:stream';
import * as defaults from '../ftp/defaults';
import { FtpError, isFtpError } from '../ftp/errors';
import type { ConnectionPool, Lane, PooledClient, RunOptions } from '../ftp/pool';
import { assertSafePath, basename, dirname, join, normalize, tempNameFor } from '../ftp/remotePath';
import { sourceSize, type FileEntry, type TransferOptions, type UploadSource } from '../ftp/types';
import { ListingCache, type Lookup } from './listingCache';
import { octalMode } from '../ftp/permissions';
import { checksumOfBytes, checksumOfFile, type Checksum, type ChecksumMethod } from '../ftp/checksum';
import { downloadResumable, uploadResumable } from '../ftp/resume';
import { readFile as readLocalFile, stat as statLocal } from 'node:fs/promises';
import { withSpooledBytes, withSpoolFile } from './spool';
import type { RenameChecked, UploadReplaced } from '../ftp/client';

/** The part of FtpClient the file operations use. */
export interface RemoteClient extends PooledClient {
  list(path: string, opts?: TransferOptions): Promise<FileEntry[]>;
  stat(path: string): Promise<FileEntry>;
  readFile(path: string, opts?: TransferOptions): Promise<Buffer>;
  upload(path: string, source: Readable | Uint8Array, opts?: TransferOptions & { append?: boolean }): Promise<number>;
  uploadFromFile(path: string, localPath: string, opts?: TransferOptions & { append?: boolean; offset?: number }): Promise<number>;
  downloadToFile(path: string, localPath: string, opts?: TransferOptions & { offset?: number }): Promise<number>;
  download(path: string, dest: Writable, opts?: TransferOptions & { offset?: number }): Promise<number>;
  checksumMethod(opts?: { ranged?: boolean }): ChecksumMethod | undefined;
  mkdir(path: string, opts?: { recursive?: boolean }): Promise<void>;
  removeDir(path: string, opts?: { recursive?: boolean }): Promise<void>;
  remove(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  renameChecked(from: string, to: string, expectedSize: number, opts?: { mode?: number }): Promise<RenameChecked>;
  uploadReplacing(temp: string, target: string, source: Uint8Array | { file: string }, expectedSize: number, opts?: TransferOptions & { mode?: number; beforeRename?: () => void }): Promise<UploadReplaced>;
  chmod(path: string, mode: number): Promise<void>;
  checksum(path: string, range?: { start: number; end: number }): Promise<Checksum | undefined>;
  probeLink(path: string): Promise<{ type: 'file' | 'directory' | 'missing' | 'unknown'; size: number; mtime?: number }>;
  /** The offset LIST times are moved to UTC by (configured or detected); undefined while unknown. */
  readonly timeZoneOffset?: { minutes: number } | undefined;
  /** False when the listings hide names beginning with a dot (FtpClient.listsDotFiles); unsaid: they show them. */
  readonly listsDotFiles?: boolean;
  linkTarget(path: string): Promise<string | undefined>;
}

export type SafeSave = 'rename' | 'direct';

export interface RemoteFsOptions {
  /** Listing cache lifetime (default: defaults.listingCacheTtlMs; 0 = no cache). */
  cacheTtlMs?: number;
  /** 'rename' uploads to a temporary name and renames it over the target (defaults.safeSave). */
  safeSave?: SafeSave;
  /** Told about things worth a warning in the log (e.g. permissions could not be kept). */
  onWarning?: (message: string) => void;
  /**
   * Told once when SITE CHMOD turns out unsupported (or refused) while applying `fileMode`,
   * `dirMode` or a replaced file's permissions: the editor says it once per server, not per save.
   */
  onChmodUnavailable?: (message: string) => void;
  /**
   * After an upload's size check, compare the server's checksum of it (HASH / XSHA256…, where the
   * server offers one) with ours: a mismatch fails the save (default defaults.verifyUploads).
   */
  verifyUploads?: boolean;
  /**
   * Transfers of files from this many bytes on go on after a cut instead of starting over
   * (src/ftp/resume.ts); 0 = never (default defaults.resumeThresholdBytes).
   */
  resumeThresholdBytes?: number;
  /** Permission bits for files this RemoteFs creates (uploads, saves of new files, sync); unset: the server's umask. */
  fileMode?: number;
  /** Permission bits for folders it creates. */
  dirMode?: number;
}

/** What `chmodTree` sets: a mode for files, one for folders; unset leaves that kind alone. */
export interface TreeModes {
  fileMode?: number;
  dirMode?: number;
}

export interface ChmodTreeResult {
  /** Paths whose mode was set. */
  changed: number;
  /** Paths the server refused, with its error (the walk goes on past them). */
  failed: { path: string; error: FtpError }[];
  /** Symbolic links left alone: SITE CHMOD on a link changes its target, which may be anywhere. */
  skippedLinks: number;
}

/**
 * A stat result whose type is resolved to file or directory; `symlink` tells it was a link,
 * `broken` that the link points at nothing (its type is then 'file', with size 0).
 */
export interface RemoteStat extends FileEntry {
  type: 'file' | 'directory';
  symlink?: boolean;
  broken?: boolean;
}

/** Errors about the shape of the tree that FTP has no reply code for. */
export class RemoteFsError extends Error {
  constructor(
    readonly kind: 'is-directory' | 'not-directory',
    message: string,
  ) {
    super(message);
    this.name = 'RemoteFsError';
  }
}

export interface WriteOptions extends TransferOptions {
  create: boolean;
  overwrite: boolean;
}

/** Which lane of the pool a read goes in: searches read in the background (see pool.ts). */
export interface LaneOptions {
  lane?: Lane;
}

/**
 * What RemoteFs tells its observers (the search index): every folder listed from the server, and
 * every change the extension itself made. `entry` is the file as the server has it after a save.
 */
export type RemoteFsNews =
  | { type: 'listed'; path: string; entries: readonly FileEntry[] }
  | { type: 'written'; path: string; entry?: FileEntry }
  | { type: 'folder-created'; path: string }
  | { type: 'deleted'; path: string }
  | { type: 'renamed'; from: string; to: string };

const ROOT: RemoteStat = { name: '', type: 'directory', size: 0 };

/** Links followed in a row before a save gives up (as the kernel's ELOOP). */
const MAX_LINK_HOPS = 8;

/**
 * A save reuses a stat of its file this young instead of asking again: VS Code stats the file (from
 * the server) right before each writeFile.
 */
const RECENT_STAT_MS = 2000;

/** Replies that mean "the target is in the way" on servers that refuse to rename over a file. */
const RENAME_BLOCKED = new Set(['exists', 'permission', 'server']);

export class RemoteFs {
  readonly cache: ListingCache;
  private safeSave: SafeSave;
  private readonly onWarning: (message: string) => void;
  /** Learned at run time: undefined until SITE CHMOD was tried. */
  private chmodWorks?: boolean;
  private readonly onChmodUnavailable: (message: string) => void;
  private readonly fileMode?: number;
  private verifyUploads: boolean;
  private resumeThresholdBytes: number;
  private readonly dirMode?: number;
  /**
   * The links of every folder listed so far (folder → name → entry), kept past the cache's few
   * seconds: a save must know whether its path is a link (a rename over it would replace the link
   * with a file), and SIZE/MLST answer for the target without saying so.
   */
  private readonly links = new Map<string, Map<string, FileEntry>>();
  private readonly observers = new Set<(news: RemoteFsNews) => void>();
  /** Listings under way, by folder: a question about a path below one waits for it. */
  private readonly listings = new Map<string, { asking: Promise<FileEntry[]>; lane?: LaneOptions['lane'] }>();

  constructor(
    readonly pool: ConnectionPool<RemoteClient>,
    options: RemoteFsOptions = {},
  ) {
    this.cache = new ListingCache(options.cacheTtlMs ?? defaults.listingCacheTtlMs);
    this.safeSave = options.safeSave ?? defaults.safeSave;
    this.onWarning = options.onWarning ?? (() => undefined);
    this.onChmodUnavailable = options.onChmodUnavailable ?? (() => undefined);
    this.fileMode = options.fileMode;
    this.verifyUploads = options.verifyUploads ?? defaults.verifyUploads;
    this.resumeThresholdBytes = options.resumeThresholdBytes ?? defaults.resumeThresholdBytes;
    this.dirMode = options.dirMode;
  }

  /** Tells `observer` every listing and every change made through this RemoteFs; returns the unsubscribe. */
  observe(observer: (news: RemoteFsNews) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  private tell(news: RemoteFsNews): void {
    for (const observer of this.observers) {
      try {
        observer(news);
      } catch {
        // An observer's bug must not fail the user's save or listing.
      }
    }
  }

  configure(options: Pick<RemoteFsOptions, 'cacheTtlMs' | 'safeSave' | 'verifyUploads' | 'resumeThresholdBytes'>): void {
    if (options.resumeThresholdBytes !== undefined) this.resumeThresholdBytes = options.resumeThresholdBytes;
    if (options.cacheTtlMs !== undefined) this.cache.setTtl(options.cacheTtlMs);
    if (options.safeSave) this.safeSave = options.safeSave;
    if (options.verifyUploads !== undefined) this.verifyUploads = options.verifyUploads;
  }

  /**
   * A folder may come from a fresh cached listing; a file always comes from the server, because
   * VS Code compares its mtime and size before a save to detect someone else's change.
   */
  async stat(path: string): Promise<RemoteStat> {
    if (path === '/') return ROOT;
    // What our own save just found on the server answers the stat VS Code makes right after
    // writeFile — once: the next one (before the next save, VS Code's "file is newer" check) must
    // see another client's change.
    const saved = this.cache.recentFile(path, { ownOnly: true, maxAgeMs: RECENT_STAT_MS, once: true });
    if (saved) return { ...(saved as RemoteStat) };
    const hit = await this.fromListings(path);
    if (hit.kind === 'absent') throw notFound(path);
    if (hit.kind === 'entry' && hit.entry.type === 'directory') return { ...hit.entry, type: 'directory' };
    if (hit.kind === 'entry' && hit.entry.type === 'symlink' && hit.entry.targetType === 'directory') return { ...hit.entry, type: 'directory', symlink: true };
    return this.statFromServer(path);
  }

  /** Like stat but never from the cache; a file's answer is remembered for a save that follows. */
  async statFromServer(path: string): Promise<RemoteStat> {
    const st = await this.askStat(path);
    if (st.type === 'file' && !st.broken) this.cache.rememberFile(path, st, false);
    return st;
  }

  private async askStat(path: string): Promise<RemoteStat> {
    if (path === '/') return ROOT;
    const entry = await this.askServer(path, () => this.pool.run((c) => c.stat(path), { idempotent: true, key: `stat:${path}` }));
    // SIZE, MDTM and (on proftpd) MLST answer for a link's target without a word about the link:
    // what the folder's listing said tells it.
    const link = this.knownLink(path);
    if (entry.type === 'file' || entry.type === 'directory') return { ...entry, type: entry.type, ...(link ? { symlink: true } : {}) };
    // A link (pure-ftpd's MLST says so) or something the listing could not classify: ask through it.
    const probe = await this.pool.run((c) => c.probeLink(path), { idempotent: true });
    const symlink = entry.type === 'symlink' || link !== undefined;
    const base = symlink ? { symlink: true } : {};
    if (probe.type === 'directory') return { ...entry, ...base, type: 'directory', size: 0, mtime: probe.mtime ?? entry.mtime };
    if (probe.type === 'file') return { ...entry, ...base, type: 'file', size: probe.size, mtime: probe.mtime ?? entry.mtime };
    if (probe.type === 'missing' && symlink) return { ...entry, ...base, type: 'file', size: 0, broken: true };
    return { ...entry, ...base, type: 'file' };
  }

  /**
   * A folder's entries with each link's target type resolved (`targetType`), for the Explorer: from
   * the same listing when the target is a sibling, else one look through the link per link, in
   * parallel through the pool. The result stays on the cached entries.
   */
  async listResolved(path: string): Promise<FileEntry[]> {
    const entries = await this.list(path);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const open: FileEntry[] = [];
    for (const e of entries) {
      if (e.type !== 'symlink' || e.targetType) continue;
      const sibling = siblingTarget(e, byName);
      if (sibling) e.targetType = sibling;
      else open.push(e);
    }
    await Promise.all(open.map(async (e) => {
      try {
        e.targetType = (await this.pool.run((c) => c.probeLink(join(path, e.name)), { idempotent: true })).type;
      } catch (err) {
        if (isFtpError(err, 'cancelled')) throw err;
        e.targetType = 'unknown';
      }
    }));
    return entries;
  }

  /**
   * Minutes east of UTC that the server's LIST times are moved by, as its sessions know it now (the
   * profile's timeZoneOffset, else what was detected; 0 while unknown or where times are exact).
   */
  async listTimeZone(): Promise<number> {
    return this.pool.run(async (c) => c.timeZoneOffset?.minutes ?? 0, { idempotent: true });
  }

  /**
   * What the listings say of `path`, asking the server for at most one listing: VS Code asks for
   * many paths below folders that do not exist when a folder opens (.vscode/settings.json, tasks,
   * launch, mcp, extensions, .cursor/mcp.json…), each otherwise a round trip in the queue before
   * the root listing. A listing of a folder above it under way is waited for; where the
   * configuration folder holding `path` was never listed, the one above that is (the workspace's
   * root, which the Explorer lists next anyway), and one listing answers them all. `background`
   * work never lists on a guess.
   */
  private async fromListings(path: string, opts: LaneOptions = {}): Promise<Lookup> {
    const known = this.lookupChain(path);
    if (known.kind !== 'unknown') return known;
    const dir = dirname(path);
    // Not behind a search's listings, queued behind its downloads: the editor asks the server itself.
    const pending = [...ancestors(path)].flatMap((a) => {
      const l = this.listings.get(a);
      return l && (l.lane !== 'background' || opts.lane === 'background') ? [l.asking] : [];
    });
    if (pending.length) {
      await Promise.allSettled(pending);
      return this.lookupChain(path);
    }
    // Only a listing that can answer: one that shows whether the configuration folder is there.
    if (opts.lane === 'background' || dir === '/' || !basename(dir).startsWith('.') || this.cache.get(dir) || this.cache.get(dirname(dir))) return known;
    try {
      await this.list(dirname(dir), opts);
    } catch {
      // The question goes to the server as it would have.
    }
    return this.lookupChain(path);
  }

  /**
   * The cache's answer for `path`. A configuration folder above it (a name starting with a dot:
   * .vscode, .cursor, .github…) that a fresh listing lacks makes it missing too, without asking:
   * those are what VS Code probes, many paths each. Below any other folder a listing does not
   * speak for deeper paths (see ListingCache.lookup): a folder another client made since must
   * not look missing.
   */
  private lookupChain(path: string): Lookup {
    for (const a of [...ancestors(path)].reverse()) {
      if (a === '/' || !basename(a).startsWith('.')) continue;
      const hit = this.cache.lookup(a);
      if (hit.kind === 'absent' || (hit.kind === 'entry' && hit.entry.type === 'file')) return { kind: 'absent' };
    }
    return this.cache.lookup(path);
  }

  /** A folder's entries: from the listing cache while fresh, or with `fresh` always from the server. */
  async list(path: string, opts: LaneOptions & { fresh?: boolean } = {}): Promise<FileEntry[]> {
    const cached = opts.fresh ? undefined : this.cache.get(path);
    if (cached) return cached;
    // The server said this folder (or one above) is missing, a moment ago: not asked again.
    if (!opts.fresh && this.cache.isMissing(path)) throw notFound(path);
    const since = this.cache.mark();
    const answer = this.askServer(path, () => this.pool.run(async (c) => ({ entries: await c.list(path), dotFiles: c.listsDotFiles !== false }), { idempotent: true, key: `list:${path}`, lane: opts.lane }));
    const asking = answer.then((a) => a.entries);
    asking.catch(() => undefined);
    const listing = { asking, lane: opts.lane };
    this.listings.set(path, listing);
    let entries: FileEntry[];
    let dotFiles: boolean;
    try {
      ({ entries, dotFiles } = await answer);
    } finally {
      if (this.listings.get(path) === listing) this.listings.delete(path);
    }
    // Asked for before one of our own changes in it: the caller gets it, the cache and the index don't.
    if (this.cache.changedSince(path, since)) return entries;
    this.cache.set(path, entries, { hidesDotFiles: !dotFiles });
    this.links.set(path, new Map(entries.filter((e) => e.type === 'symlink').map((e) => [e.name, e])));
    this.tell({ type: 'listed', path, entries });
    return entries;
  }

  /** Asks the server about `path`; its answer — there, or not found — goes into the cache. */
  private async askServer<T>(path: string, ask: () => Promise<T>): Promise<T> {
    let answer: T;
    try {
      answer = await ask();
    } catch (err) {
      if (isFtpError(err, 'not-found')) this.cache.setAbsent(path);
      throw err;
    }
    this.cache.confirmExists(path);
    return answer;
  }

  /**
   * The server follows a link on RETR; a dangling one fails as "not found", said as what it is. A
   * file the caller expects to be big (`expectedSize` from its stat, at or above the resume
   * threshold: an Explorer copy, opening a big file) goes through a temporary file, so a cut goes
   * on from what arrived instead of starting over.
   */
  async readFile(path: string, opts: TransferOptions & LaneOptions & { expectedSize?: number } = {}): Promise<Buffer> {
    const { lane, expectedSize, ...transfer } = opts;
    // Below a folder the listings show missing, nothing is there to read; a name its own folder's
    // listing lacks goes to the server, whose reply says why (a link the listing hides, a new file).
    if ((await this.fromListings(path, { lane })).kind === 'absent' && this.lookupChain(dirname(path)).kind === 'absent') throw notFound(path);
    if (this.resumable(expectedSize)) {
      return withSpoolFile(async (file) => {
        await this.downloadToFile(path, file, { ...transfer, lane, expectedSize });
        return readLocalFile(file);
      });
    }
    try {
      const data = await this.pool.run((c) => c.readFile(path, transfer), { idempotent: true, signal: opts.signal, lane });
      this.cache.confirmExists(path);
      return data;
    } catch (err) {
      const link = isFtpError(err, 'not-found') ? this.knownLink(path) : undefined;
      if (!link || !isFtpError(err)) throw err;
      const target = link.target === undefined ? 'its target' : `its target ${link.target}`;
      throw new FtpError('not-found', `${path} is a broken symbolic link: ${target} does not exist`, { code: err.code, replyText: err.replyText, command: err.command, cause: err });
    }
  }

  /**
   * Downloads into a local file (written in blocks, never whole in memory); returns the bytes. A
   * file the caller expects to be big (`expectedSize` at or above the resume threshold) goes on
   * after a cut from what arrived, instead of starting over.
   */
  async downloadToFile(path: string, localPath: string, opts: TransferOptions & LaneOptions & { expectedSize?: number } = {}): Promise<number> {
    const { expectedSize, lane, ...transfer } = opts;
    if (this.resumable(expectedSize)) {
      return this.pool.run(async (c) => {
        await downloadResumable(c, path, localPath, { ...transfer, thresholdBytes: this.resumeThresholdBytes });
        return expectedSize!;
      }, { idempotent: true, signal: opts.signal, lane });
    }
    return this.pool.run((c) => c.downloadToFile(path, localPath, transfer), { idempotent: true, signal: opts.signal, lane });
  }

  private resumable(size: number | undefined): boolean {
    return this.resumeThresholdBytes > 0 && size !== undefined && size >= this.resumeThresholdBytes;
  }

  /**
   * Saves `data` at `path`. With safe save an existing file is replaced only once the new content
   * is fully on the server: upload to a temporary name, then rename over the target. A failure
   * leaves the target as it was and throws (the editor stays dirty).
   */
  async writeFile(path: string, data: UploadSource, opts: WriteOptions, hops = 0): Promise<RemoteStat & { created: boolean }> {
    // Big bytes in memory (a save, an Explorer copy from a local folder) go up from a temporary
    // file: an upload onto a temporary or new name then goes on after a cut (uploadOrClean).
    if (data instanceof Uint8Array && this.resumable(data.byteLength)) return withSpooledBytes(data, (source) => this.writeFile(path, source, opts, hops));
    const cachedEntry = this.cache.lookup(path);
    const recent = this.cache.recentFile(path, { maxAgeMs: RECENT_STAT_MS }) as RemoteStat | undefined;
    const existing = recent ? { ...recent } : await this.statOrUndefined(path);
    if (existing?.type === 'directory') throw new RemoteFsError('is-directory', `${path} is a folder`);
    if (!existing && !opts.create) throw notFound(path);
    if (existing && !opts.overwrite) throw new FtpError('exists', `${path} already exists`);
    const transfer: TransferOptions = { signal: opts.signal, onProgress: opts.onProgress };
    const size = sourceSize(data);

    // A rename over a link would replace the link with a plain file: save onto its target instead.
    const link = existing ? await this.linkAt(path) : undefined;
    if (link) return this.writeThroughLink(path, link, data, opts, hops);

    const permissions = existing?.permissions ?? (cachedEntry.kind === 'entry' ? cachedEntry.entry.permissions : undefined);
    let sent: number;
    let after: RemoteStat | undefined;
    if (existing && this.safeSave === 'rename' && !(data instanceof Uint8Array) && this.resumable(data.size)) {
      // A big file goes on after a cut (uploadOrClean), then is checked and renamed.
      const upload = await this.uploadOrClean(() => tempNameFor(path), data, transfer, true);
      sent = upload.sent;
      if (sent !== size) {
        await this.removeQuietly(upload.name);
        throw incompleteUpload(path, sent, size);
      }
      after = await this.replaceChecked([upload.name], path, size, permissions, { idempotent: false }, (c, mode) => this.checkAndRename(c, upload.name, path, data, size, mode));
    } else if (existing && this.safeSave === 'rename') {
      // Every attempt gets its own temporary name: a session whose connection dropped may still
      // run the STOR it had already read (and truncate its file) after the retry has finished;
      // with a shared name that could empty the retry's copy between its check and its rename.
      const names: string[] = [];
      let renaming = false;
      try {
        // Upload and rename on one connection, as one operation: where the server allows, the
        // rename's first commands ride on the upload's end (FtpClient.uploadReplacing). After a
        // dropped connection it goes again, as the upload alone did, unless the rename went out.
        const run = { idempotent: true, repeatable: () => !renaming, signal: opts.signal };
        after = await this.replaceChecked(names, path, size, permissions, run, (c, mode) => {
          names.push(tempNameFor(path));
          return this.uploadAndRename(c, names[names.length - 1], path, data, size, mode, { ...transfer, beforeRename: () => { renaming = true; } });
        });
        sent = size;
      } finally {
        // Copies of attempts cut earlier, whether this one replaced the file or not.
        for (const stale of names.slice(0, -1)) await this.removeQuietly(stale);
        for (const name of names) this.cache.invalidate(name);
      }
    } else {
      ({ sent } = await this.uploadOrClean(() => path, data, transfer, !existing));
      if (sent === size) {
        try {
          await this.verifyChecksum(path, path, data, !existing);
        } finally {
          this.cache.invalidate(path);
        }
      }
    }
    this.cache.invalidate(path);

    after ??= await this.askStat(path);
    if ((after.size >= 0 && after.size !== size) || sent !== size) {
      throw new FtpError('server', `The upload of ${path} was incomplete: sent ${sent} of ${size} bytes, the server has ${after.size}`);
    }
    if (!existing && this.fileMode !== undefined && after.permissions !== this.fileMode) {
      if (await this.applyMode(path, this.fileMode, 'set the profile\'s fileMode')) after.permissions = this.fileMode;
    }
    // VS Code's stat after the save is answered from this, for as long as a listing would be.
    this.cache.rememberFile(path, after, true);
    this.tell({ type: 'written', path, entry: after });
    return { ...after, created: !existing };
  }

  /**
   * Puts an uploaded copy in place of `path`, only once it is whole: `step` (one pool operation)
   * checks it — the server's checksum against ours where verifying is on and the server has one,
   * then its size — and renames it with a look at the result (FtpClient.renameChecked, or
   * uploadReplacing, which uploads it first), the replaced file's permissions kept in the same
   * write. Any failure before the rename removes the copy — the last of `temps`, the copies' names
   * one per attempt of `step` — and leaves `path` as it was. Resolves with `path` as the server has
   * it now.
   */
  private async replaceChecked(temps: readonly string[], path: string, size: number, permissions: number | undefined, run: RunOptions, step: (c: RemoteClient, mode: number | undefined) => Promise<RenameChecked>): Promise<RemoteStat> {
    const mode = permissions !== undefined && this.chmodWorks !== false ? permissions : undefined;
    let done: RenameChecked;
    let temp: string | undefined;
    try {
      done = await this.pool.run((c) => step(c, mode), run);
      temp = temps[temps.length - 1];
    } catch (err) {
      temp = temps[temps.length - 1];
      // Some servers (IIS, some Windows servers) refuse to rename over an existing file.
      if (temp !== undefined && isFtpError(err) && RENAME_BLOCKED.has(err.kind) && err.command?.startsWith('RNTO')) {
        await this.replaceBlocked(temp, path);
        this.cache.invalidate(path);
        const after = await this.askStat(path);
        if (permissions !== undefined && after.permissions !== permissions && (await this.applyMode(path, permissions, 'keep the permissions'))) after.permissions = permissions;
        return after;
      }
      if (temp !== undefined) await this.removeQuietly(temp);
      throw err;
    } finally {
      if (temp !== undefined) this.cache.invalidate(temp);
    }
    if (!done.renamed) {
      if (temp !== undefined) await this.removeQuietly(temp);
      throw new FtpError('server', `The upload of ${path} was incomplete: sent ${size} bytes, the server has ${done.tempSize}; the file on the server was left as it was`);
    }
    this.cache.invalidate(path);
    if (done.chmod) this.modeRefused(path, mode!, 'keep the permissions', done.chmod);
    else if (done.chmodSet) this.chmodWorks = true;
    const after: RemoteStat = done.after && (done.after.type === 'file' || done.after.type === 'directory') ? { ...done.after, type: done.after.type } : await this.askStat(path);
    if (done.chmodSet) after.permissions = permissions;
    else if (mode !== undefined && !done.chmod && after.permissions !== permissions && (await this.applyMode(path, mode, 'keep the permissions'))) after.permissions = permissions;
    if (this.knownLink(path)) after.symlink = true;
    return after;
  }

  /**
   * One safe save's upload and checked rename on connection `c`: in one operation where no
   * checksum has to come between them (FtpClient.uploadReplacing), else the upload, the checksum
   * and the rename one after the other.
   */
  private async uploadAndRename(c: RemoteClient, temp: string, path: string, data: UploadSource, size: number, mode: number | undefined, transfer: TransferOptions & { beforeRename: () => void }): Promise<RenameChecked> {
    if (this.verifyUploads && c.checksumMethod()) {
      const { beforeRename, ...upload } = transfer;
      const sent = data instanceof Uint8Array ? await c.upload(temp, data, upload) : await c.uploadFromFile(temp, data.file, upload);
      // Only the upload goes again after a dropped connection, not the checksum and rename.
      beforeRename();
      if (sent !== size) throw incompleteUpload(path, sent, size);
      return this.checkAndRename(c, temp, path, data, size, mode);
    }
    const done = await c.uploadReplacing(temp, path, data instanceof Uint8Array ? data : { file: data.file }, size, { ...transfer, mode });
    if (done.sent !== size && !done.renamed) throw incompleteUpload(path, done.sent, size);
    if (done.renamed || done.tempSize !== undefined) return done;
    transfer.beforeRename();
    return this.renameUnsized(c, temp, path, size);
  }

  /** The checksum (where verifying is on and the server has one), then the checked rename, on `c`. */
  private async checkAndRename(c: RemoteClient, temp: string, path: string, data: UploadSource, size: number, mode: number | undefined): Promise<RenameChecked> {
    if (this.verifyUploads && c.checksumMethod()) await this.checkChecksum(c, temp, path, data);
    const quick = await c.renameChecked(temp, path, size, { mode });
    return quick.renamed || quick.tempSize !== undefined ? quick : this.renameUnsized(c, temp, path, size);
  }

  /** A server without SIZE: the copy's size from a look at it (MLST, or its folder's listing), then a plain rename. */
  private async renameUnsized(c: RemoteClient, temp: string, path: string, size: number): Promise<RenameChecked> {
    const held = (await c.stat(temp)).size;
    if (held >= 0 && held !== size) return { tempSize: held, renamed: false, chmodSet: false };
    await c.rename(temp, path);
    return { tempSize: held, renamed: true, chmodSet: false };
  }

  /**
   * Uploads a file the caller knows is not on the server (in a folder it has just made, or one a
   * fresh listing shows without that name): STOR straight to the name, no stat before or after —
   * one transfer where writeFile needs a stat, the transfer and another stat. A failure removes
   * what was partly written. Resolves with the bytes sent once the server confirmed the transfer
   * (226); the size the server holds is for the caller to check in a listing of the folder (the
   * sync lists each folder it uploaded into). Where a file may exist use writeFile: a failed STOR
   * over it would leave it half-written.
   */
  async createFile(path: string, data: UploadSource, opts: TransferOptions = {}): Promise<number> {
    try {
      const { sent } = await this.uploadOrClean(() => path, data, { signal: opts.signal, onProgress: opts.onProgress }, true);
      if (sent !== sourceSize(data)) {
        await this.removeQuietly(path);
        throw new FtpError('server', `The upload of ${path} was incomplete: sent ${sent} of ${sourceSize(data)} bytes`);
      }
      await this.verifyChecksum(path, path, data, true);
      if (this.fileMode !== undefined) await this.applyMode(path, this.fileMode, 'set the profile\'s fileMode');
      this.tell({ type: 'written', path });
      return sent;
    } finally {
      this.cache.invalidate(path);
    }
  }

  /** MKD first: making a new folder, the usual case, is one round trip; only a refusal needs a look. */
  async createDirectory(path: string): Promise<void> {
    try {
      await this.pool.run((c) => c.mkdir(path));
      this.tell({ type: 'folder-created', path });
      if (this.dirMode !== undefined) await this.applyMode(path, this.dirMode, 'set the profile\'s dirMode');
    } catch (err) {
      // Refused (not cut off: then whether our MKD made it is unknown): "already there" is the
      // usual reason, and only a look tells it from the others.
      const refused = isFtpError(err) && err.code !== undefined && err.code >= 450;
      if (refused && (await this.statOrUndefined(path).catch(() => undefined))) throw new FtpError('exists', `${path} already exists`);
      throw err;
    } finally {
      this.cache.invalidate(path);
    }
  }

  /** A link is deleted itself (DELE), never through: RMD on a link to a folder would empty the folder. */
  async delete(path: string, opts: { recursive: boolean }): Promise<void> {
    // The folder's listing, not a stat (which answers for the target), tells a link.
    if (await this.linkAt(path, { fresh: true })) {
      try {
        await this.pool.run((c) => c.remove(path));
        this.tell({ type: 'deleted', path });
      } finally {
        this.cache.invalidate(path);
      }
      return;
    }
    const st = await this.stat(path);
    try {
      if (st.type === 'directory' && !st.symlink) await this.pool.run((c) => c.removeDir(path, { recursive: opts.recursive }));
      else await this.pool.run((c) => c.remove(path));
      this.tell({ type: 'deleted', path });
    } finally {
      this.cache.invalidate(path);
    }
  }

  /**
   * Deletes what a listing just showed as a plain file (DELE) or folder (RMD, which takes only an
   * empty one), without a second look: a caller removing many listed entries (a sync record
   * following a local folder delete) pays one command each. Links are listed as links, never as
   * either type, so none is followed.
   */
  async removeListed(path: string, type: 'file' | 'directory'): Promise<void> {
    try {
      await this.pool.run((c) => (type === 'file' ? c.remove(path) : c.removeDir(path, { recursive: false })));
    } finally {
      this.cache.invalidate(path);
    }
  }

  async rename(from: string, to: string, opts: { overwrite: boolean }): Promise<void> {
    if (from === to) return;
    const target = await this.statOrUndefined(to);
    if (target && !opts.overwrite) throw new FtpError('exists', `${to} already exists`);
    try {
      try {
        await this.pool.run((c) => c.rename(from, to));
      } catch (err) {
        if (!target || !isFtpError(err) || !RENAME_BLOCKED.has(err.kind)) throw err;
        await this.delete(to, { recursive: true });
        await this.pool.run((c) => c.rename(from, to));
      }
      this.tell({ type: 'renamed', from, to });
    } finally {
      this.cache.invalidate(from);
      this.cache.invalidate(to);
    }
  }

  /** Copies by download and upload (FTP has no server-side copy). */
  async copy(from: string, to: string, opts: { overwrite: boolean } & TransferOptions): Promise<void> {
    const source = await this.statFromServer(from);
    const target = await this.statOrUndefined(to);
    if (target && !opts.overwrite) throw new FtpError('exists', `${to} already exists`);
    if (source.type === 'directory') {
      if (target) await this.delete(to, { recursive: true });
      await this.createDirectory(to);
      for (const entry of await this.list(from)) {
        await this.copy(join(from, entry.name), join(to, entry.name), { ...opts, overwrite: true });
      }
      return;
    }
    const write = { create: true, overwrite: true, signal: opts.signal, onProgress: opts.onProgress };
    if (!this.resumable(source.size)) {
      await this.writeFile(to, await this.readFile(from, { signal: opts.signal }), write);
      return;
    }
    // Big: down into a temporary file and up from it, each leg going on after a cut; never whole in memory.
    await withSpoolFile(async (file) => {
      await this.downloadToFile(from, file, { signal: opts.signal, expectedSize: source.size });
      await this.writeFile(to, { file, size: (await statLocal(file)).size }, write);
    });
  }

  /**
   * The listing entry of `path` when it is a symbolic link: from the links remembered of its folder
   * (or, with `fresh`, from a listing at most the cache's age), else from a listing of the folder.
   */
  async linkAt(path: string, opts: { fresh?: boolean } = {}): Promise<FileEntry | undefined> {
    // A name that can never reach the wire is refused before its folder is listed for it.
    assertSafePath(path);
    if (path === '/') return undefined;
    const dir = dirname(path);
    if (!opts.fresh && this.links.has(dir)) return this.knownLink(path);
    try {
      await this.list(dir);
    } catch (err) {
      if (isFtpError(err, 'not-found')) return undefined;
      throw err;
    }
    return this.knownLink(path);
  }

  private knownLink(path: string): FileEntry | undefined {
    return this.links.get(dirname(path))?.get(basename(path));
  }

  /**
   * Saves through a link: the safe save onto the path it points at (the link stays a link and
   * names the new content). Where no listing tells the target, STOR goes to the link's name: the
   * server opens the target through it (vsftpd, proftpd) or refuses (pure-ftpd) — never replaces it.
   */
  private async writeThroughLink(path: string, link: FileEntry, data: UploadSource, opts: WriteOptions, hops: number): Promise<RemoteStat & { created: boolean }> {
    if (hops >= MAX_LINK_HOPS) throw new FtpError('server', `${path}: too many symbolic links in a row (more than ${MAX_LINK_HOPS})`);
    const target = link.target ?? (await this.pool.run((c) => c.linkTarget(path), { idempotent: true }));
    if (target) {
      const resolved = target.startsWith('/') ? normalize(target) : join(dirname(path), target);
      try {
        const after = await this.writeFile(resolved, data, { ...opts, create: true, overwrite: true }, hops + 1);
        return { ...after, name: basename(path), symlink: true, created: false };
      } finally {
        this.cache.invalidate(path);
      }
    }
    this.onWarning(`${path} is a symbolic link whose target the server does not tell; it is written in place (no safe save).`);
    const size = sourceSize(data);
    let sent: number;
    try {
      ({ sent } = await this.uploadOrClean(() => path, data, { signal: opts.signal, onProgress: opts.onProgress }, false));
    } finally {
      this.cache.invalidate(path);
    }
    if (sent !== size) throw new FtpError('server', `The upload of ${path} was incomplete: sent ${sent} of ${size} bytes`);
    return { ...(await this.statFromServer(path)), created: false };
  }

  private async statOrUndefined(path: string): Promise<RemoteStat | undefined> {
    try {
      return await this.statFromServer(path);
    } catch (err) {
      if (isFtpError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /**
   * The server's checksum of the uploaded copy against ours (where it offers one and verifying is
   * on). A mismatch throws, after removing the copy when `remove` (a temporary or new file: the
   * target is left as it was); in place (safe save off) the damage is done and said.
   */
  private async verifyChecksum(uploaded: string, path: string, data: UploadSource, remove: boolean): Promise<void> {
    if (!this.verifyUploads) return;
    let remote: Checksum | undefined;
    try {
      remote = await this.pool.run((c) => c.checksum(uploaded), { idempotent: true });
    } catch (err) {
      if (remove) await this.removeQuietly(uploaded);
      throw err;
    }
    try {
      await compareChecksum(remote, path, data, uploaded !== path ? 'the file on the server was left as it was' : remove ? 'the upload was removed' : 'the file on the server is damaged: save again');
    } catch (err) {
      if (remove) await this.removeQuietly(uploaded);
      throw err;
    }
  }

  /** The server's checksum of the temporary copy against ours, on the connection that renames it next. */
  private async checkChecksum(c: RemoteClient, temp: string, path: string, data: UploadSource): Promise<void> {
    await compareChecksum(await c.checksum(temp), path, data, 'the file on the server was left as it was');
  }

  /**
   * Uploads to the name `nameFor()` gives each attempt; on failure removes what was partly
   * written (when it is ours to remove) and rethrows. Tells the name that took the upload and the
   * names of earlier attempts.
   */
  private async uploadOrClean(nameFor: () => string, data: UploadSource, opts: TransferOptions, removeOnFailure: boolean): Promise<{ sent: number; name: string; earlier: string[] }> {
    const names: string[] = [];
    try {
      // A big file from disk onto a name of our own (a temporary or a new file): a cut goes on
      // from what the server holds, on the same name.
      if (removeOnFailure && !(data instanceof Uint8Array) && this.resumable(data.size)) {
        const name = nameFor();
        names.push(name);
        await this.pool.run((c) => uploadResumable(c, data.file, name, { ...opts, thresholdBytes: this.resumeThresholdBytes }), { signal: opts.signal });
        return { sent: data.size, name, earlier: [] };
      }
      // Repeating a whole STOR is harmless, so a dropped connection is retried once.
      const sent = await this.pool.run((c) => {
        names.push(nameFor());
        const name = names[names.length - 1];
        return data instanceof Uint8Array ? c.upload(name, data, opts) : c.uploadFromFile(name, data.file, opts);
      }, { idempotent: true, signal: opts.signal });
      const name = names[names.length - 1];
      return { sent, name, earlier: names.filter((n) => n !== name) };
    } catch (err) {
      for (const name of new Set(names)) {
        if (removeOnFailure) await this.removeQuietly(name);
        this.cache.invalidate(name);
      }
      throw err;
    }
  }

  /** A server that refused to rename over the target: the target deleted, then the rename again. */
  private async replaceBlocked(temp: string, target: string): Promise<void> {
    try {
      await this.pool.run((c) => c.remove(target));
    } catch (err) {
      await this.removeQuietly(temp);
      throw err;
    }
    try {
      await this.pool.run((c) => c.rename(temp, target));
    } catch (err) {
      // The old file is gone; the new content is safe under the temporary name: say where.
      const message = `Could not rename ${basename(temp)} to ${basename(target)} in ${dirname(target)}: your content is in ${temp}`;
      throw isFtpError(err) ? new FtpError(err.kind, `${message} (${err.message})`, { code: err.code, replyText: err.replyText, command: err.command, cause: err }) : err;
    }
  }

  /**
   * SITE CHMOD for something the user did not ask for in so many words (a profile's mode, a
   * replaced file's permissions): never fails the save. The first refusal is told once and ends
   * these for this server. Resolves whether the mode was set.
   */
  private async applyMode(path: string, mode: number, why: string): Promise<boolean> {
    if (this.chmodWorks === false) return false;
    try {
      await this.pool.run((c) => c.chmod(path, mode), { idempotent: true });
      this.chmodWorks = true;
      return true;
    } catch (err) {
      if (!isFtpError(err) || !['unsupported', 'permission', 'server'].includes(err.kind)) throw err;
      this.modeRefused(path, mode, why, err);
      return false;
    }
  }

  /** A refused automatic SITE CHMOD: told once, and not tried again on its own for this server. */
  private modeRefused(path: string, mode: number, why: string, err: FtpError): void {
    this.chmodWorks = false;
    const message = `Could not ${why} (${octalMode(mode)}) on ${path}: ${err.message} The server's defaults apply; SITE CHMOD is not tried again on its own for this server in this session.`;
    this.onWarning(message);
    this.onChmodUnavailable(message);
  }

  /** The server's checksum of a file (strongest it offers); undefined where it has none. */
  async checksum(path: string, opts: { signal?: AbortSignal } = {}): Promise<Checksum | undefined> {
    return this.pool.run((c) => c.checksum(path), { idempotent: true, signal: opts.signal });
  }

  /**
   * Sets a mode the user asked for (SITE CHMOD): its failure is the caller's to show, whatever
   * happened before. A server found without SITE CHMOD is remembered for the automatic ones.
   */
  async chmod(path: string, mode: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.pool.run((c) => c.chmod(path, mode), { idempotent: true, signal: opts.signal });
      this.chmodWorks = true;
    } catch (err) {
      if (isFtpError(err, 'unsupported')) this.chmodWorks = false;
      throw err;
    } finally {
      this.cache.invalidate(path);
    }
  }

  /**
   * Sets `modes` on `path` and, for a folder, on everything under it: folders listed in parallel
   * through the pool, each entry one SITE CHMOD. Links are left alone (a chmod follows them). A
   * refused entry is recorded and the walk goes on; a server without SITE CHMOD, a lost connection
   * or a cancel ends it. `onProgress` tells each path done.
   */
  async chmodTree(path: string, modes: TreeModes, opts: { signal?: AbortSignal; onProgress?: (done: number, path: string) => void } = {}): Promise<ChmodTreeResult> {
    const result: ChmodTreeResult = { changed: 0, failed: [], skippedLinks: 0 };
    // The cancel is looked at when each queued step gets its connection: a signal handed to each of
    // thousands of queued pool.run calls would hold a listener apiece.
    const step = <T>(work: (c: RemoteClient) => Promise<T>): Promise<T> => this.pool.run((c) => {
      if (opts.signal?.aborted) throw new FtpError('cancelled', 'Cancelled.');
      return work(c);
    }, { idempotent: true });
    const set = async (p: string, mode: number | undefined): Promise<void> => {
      if (mode === undefined) return;
      try {
        await step((c) => c.chmod(p, mode));
        this.chmodWorks = true;
        result.changed++;
        opts.onProgress?.(result.changed + result.failed.length, p);
      } catch (err) {
        if (isFtpError(err, 'unsupported')) this.chmodWorks = false;
        if (!isFtpError(err) || !['permission', 'server', 'not-found'].includes(err.kind)) throw err;
        result.failed.push({ path: p, error: err });
      }
    };
    const walk = async (dir: string): Promise<void> => {
      let entries: FileEntry[];
      try {
        entries = await step((c) => c.list(dir));
      } catch (err) {
        // A folder the new mode made unreadable (or one that went away) is told, not the end of the walk.
        if (!isFtpError(err) || !['permission', 'server', 'not-found'].includes(err.kind)) throw err;
        result.failed.push({ path: dir, error: err });
        return;
      }
      await Promise.all(entries.map(async (e) => {
        const child = join(dir, e.name);
        if (e.type === 'symlink') result.skippedLinks++;
        else if (e.type === 'directory') {
          // Parents first: a folder made readable and searchable before its contents are listed.
          await set(child, modes.dirMode);
          await walk(child);
        } else if (e.type === 'file') await set(child, modes.fileMode);
      }));
    };
    const root = await this.statFromServer(path);
    if (root.symlink) throw new FtpError('server', `${path} is a symbolic link: set the permissions of its target instead.`);
    try {
      if (root.type === 'directory') {
        await set(path, modes.dirMode);
        await walk(path);
      } else {
        await set(path, modes.fileMode);
      }
    } finally {
      this.cache.invalidate(path);
    }
    return result;
  }

  private async removeQuietly(path: string): Promise<void> {
    try {
      await this.pool.run((c) => c.remove(path), { idempotent: true });
    } catch {
      // Nothing was left there, or we cannot clean up: the original error matters more.
    }
  }
}

/** A link's target type when the target is another entry of the same listing ('name' or './name'). */
function siblingTarget(link: FileEntry, byName: Map<string, FileEntry>, hops = 0): FileEntry['targetType'] {
  const name = link.target?.replace(/^(\.\/)+/, '');
  if (!name || name.includes('/') || hops >= MAX_LINK_HOPS) return undefined;
  const target = byName.get(name);
  if (!target) return undefined;
  if (target.type === 'file' || target.type === 'directory') return target.type;
  return target.type === 'symlink' ? target.targetType ?? siblingTarget(target, byName, hops + 1) : undefined;
}

/** Throws unless the server's checksum (none: nothing to compare) is the content's; `outcome` says what became of the file. */
async function compareChecksum(remote: Checksum | undefined, path: string, data: UploadSource, outcome: string): Promise<void> {
  if (!remote) return;
  const local = data instanceof Uint8Array ? checksumOfBytes(remote.algorithm, data) : await checksumOfFile(remote.algorithm, data.file);
  if (local === remote.hex) return;
  throw new FtpError('server', `The upload of ${path} arrived damaged: the server's ${remote.algorithm} is ${remote.hex}, the content's is ${local}; ${outcome}`);
}

/** The folders above `path`, nearest first, up to '/'. */
function* ancestors(path: string): Generator<string> {
  for (let p = dirname(path); ; p = dirname(p)) {
    yield p;
    if (p === '/') return;
  }
}

/** A safe save whose upload sent fewer bytes than the file has: nothing was renamed. */
function incompleteUpload(path: string, sent: number, size: number): FtpError {
  return new FtpError('server', `The upload of ${path} was incomplete: sent ${sent} of ${size} bytes; the file on the server was left as it was`);
}

function notFound(path: string): FtpError {
  return new FtpError('not-found', `${path}: no such file or folder`);
}
