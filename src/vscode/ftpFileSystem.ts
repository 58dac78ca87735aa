/**
 * The FileSystemProvider for ftp: and ftps: URIs. It maps URIs to servers and remote paths, FTP
 * errors to the FileSystemError types the editor reacts to, shows progress for slow transfers and
 * reports changes. The FTP logic itself is in RemoteFs.
 */
import * as vscode from 'vscode';
import * as defaults from '../ftp/defaults';
import { isFtpError, type FtpError } from '../ftp/errors';
import type { FileEntry, TransferOptions } from '../ftp/types';
import { RemoteFsError, type RemoteStat } from '../remote/remoteFs';
import { ServerConfigError } from '../remote/serverConfig';
import { withProgress } from './progress';
import type { ServerConnection, Servers } from './servers';
import { SECTION } from './servers';

/** Transfers still moving bytes this long after their first bytes get a progress notification with a cancel button. */
const PROGRESS_AFTER_MS = 1000;

interface Located {
  connection: ServerConnection;
  path: string;
}

interface Watched {
  uri: vscode.Uri;
  /** name → "type size mtime" of the last poll (folders), or the file's own signature. */
  snapshot?: Map<string, string>;
}

/** A remote file that changed outside the provider, e.g. by a linked folder's upload. */
export interface RemoteChange {
  uri: vscode.Uri;
  change: 'written' | 'deleted';
}

export class FtpFileSystemProvider implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;

  private buffered: vscode.FileChangeEvent[] = [];
  private fireTimer?: NodeJS.Timeout;
  private readonly watched = new Map<string, Watched>();
  private pollTimer?: NodeJS.Timeout;
  private polling = false;
  /** Sizes seen by stat, so a download's progress can show a total. */
  private readonly knownSizes = new Map<string, number>();
  private readonly configListener: vscode.Disposable;

  constructor(
    private readonly servers: Servers,
    /** Told about failures worth explaining to the user (data channel, login). */
    private readonly onFailure: (connection: ServerConnection, error: FtpError) => void = () => undefined,
    /**
     * Told each call VS Code makes, when it starts and when it ends (the log's trace level): the
     * order and overlap of the editor's requests, as the bench's recorded patterns are taken.
     */
    private readonly trace: (line: string) => void = () => undefined,
  ) {
    this.configListener = vscode.Disposable.from(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.pollInterval`)) this.schedulePolling();
      }),
      // A server's settings changed (a profile fixed, or user settings that reached a new window
      // late, as in code-server): what the Explorer shows of ftp:// folders may have come from the
      // old ones — an empty folder after a failed connect — and it does not ask again by itself.
      servers.onDidChangeServerSettings(() => {
        if (!vscode.workspace.workspaceFolders?.some((f) => f.uri.scheme === 'ftp' || f.uri.scheme === 'ftps')) return;
        void Promise.resolve(vscode.commands.executeCommand('workbench.files.action.refreshFilesExplorer')).catch(() => undefined);
      }),
    );
  }

  // --- FileSystemProvider, in the interface's order

  watch(uri: vscode.Uri, _options: { readonly recursive: boolean; readonly excludes: readonly string[] }): vscode.Disposable {
    const key = uri.toString();
    this.watched.set(key, { uri });
    this.schedulePolling();
    return new vscode.Disposable(() => {
      this.watched.delete(key);
      if (this.watched.size === 0) this.schedulePolling();
    });
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    return this.traced('stat', uri, '', () => this.guard(uri, async ({ connection, path }) => {
      const st = await connection.fs.stat(path);
      if (st.type === 'file') this.knownSizes.set(uri.toString(), st.size);
      return toFileStat(st);
    }));
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    return this.traced('readDirectory', uri, '', () => this.guard(uri, async ({ connection, path }) => {
      const entries = await connection.fs.listResolved(path);
      return entries.map((e): [string, vscode.FileType] => [e.name, fileType(e)]);
    }));
  }

  async createDirectory(uri: vscode.Uri): Promise<void> {
    await this.traced('createDirectory', uri, '', () => this.guard(uri, ({ connection, path }) => connection.fs.createDirectory(path)));
    this.fireSoon({ type: vscode.FileChangeType.Changed, uri: parentOf(uri) }, { type: vscode.FileChangeType.Created, uri });
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.traced('readFile', uri, '', () => this.guard(uri, ({ connection, path }) =>
      // The size VS Code's stat just got: a big file (an Explorer copy out of ftp://) goes on after a cut.
      this.withTransferProgress(uri, 'Downloading', this.knownSizes.get(uri.toString()), (opts) => connection.fs.readFile(path, { ...opts, expectedSize: this.knownSizes.get(uri.toString()) })),
    ));
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { readonly create: boolean; readonly overwrite: boolean }): Promise<void> {
    let created = false;
    await this.traced('writeFile', uri, `${content.byteLength} bytes create=${options.create} overwrite=${options.overwrite}`, () => this.guard(uri, async ({ connection, path }) => {
      const after = await this.withTransferProgress(uri, 'Uploading', content.byteLength, (opts) =>
        connection.fs.writeFile(path, content, { ...options, ...opts }),
      );
      created = after.created;
      this.knownSizes.set(uri.toString(), after.size);
    }));
    if (created) this.fireSoon({ type: vscode.FileChangeType.Changed, uri: parentOf(uri) }, { type: vscode.FileChangeType.Created, uri });
    else this.fireSoon({ type: vscode.FileChangeType.Changed, uri });
  }

  async delete(uri: vscode.Uri, options: { readonly recursive: boolean }): Promise<void> {
    await this.traced('delete', uri, `recursive=${options.recursive}`, () => this.guard(uri, ({ connection, path }) => connection.fs.delete(path, options)));
    this.knownSizes.delete(uri.toString());
    this.fireSoon({ type: vscode.FileChangeType.Changed, uri: parentOf(uri) }, { type: vscode.FileChangeType.Deleted, uri });
  }

  async rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { readonly overwrite: boolean }): Promise<void> {
    const from = this.locate(oldUri);
    const to = this.locate(newUri);
    if (from.connection === to.connection) {
      await this.guard(oldUri, () => from.connection.fs.rename(from.path, to.path, options));
    } else {
      // Between servers: a file moves by copy and delete; a folder would be a long, half-done affair.
      await this.guard(oldUri, async () => {
        const st = await from.connection.fs.statFromServer(from.path);
        if (st.type === 'directory') throw vscode.FileSystemError.NoPermissions('Moving a folder between FTP servers is not supported; copy it instead.');
        await this.copyBetween(oldUri, newUri, from, to, options);
        await from.connection.fs.delete(from.path, { recursive: false });
      });
    }
    this.fireSoon({ type: vscode.FileChangeType.Deleted, uri: oldUri }, { type: vscode.FileChangeType.Created, uri: newUri });
  }

  async copy(source: vscode.Uri, destination: vscode.Uri, options: { readonly overwrite: boolean }): Promise<void> {
    const from = this.locate(source);
    const to = this.locate(destination);
    await this.guard(source, () =>
      from.connection === to.connection
        ? this.withTransferProgress(destination, 'Copying', undefined, (opts) => from.connection.fs.copy(from.path, to.path, { ...options, ...opts }))
        : this.copyBetween(source, destination, from, to, options),
    );
    this.fireSoon({ type: vscode.FileChangeType.Changed, uri: parentOf(destination) }, { type: vscode.FileChangeType.Created, uri: destination });
  }

  /**
   * Tells the editor that other parts of the extension changed these remote files (a linked
   * folder's upload, download or sync), so open ftp:// editors and the Explorer show the server's
   * copy without waiting for a poll.
   */
  notifyChanged(changes: readonly RemoteChange[]): void {
    const events: vscode.FileChangeEvent[] = [];
    const parents = new Map<string, vscode.Uri>();
    for (const { uri, change } of changes) {
      this.knownSizes.delete(uri.toString());
      // A written file may be new: its folder's listing changed too (the Explorer re-reads it).
      events.push({ type: change === 'written' ? vscode.FileChangeType.Changed : vscode.FileChangeType.Deleted, uri });
      const parent = parentOf(uri);
      parents.set(parent.toString(), parent);
    }
    for (const parent of parents.values()) events.push({ type: vscode.FileChangeType.Changed, uri: parent });
    if (events.length) this.fireSoon(...events);
  }

  dispose(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.fireTimer) clearTimeout(this.fireTimer);
    this.configListener.dispose();
    this.emitter.dispose();
  }

  // --- helpers

  private calls = 0;

  /** Runs one of VS Code's calls, told to `trace` as it starts and ends (with its outcome and time). */
  private async traced<T>(op: string, uri: vscode.Uri, detail: string, fn: () => Promise<T>): Promise<T> {
    const id = ++this.calls;
    // A password typed into the URI (ftp://user:secret@host/) is never taken, nor written here.
    const shown = uri.with({ authority: uri.authority.replace(/:[^@]*@/, '@') }).toString(true);
    const what = `fs#${id} ${op} ${shown}${detail ? ` ${detail}` : ''}`;
    const started = Date.now();
    this.trace(`${what} →`);
    try {
      const result = await fn();
      this.trace(`${what} ← ok ${Date.now() - started} ms`);
      return result;
    } catch (err) {
      this.trace(`${what} ← ${err instanceof vscode.FileSystemError ? err.code : err instanceof Error ? err.name : 'error'} ${Date.now() - started} ms`);
      throw err;
    }
  }

  private locate(uri: vscode.Uri): Located {
    try {
      const server = this.servers.resolve(uri);
      return { connection: this.servers.connectionForServer(server), path: this.servers.remotePath(uri, server) };
    } catch (err) {
      throw toFileSystemError(err, uri);
    }
  }

  /** Runs an operation on the URI's server and turns any failure into a FileSystemError. */
  private async guard<T>(uri: vscode.Uri, fn: (located: Located) => Promise<T>): Promise<T> {
    const located = this.locate(uri);
    try {
      return await fn(located);
    } catch (err) {
      if (isFtpError(err) && (err.kind === 'data-channel' || err.kind === 'login' || err.kind === 'tls')) this.onFailure(located.connection, err);
      throw toFileSystemError(err, uri);
    }
  }

  private async copyBetween(source: vscode.Uri, destination: vscode.Uri, from: Located, to: Located, options: { overwrite: boolean }): Promise<void> {
    const st = await from.connection.fs.statFromServer(from.path);
    if (st.type === 'directory') throw vscode.FileSystemError.NoPermissions('Copying a folder between FTP servers is not supported.');
    const data = await this.withTransferProgress(source, 'Downloading', st.size, (opts) => from.connection.fs.readFile(from.path, { ...opts, expectedSize: st.size }));
    await this.withTransferProgress(destination, 'Uploading', data.byteLength, (opts) =>
      to.connection.fs.writeFile(to.path, data, { create: true, overwrite: options.overwrite, ...opts }),
    );
  }

  /**
   * Runs a transfer; if it is still going a second after its first bytes moved, shows a
   * notification with bytes done and a Cancel button that aborts it.
   */
  private withTransferProgress<T>(uri: vscode.Uri, verb: string, total: number | undefined, work: (opts: TransferOptions) => Promise<T>): Promise<T> {
    return withProgress({ title: `${verb} ${basenameOf(uri)}`, totalBytes: total, showAfterFirstReportMs: PROGRESS_AFTER_MS }, (p) =>
      work({ signal: p.signal, onProgress: (bytes) => p.bytes(bytes) }),
    );
  }

  /** Buffers change events and fires them together, so a burst becomes one event. */
  private fireSoon(...events: vscode.FileChangeEvent[]): void {
    this.buffered.push(...events);
    if (this.fireTimer) clearTimeout(this.fireTimer);
    this.fireTimer = setTimeout(() => {
      this.fireTimer = undefined;
      const batch = this.buffered;
      this.buffered = [];
      this.emitter.fire(batch);
    }, 5);
  }

  private schedulePolling(): void {
    const seconds = vscode.workspace.getConfiguration(SECTION).get<number>('pollInterval', defaults.pollIntervalMs / 1000);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    if (seconds > 0 && this.watched.size > 0) {
      this.pollTimer = setInterval(() => void this.poll(), Math.max(1, seconds) * 1000);
    }
  }

  /** Compares each watched folder's listing (or file's stat) with the last poll and reports differences. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const watched of [...this.watched.values()]) {
        try {
          await this.pollOne(watched);
        } catch {
          // A server that is down now is reported when the user acts, not by every poll.
        }
      }
    } finally {
      this.polling = false;
    }
  }

  private async pollOne(watched: Watched): Promise<void> {
    const { connection, path } = this.locate(watched.uri);
    const events: vscode.FileChangeEvent[] = [];
    let now: Map<string, string>;
    let st: RemoteStat | undefined;
    try {
      st = await connection.fs.statFromServer(path);
    } catch (err) {
      if (!isFtpError(err, 'not-found')) throw err;
    }
    if (!st) {
      now = new Map();
      if (watched.snapshot && watched.snapshot.size > 0) events.push({ type: vscode.FileChangeType.Deleted, uri: watched.uri });
    } else if (st.type === 'file') {
      now = new Map([['', signature(st)]]);
      const before = watched.snapshot?.get('');
      if (watched.snapshot && before !== signature(st)) {
        events.push({ type: before === undefined ? vscode.FileChangeType.Created : vscode.FileChangeType.Changed, uri: watched.uri });
      }
    } else {
      connection.fs.cache.invalidate(path);
      const entries = await connection.fs.list(path);
      now = new Map(entries.map((e) => [e.name, signature(e)]));
      if (watched.snapshot) {
        for (const [name, sig] of now) {
          const before = watched.snapshot.get(name);
          if (before === undefined) events.push({ type: vscode.FileChangeType.Created, uri: childOf(watched.uri, name) });
          else if (before !== sig) events.push({ type: vscode.FileChangeType.Changed, uri: childOf(watched.uri, name) });
        }
        for (const name of watched.snapshot.keys()) {
          if (!now.has(name)) events.push({ type: vscode.FileChangeType.Deleted, uri: childOf(watched.uri, name) });
        }
      }
    }
    watched.snapshot = now;
    if (events.length) this.fireSoon(...events);
  }
}

/** Maps any failure to the FileSystemError type the editor understands, keeping the server's words. */
export function toFileSystemError(err: unknown, uri: vscode.Uri): Error {
  if (err instanceof vscode.FileSystemError || err instanceof vscode.CancellationError) return err;
  if (err instanceof RemoteFsError) {
    return err.kind === 'is-directory' ? vscode.FileSystemError.FileIsADirectory(uri) : vscode.FileSystemError.FileNotADirectory(uri);
  }
  if (err instanceof ServerConfigError) return vscode.FileSystemError.Unavailable(err.message);
  if (!isFtpError(err)) return vscode.FileSystemError.Unavailable(err instanceof Error ? err.message : String(err));
  const message = `${uri.toString(true)}: ${err.message}`;
  switch (err.kind) {
    case 'not-found':
      return vscode.FileSystemError.FileNotFound(message);
    case 'exists':
      return vscode.FileSystemError.FileExists(message);
    case 'permission':
    case 'login':
    case 'invalid-name':
      return vscode.FileSystemError.NoPermissions(message);
    case 'cancelled':
      return new vscode.CancellationError();
    default:
      return vscode.FileSystemError.Unavailable(message);
  }
}

function toFileStat(st: RemoteStat): vscode.FileStat {
  let type = st.broken ? vscode.FileType.Unknown : st.type === 'directory' ? vscode.FileType.Directory : vscode.FileType.File;
  if (st.symlink) type |= vscode.FileType.SymbolicLink;
  const mtime = st.mtime ?? 0;
  // The save-conflict check compares mtime and size: give the server's values unchanged.
  return { type, ctime: mtime, mtime, size: Math.max(0, st.size) };
}

function fileType(entry: FileEntry): vscode.FileType {
  switch (entry.type) {
    case 'file':
      return vscode.FileType.File;
    case 'directory':
      return vscode.FileType.Directory;
    case 'symlink':
      // The Explorer shows a link with its target's icon and opens or expands it accordingly; a
      // dangling link is a link only (opening it says it is broken).
      switch (entry.targetType) {
        case 'file':
          return vscode.FileType.SymbolicLink | vscode.FileType.File;
        case 'directory':
          return vscode.FileType.SymbolicLink | vscode.FileType.Directory;
        case 'missing':
          return vscode.FileType.SymbolicLink;
        default:
          return vscode.FileType.SymbolicLink | vscode.FileType.Unknown;
      }
    default:
      return vscode.FileType.Unknown;
  }
}

function signature(e: { type: string; size: number; mtime?: number }): string {
  return `${e.type} ${e.size} ${e.mtime ?? ''}`;
}

function parentOf(uri: vscode.Uri): vscode.Uri {
  const path = uri.path.replace(/\/+$/, '');
  const i = path.lastIndexOf('/');
  return uri.with({ path: i <= 0 ? '/' : path.slice(0, i) });
}

function childOf(uri: vscode.Uri, name: string): vscode.Uri {
  return uri.with({ path: `${uri.path.replace(/\/+$/, '')}/${name}` });
}

function basenameOf(uri: vscode.Uri): string {
  return uri.path.replace(/\/+$/, '').split('/').pop() || uri.authority;
}
