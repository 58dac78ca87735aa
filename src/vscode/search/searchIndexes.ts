/**
 * One search index per ftp:// workspace folder (src/search/remoteIndex.ts), kept in the extension's
 * global storage (or `ftpWorkspace.search.cacheFolder`), loaded on first use, refreshed in the
 * background when older than `ftpWorkspace.search.maxIndexAge`, saved after each walk and a few
 * seconds after changes. Excludes come from `files.exclude` and `search.exclude`, as Quick Open's.
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import * as defaults from '../../ftp/defaults';
import type { RemoteFs } from '../../remote/remoteFs';
import { ContentCache } from '../../search/contentCache';
import { enabledPatterns } from '../../search/glob';
import { RemoteIndex } from '../../search/remoteIndex';
import { readersFor } from '../../search/textSearch';
import { SECTION, searchConnections, type ServerConnection, type Servers } from '../servers';
import { FTP_SCHEMES } from '../statusBar';

/** Changes are written to disk this long after the last one (a burst of saves is one write). */
const SAVE_DELAY_MS = 3000;

export interface FolderIndex {
  folder: vscode.WorkspaceFolder;
  connection: ServerConnection;
  index: RemoteIndex;
}

interface Entry extends FolderIndex {
  fs: RemoteFs;
  excludeKey: string;
  loaded: Promise<boolean>;
  saveTimer?: NodeJS.Timeout;
}

export class SearchIndexes implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<FolderIndex>();
  /** Fires when an index changed (files found by a walk, a listing, a save) or started or ended a walk. */
  readonly onDidChange = this.changed.event;
  private contentCache?: ContentCache;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly servers: Servers,
  ) {
    this.disposables.push(
      this.changed,
      vscode.workspace.onDidChangeWorkspaceFolders((e) => {
        for (const folder of e.removed) this.drop(folder.uri.toString());
        this.updateContext();
      }),
      // A server whose settings changed gets a new RemoteFs: its indexes must listen to that one.
      servers.onDidChangeServerSettings(() => {
        for (const key of [...this.entries.keys()]) this.drop(key);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.search.contentCacheSize`)) this.contentCache?.setCap(this.cacheCapBytes());
        if (e.affectsConfiguration(`${SECTION}.search.cacheFolder`)) this.contentCache = undefined;
      }),
    );
    this.updateContext();
  }

  /** The ftp:// folders of the workspace. */
  folders(): vscode.WorkspaceFolder[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => FTP_SCHEMES.has(f.uri.scheme));
  }

  /** The index of `folder`, loaded from disk the first time (an absent or stale one is walked in the background). */
  async get(folder: vscode.WorkspaceFolder): Promise<FolderIndex> {
    const key = folder.uri.toString();
    const connection = this.servers.connectionFor(folder.uri);
    const exclude = this.excludes(folder);
    const excludeKey = JSON.stringify(exclude);
    let entry = this.entries.get(key);
    if (entry && (entry.fs !== connection.fs || entry.excludeKey !== excludeKey)) {
      this.drop(key);
      entry = undefined;
    }
    if (!entry) {
      const root = this.servers.remotePath(folder.uri);
      // As many listings at once as Find in Files asks files: the walk has the search's connections.
      const index = new RemoteIndex(connection.fs, root, { exclude, storePath: this.storePath(connection, root), concurrency: readersFor(searchConnections()) });
      const created: Entry = { folder, connection, index, fs: connection.fs, excludeKey, loaded: index.load() };
      entry = created;
      index.on('change', () => {
        this.scheduleSave(created);
        this.changed.fire(created);
      });
      index.on('state', () => this.changed.fire(created));
      index.on('walked', () => void this.save(created));
      this.entries.set(key, created);
    }
    await entry.loaded;
    this.refreshIfStale(entry);
    return entry;
  }

  /** Indexes of every ftp:// folder (or of the folders given). */
  async all(folders = this.folders()): Promise<FolderIndex[]> {
    return Promise.all(folders.map((f) => this.get(f)));
  }

  /** Walks every ftp:// folder again now (FTP: Refresh Search Index). */
  async refreshAll(signal?: AbortSignal): Promise<void> {
    const indexes = await this.all();
    await Promise.all(indexes.map((i) => i.index.refresh({ signal })));
  }

  /** The content cache of text search, shared by every folder. */
  cache(): ContentCache {
    this.contentCache ??= new ContentCache(path.join(this.storageRoot(), 'content'), this.cacheCapBytes());
    return this.contentCache;
  }

  dispose(): void {
    for (const key of [...this.entries.keys()]) this.drop(key);
    for (const d of this.disposables) d.dispose();
  }

  private refreshIfStale(entry: Entry): void {
    const seconds = vscode.workspace.getConfiguration(SECTION).get<number>('search.maxIndexAge', defaults.searchIndexMaxAgeMs / 1000);
    // A failed background walk shows in the picker (its age stays old), not as an error here.
    entry.index.refreshIfOlderThan(Math.max(0, seconds) * 1000)?.catch(() => undefined);
  }

  private excludes(folder: vscode.WorkspaceFolder): string[] {
    const files = vscode.workspace.getConfiguration('files', folder.uri).get<Record<string, unknown>>('exclude');
    const search = vscode.workspace.getConfiguration('search', folder.uri).get<Record<string, unknown>>('exclude');
    return [...new Set([...enabledPatterns(files), ...enabledPatterns(search)])].sort();
  }

  private storageRoot(): string {
    const configured = vscode.workspace.getConfiguration(SECTION).get<string>('search.cacheFolder', '').trim();
    if (configured) return path.resolve(configured.replace(/^~(?=$|[\\/])/, os.homedir()));
    return path.join(this.context.globalStorageUri.fsPath, 'search');
  }

  private storePath(connection: ServerConnection, root: string): string {
    const id = createHash('sha1').update(`${connection.server.key}\0${root}`).digest('hex').slice(0, 16);
    return path.join(this.storageRoot(), 'index', `${id}.json`);
  }

  private cacheCapBytes(): number {
    const mb = vscode.workspace.getConfiguration(SECTION).get<number>('search.contentCacheSize', defaults.searchCacheBytes / 1024 / 1024);
    return Math.max(0, mb) * 1024 * 1024;
  }

  private scheduleSave(entry: Entry): void {
    if (entry.saveTimer) return;
    entry.saveTimer = setTimeout(() => {
      entry.saveTimer = undefined;
      void this.save(entry);
    }, SAVE_DELAY_MS);
  }

  private async save(entry: Entry): Promise<void> {
    if (entry.saveTimer) clearTimeout(entry.saveTimer);
    entry.saveTimer = undefined;
    try {
      await entry.index.save();
    } catch {
      // A full disk or a read-only storage folder costs the next window a walk, nothing more.
    }
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    if (entry.saveTimer) void this.save(entry);
    entry.index.dispose();
  }

  private updateContext(): void {
    void vscode.commands.executeCommand('setContext', 'ftpWorkspace.hasFtpFolder', this.folders().length > 0);
  }
}
