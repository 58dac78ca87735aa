/**
 * The file operations VS Code needs, on remote paths of one server, through its pool. No `vscode`
 * import: the provider maps URIs and errors, this class holds the FTP logic (cache, safe save,
 * overwrite rules) and runs in integration tests against real servers.
 */
import type { Readable } from 'node:stream';
import * as defaults from '../ftp/defaults';
import { FtpError, isFtpError } from '../ftp/errors';
import type { ConnectionPool, Lane, PooledClient } from '../ftp/pool';
import { assertSafePath, basename, dirname, join, normalize, tempNameFor } from '../ftp/remotePath';
import { sourceSize, type FileEntry, type TransferOptions, type UploadSource } from '../ftp/types';
import { ListingCache } from './listingCache';

/** The part of FtpClient the file operations use. */
export interface RemoteClient extends PooledClient {
  list(path: string, opts?: TransferOptions): Promise<FileEntry[]>;
  stat(path: string): Promise<FileEntry>;
  readFile(path: string, opts?: TransferOptions): Promise<Buffer>;
  upload(path: string, source: Readable | Uint8Array, opts?: TransferOptions & { append?: boolean }): Promise<number>;
  uploadFromFile(path: string, localPath: string, opts?: TransferOptions): Promise<number>;
  downloadToFile(path: string, localPath: string, opts?: TransferOptions): Promise<number>;
  mkdir(path: string, opts?: { recursive?: boolean }): Promise<void>;
  removeDir(path: string, opts?: { recursive?: boolean }): Promise<void>;
  remove(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  probeLink(path: string): Promise<{ type: 'file' | 'directory' | 'missing' | 'unknown'; size: number; mtime?: number }>;
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

/** Replies that mean "the target is in the way" on servers that refuse to rename over a file. */
const RENAME_BLOCKED = new Set(['exists', 'permission', 'server']);

export class RemoteFs {
  readonly cache: ListingCache;
  private safeSave: SafeSave;
  private readonly onWarning: (message: string) => void;
  /** Learned at run time: undefined until SITE CHMOD was tried. */
  private chmodWorks?: boolean;
  /**
   * The links of every folder listed so far (folder → name → entry), kept past the cache's few
   * seconds: a save must know whether its path is a link (a rename over it would replace the link
   * with a file), and SIZE/MLST answer for the target without saying so.
   */
  private readonly links = new Map<string, Map<string, FileEntry>>();
  private readonly observers = new Set<(news: RemoteFsNews) => void>();

  constructor(
    readonly pool: ConnectionPool<RemoteClient>,
    options: RemoteFsOptions = {},
  ) {
    this.cache = new ListingCache(options.cacheTtlMs ?? defaults.listingCacheTtlMs);
    this.safeSave = options.safeSave ?? defaults.safeSave;
    this.onWarning = options.onWarning ?? (() => undefined);
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

  configure(options: Pick<RemoteFsOptions, 'cacheTtlMs' | 'safeSave'>): void {
    if (options.cacheTtlMs !== undefined) this.cache.setTtl(options.cacheTtlMs);
    if (options.safeSave) this.safeSave = options.safeSave;
  }

  /**
   * A folder may come from a fresh cached listing; a file always comes from the server, because
   * VS Code compares its mtime and size before a save to detect someone else's change.
   */
  async stat(path: string): Promise<RemoteStat> {
    if (path === '/') return ROOT;
    const hit = this.cache.lookup(path);
    if (hit.kind === 'absent') throw notFound(path);
    if (hit.kind === 'entry' && hit.entry.type === 'directory') return { ...hit.entry, type: 'directory' };
    if (hit.kind === 'entry' && hit.entry.type === 'symlink' && hit.entry.targetType === 'directory') return { ...hit.entry, type: 'directory', symlink: true };
    return this.statFromServer(path);
  }

  /** Like stat but never from the cache. */
  async statFromServer(path: string): Promise<RemoteStat> {
    if (path === '/') return ROOT;
    const entry = await this.pool.run((c) => c.stat(path), { idempotent: true, key: `stat:${path}` });
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

  /** A folder's entries: from the listing cache while fresh, or with `fresh` always from the server. */
  async list(path: string, opts: LaneOptions & { fresh?: boolean } = {}): Promise<FileEntry[]> {
    const cached = opts.fresh ? undefined : this.cache.get(path);
    if (cached) return cached;
    const entries = await this.pool.run((c) => c.list(path), { idempotent: true, key: `list:${path}`, lane: opts.lane });
    this.cache.set(path, entries);
    this.links.set(path, new Map(entries.filter((e) => e.type === 'symlink').map((e) => [e.name, e])));
    this.tell({ type: 'listed', path, entries });
    return entries;
  }

  /** The server follows a link on RETR; a dangling one fails as "not found", said as what it is. */
  async readFile(path: string, opts: TransferOptions & LaneOptions = {}): Promise<Buffer> {
    const { lane, ...transfer } = opts;
    try {
      return await this.pool.run((c) => c.readFile(path, transfer), { idempotent: true, signal: opts.signal, lane });
    } catch (err) {
      const link = isFtpError(err, 'not-found') ? this.knownLink(path) : undefined;
      if (!link || !isFtpError(err)) throw err;
      const target = link.target === undefined ? 'its target' : `its target ${link.target}`;
      throw new FtpError('not-found', `${path} is a broken symbolic link: ${target} does not exist`, { code: err.code, replyText: err.replyText, command: err.command, cause: err });
    }
  }

  /** Downloads into a local file (written in blocks, never whole in memory); returns the bytes. */
  async downloadToFile(path: string, localPath: string, opts: TransferOptions & LaneOptions = {}): Promise<number> {
    const { lane, ...transfer } = opts;
    return this.pool.run((c) => c.downloadToFile(path, localPath, transfer), { idempotent: true, signal: opts.signal, lane });
  }

  /**
   * Saves `data` at `path`. With safe save an existing file is replaced only once the new content
   * is fully on the server: upload to a temporary name, then rename over the target. A failure
   * leaves the target as it was and throws (the editor stays dirty).
   */
  async writeFile(path: string, data: UploadSource, opts: WriteOptions, hops = 0): Promise<RemoteStat & { created: boolean }> {
    const cachedEntry = this.cache.lookup(path);
    const existing = await this.statOrUndefined(path);
    if (existing?.type === 'directory') throw new RemoteFsError('is-directory', `${path} is a folder`);
    if (!existing && !opts.create) throw notFound(path);
    if (existing && !opts.overwrite) throw new FtpError('exists', `${path} already exists`);
    const transfer: TransferOptions = { signal: opts.signal, onProgress: opts.onProgress };
    const size = sourceSize(data);

    // A rename over a link would replace the link with a plain file: save onto its target instead.
    const link = existing ? await this.linkAt(path) : undefined;
    if (link) return this.writeThroughLink(path, link, data, opts, hops);

    let sent: number;
    if (!existing || this.safeSave === 'direct') {
      ({ sent } = await this.uploadOrClean(() => path, data, transfer, !existing));
    } else {
      // Every attempt gets its own temporary name: a session whose connection dropped may still
      // run the STOR it had already read (and truncate its file) after the retry has finished;
      // with a shared name that could empty the retry's copy between its check and its rename.
      const upload = await this.uploadOrClean(() => tempNameFor(path), data, transfer, true);
      sent = upload.sent;
      // Check the new copy before it replaces the old one: afterwards it would be too late.
      await this.verifyUpload(upload.name, path, sent, size);
      await this.replace(upload.name, path);
      for (const stale of upload.earlier) await this.removeQuietly(stale);
    }
    this.cache.invalidate(path);

    const after = await this.statFromServer(path);
    if ((after.size >= 0 && after.size !== size) || sent !== size) {
      throw new FtpError('server', `The upload of ${path} was incomplete: sent ${sent} of ${size} bytes, the server has ${after.size}`);
    }
    this.tell({ type: 'written', path, entry: after });
    const permissions = existing?.permissions ?? (cachedEntry.kind === 'entry' ? cachedEntry.entry.permissions : undefined);
    if (existing && this.safeSave === 'rename' && permissions !== undefined && after.permissions !== permissions) {
      await this.keepPermissions(path, permissions);
      if (this.chmodWorks) after.permissions = permissions;
    }
    return { ...after, created: !existing };
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
      await this.pool.run((c) => c.mkdir(to));
      this.tell({ type: 'folder-created', path: to });
      this.cache.invalidate(to);
      for (const entry of await this.list(from)) {
        await this.copy(join(from, entry.name), join(to, entry.name), { ...opts, overwrite: true });
      }
      return;
    }
    const data = await this.readFile(from, { signal: opts.signal });
    await this.writeFile(to, data, { create: true, overwrite: true, signal: opts.signal, onProgress: opts.onProgress });
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

  /** Throws (and removes the temporary file) unless the server holds exactly what we sent. */
  private async verifyUpload(temp: string, path: string, sent: number, expected: number): Promise<void> {
    let size: number;
    try {
      size = (await this.pool.run((c) => c.stat(temp), { idempotent: true })).size;
    } catch (err) {
      await this.removeQuietly(temp);
      throw err;
    }
    if ((size >= 0 && size !== expected) || sent !== expected) {
      await this.removeQuietly(temp);
      throw new FtpError('server', `The upload of ${path} was incomplete: sent ${sent} of ${expected} bytes, the server has ${size}; the file on the server was left as it was`);
    }
  }

  /**
   * Uploads to the name `nameFor()` gives each attempt; on failure removes what was partly
   * written (when it is ours to remove) and rethrows. Tells the name that took the upload and the
   * names of earlier attempts.
   */
  private async uploadOrClean(nameFor: () => string, data: UploadSource, opts: TransferOptions, removeOnFailure: boolean): Promise<{ sent: number; name: string; earlier: string[] }> {
    const names: string[] = [];
    try {
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

  /** Renames the uploaded temporary file over the target. */
  private async replace(temp: string, target: string): Promise<void> {
    try {
      await this.pool.run((c) => c.rename(temp, target));
      return;
    } catch (err) {
      if (!isFtpError(err) || !RENAME_BLOCKED.has(err.kind)) {
        await this.removeQuietly(temp);
        throw err;
      }
    }
    // Some servers (IIS, some Windows servers) refuse to rename over an existing file.
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

  private async keepPermissions(path: string, permissions: number): Promise<void> {
    if (this.chmodWorks === false) return;
    try {
      await this.pool.run((c) => c.chmod(path, permissions), { idempotent: true });
      this.chmodWorks = true;
    } catch (err) {
      if (!isFtpError(err) || !['unsupported', 'permission', 'server'].includes(err.kind)) throw err;
      this.chmodWorks = false;
      this.onWarning(`Could not keep the permissions ${permissions.toString(8)} of ${path} (SITE CHMOD: ${err.message}); the server's defaults apply.`);
    }
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

function notFound(path: string): FtpError {
  return new FtpError('not-found', `${path}: no such file or folder`);
}
