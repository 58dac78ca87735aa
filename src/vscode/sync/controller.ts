/**
 * Linked folders in the editor: reads `ftpWorkspace.links`, uploads saved files through a queue,
 * and runs the Upload / Download / Sync / Compare commands. The decisions are made in src/sync
 * (planner, executor, queue); this class asks the user and shows progress.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isFtpError, type FtpError } from '../../ftp/errors';
import { formatBytes } from '../../ftp/format';
import type { FileEntry } from '../../ftp/types';
import { executePlan, type ExecuteResult, type SyncProgress } from '../../sync/executor';
import { findLink } from '../../sync/linkConfig';
import { localSignature } from '../../sync/localFiles';
import { contentCandidates, planSync, summarize, type Direction, type SyncAction, type SyncPlan } from '../../sync/planner';
import { RemoteDirs } from '../../sync/remoteDirs';
import { RetryPolicy } from '../../sync/retryPolicy';
import { SyncState } from '../../sync/state';
import { downloadFile, remoteEntry, signatureOf, uploadChecked, UploadConflictError, type ConflictDecision, type LinkSide } from '../../sync/transfer';
import { compareContents } from '../../sync/contents';
import { localPathOf, relativeLocal, walkLocal, walkRemote } from '../../sync/trees';
import { sameSignature, type SkippedLinks } from '../../sync/types';
import { UploadQueue } from '../../sync/uploadQueue';
import type { RemoteChange } from '../ftpFileSystem';
import { withProgress } from '../progress';
import { SECTION, type ServerConnection, type Servers } from '../servers';
import { watchFolder } from './changeWatcher';
import { plural } from './format';
import { createLink } from './linkCommand';
import { LocalChangesToServer } from './localChanges';
import { readLinks, remoteUriOf, type Link, type LinkProblem } from './links';
import { confirmDeletions, previewPlan } from './preview';
import { SaveEvents, savedBeforeActivation } from './saves';
import { UploadStatusItem } from './statusItem';

/** workspaceState key: local files whose upload on save had not succeeded yet. */
const PENDING_KEY = 'ftpWorkspace.pendingUploads';

const DIRECTION_TITLE: Record<Direction, string> = { toRemote: 'Sync Local → Remote', toLocal: 'Sync Remote → Local' };

export interface SyncHooks {
  /** Told about FTP failures worth explaining (data channel, login), as the provider does. */
  onFtpFailure?: (connection: ServerConnection, error: FtpError) => void;
  /** Told which ftp:// files this controller changed, so open editors of them can reload. */
  onRemoteChanged?: (changes: RemoteChange[]) => void;
}

interface Target {
  link: Link;
  /** Relative path in the link ('' = the whole link). */
  rel: string;
  isFile: boolean;
}

export class SyncController implements vscode.Disposable {
  private links: Link[] = [];
  /** File watchers of the links that upload changes made by other programs. */
  private watchers: vscode.Disposable[] = [];
  private readonly states = new Map<string, Promise<SyncState>>();
  private readonly queue: UploadQueue;
  private readonly status = new UploadStatusItem();
  private readonly disposables: vscode.Disposable[] = [];
  private failureShown = false;
  /** When failed uploads go again without a save: by themselves, or after a settings change. */
  private readonly retries: RetryPolicy;
  /** Sent again because the settings changed under them: their next failure is told as a first one. */
  private readonly retriedForSettings = new Set<string>();
  private lastProblems = '';
  /** Conflict questions one at a time: two modal dialogs at once would hide each other. */
  private prompts: Promise<unknown> = Promise.resolve();
  /** Local deletes and renames carried to the server. */
  readonly localChanges: LocalChangesToServer;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly servers: Servers,
    private readonly hooks: SyncHooks = {},
  ) {
    this.queue = new UploadQueue({
      upload: (file, signal) => this.uploadSaved(file, signal),
      onChange: () => {
        const items = this.queue.items();
        this.status.update(items);
        void this.context.workspaceState.update(PENDING_KEY, items.map((i) => i.key));
      },
      onFailure: (file, error, first) => this.uploadFailed(file, error, first),
      onSuccess: (file) => {
        this.retries.forget(file);
        this.retriedForSettings.delete(file);
        // The server answers again: deletes and renames waiting for it go now.
        const link = findLink(this.links, file);
        if (link) this.localChanges.reachable(link);
      },
      // A held-back conflict is asked about again when that file is saved or on Retry, not on every save.
      retryOnEnqueue: (item) => !(item.error instanceof UploadConflictError),
    });
    this.retries = new RetryPolicy({ retry: (files) => this.queue.retry(files) });
    this.localChanges = new LocalChangesToServer({
      links: () => this.links,
      pendingFile: (link) => path.join(this.storageDir, 'links', `${link.id}.pending.json`),
      waitingChanged: (waiting) => this.status.updateWaiting(waiting),
      sideOf: (link) => this.sideOf(link),
      stateOf: (link) => this.stateOf(link),
      upload: (link, rel) => this.uploadPath(link, rel),
      remoteChanged: (changes) => this.remoteChanged(changes),
      explain: (link, err) => this.explain(link, err),
    });
    const register = (id: string, fn: (...args: never[]) => unknown) => this.disposables.push(vscode.commands.registerCommand(id, fn));
    register('ftpWorkspace.link', (uri?: vscode.Uri) => this.link(uri));
    register('ftpWorkspace.upload', (uri?: vscode.Uri, uris?: vscode.Uri[]) => this.transfer('toRemote', uri, uris));
    register('ftpWorkspace.download', (uri?: vscode.Uri, uris?: vscode.Uri[]) => this.transfer('toLocal', uri, uris));
    register('ftpWorkspace.syncToRemote', (uri?: vscode.Uri) => this.sync('toRemote', uri));
    register('ftpWorkspace.syncToLocal', (uri?: vscode.Uri) => this.sync('toLocal', uri));
    register('ftpWorkspace.compareWithRemote', (uri?: vscode.Uri) => this.compare(uri));
    register('ftpWorkspace.retryUploads', () => this.retryUploads());
    this.disposables.push(
      this.status,
      new SaveEvents((uri) => this.onSaved(uri)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.links`)) this.reload();
        // Failed uploads go again under the new settings (conflicts wait for their question, as ever),
        // and so do deletes and renames that waited for the server.
        if (e.affectsConfiguration(SECTION)) {
          this.retries.settingsChanged();
          this.localChanges.retryNow();
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.reload()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.reload()),
      { dispose: () => this.queue.dispose() },
      this.localChanges,
    );
    this.reload();
    // Uploads still pending when the window closed are not forgotten: they go again now.
    for (const file of this.context.workspaceState.get<string[]>(PENDING_KEY, [])) this.onSaved(vscode.Uri.file(file));
    void this.uploadEarlySaves();
  }

  dispose(): void {
    this.retries.dispose();
    for (const d of [...this.disposables, ...this.watchers]) d.dispose();
    for (const state of this.states.values()) void state.then((s) => s.save()).catch(() => undefined);
  }

  // --- links and their state

  private reload(): void {
    const { links, problems } = readLinks();
    this.links = links;
    this.watch();
    // Deletes and renames a closed window (or an unreachable server) left unsettled go again.
    this.localChanges.restore();
    void vscode.commands.executeCommand('setContext', 'ftpWorkspace.hasLinks', links.length > 0);
    this.reportProblems(problems);
  }

  private watch(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = this.links
      .filter((link) => link.uploadOnChange)
      .map((link) =>
        watchFolder(
          link.localRoot,
          (file) => void this.changedOnDisk(vscode.Uri.file(file)),
          (message) => void vscode.window.showWarningMessage(`FTP: ${message}. Changes made by other programs are not uploaded; use Upload or Sync Local → Remote.`),
        ),
      );
  }

  private reportProblems(problems: LinkProblem[]): void {
    const text = problems.map((p) => `${p.origin}: ${p.error}`).join('\n');
    if (text === this.lastProblems) return;
    this.lastProblems = text;
    if (problems.length > 0) void vscode.window.showWarningMessage(`FTP: ${plural(problems.length, 'folder link')} in ftpWorkspace.links ignored — ${problems[0].error}`, 'Open Settings').then((c) => {
      if (c) void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.links`);
    });
  }

  private get storageDir(): string {
    return (this.context.storageUri ?? this.context.globalStorageUri).fsPath;
  }

  private stateOf(link: Link): Promise<SyncState> {
    let state = this.states.get(link.id);
    if (!state) {
      state = SyncState.load(path.join(this.storageDir, 'links', `${link.id}.json`), `${link.localRoot} <-> ${link.remoteUri.toString(true)}`);
      this.states.set(link.id, state);
    }
    return state;
  }

  /** The link's two sides, with the server's current pool (pools are replaced after a disconnect). */
  private async sideOf(link: Link): Promise<{ side: LinkSide; connection: ServerConnection }> {
    const connection = this.servers.connectionFor(link.remoteUri);
    const remoteRoot = this.servers.remotePath(link.remoteUri, connection.server);
    const state = await this.stateOf(link);
    return { connection, side: { localRoot: link.localRoot, remoteRoot, remote: connection.fs, state, dirs: new RemoteDirs(connection.fs) } };
  }

  private async target(uri: vscode.Uri): Promise<Target | undefined> {
    const link = uri.scheme === 'file' ? findLink(this.links, uri.fsPath) : undefined;
    if (!link) {
      const choice = await vscode.window.showWarningMessage(`${uri.scheme === 'file' ? vscode.workspace.asRelativePath(uri) : uri.toString(true)} is not in a folder linked to an FTP server.`, 'Link a Folder…');
      if (choice) await this.link(uri.scheme === 'file' ? await folderOf(uri) : undefined);
      return undefined;
    }
    const rel = relativeLocal(link.localRoot, uri.fsPath) ?? '';
    if (rel !== '' && link.matcher.ignores(rel, !(await isFile(uri.fsPath)))) {
      void vscode.window.showInformationMessage(`${rel} is ignored by the link's ignore patterns.`);
      return undefined;
    }
    return { link, rel, isFile: await isFile(uri.fsPath) };
  }

  /** Explorer selection, else the active editor's file, else a link chosen from a list. */
  private async targets(uri?: vscode.Uri, uris?: vscode.Uri[]): Promise<Target[]> {
    const chosen = uris && uris.length > 0 ? uris : uri ? [uri] : [];
    if (chosen.length === 0) {
      const active = vscode.window.activeTextEditor?.document.uri;
      if (active?.scheme === 'file' && findLink(this.links, active.fsPath)) chosen.push(active);
    }
    if (chosen.length === 0) {
      const link = await this.pickLink();
      return link ? [{ link, rel: '', isFile: false }] : [];
    }
    const out: Target[] = [];
    for (const u of chosen) {
      const t = await this.target(u);
      if (t) out.push(t);
    }
    return out;
  }

  private async pickLink(): Promise<Link | undefined> {
    if (this.links.length === 0) {
      const choice = await vscode.window.showInformationMessage('No folder is linked to an FTP server yet.', 'Link a Folder…');
      if (choice) await this.link();
      return undefined;
    }
    if (this.links.length === 1) return this.links[0];
    const choice = await vscode.window.showQuickPick(
      this.links.map((link) => ({ label: folderLabel(link.localRoot), description: `↔ ${link.remoteUri.toString(true)}`, link })),
      { placeHolder: 'Linked folder' },
    );
    return choice?.link;
  }

  // --- commands

  private async link(uri?: vscode.Uri): Promise<void> {
    const created = await createLink(this.servers, uri);
    if (!created) return;
    this.reload();
    const choice = await vscode.window.showInformationMessage(
      `Linked ${folderLabel(created.local.fsPath)} to ${created.remote.toString(true)}.`,
      'Sync Remote → Local…',
      'Sync Local → Remote…',
    );
    if (choice === 'Sync Remote → Local…') await this.sync('toLocal', created.local);
    else if (choice === 'Sync Local → Remote…') await this.sync('toRemote', created.local);
  }

  /** Upload / Download: single files at once (with the conflict check), folders by plan without deletions. */
  private async transfer(direction: Direction, uri?: vscode.Uri, uris?: vscode.Uri[]): Promise<void> {
    for (const t of await this.targets(uri, uris)) {
      if (t.isFile) await this.transferFile(direction, t);
      else await this.runSync(direction, t, { deletions: false, preview: 'if-conflicts' });
    }
  }

  private async transferFile(direction: Direction, t: Target): Promise<void> {
    const file = localPathOf(t.link.localRoot, t.rel);
    try {
      const { side } = await this.sideOf(t.link);
      const outcome = await withProgress({ title: `FTP: ${direction === 'toRemote' ? 'uploading' : 'downloading'} ${path.basename(file)}` }, (p) => {
        const opts = { signal: p.signal, onProgress: (bytes: number) => p.bytes(bytes) };
        if (direction === 'toRemote') return uploadChecked(side, t.rel, (entry) => this.askConflict(t.link, t.rel, entry, 'upload'), opts);
        return this.downloadChecked(side, t, opts);
      });
      if (direction === 'toRemote' && outcome === 'uploaded') {
        this.queue.forget(file);
        this.retries.forget(file);
        this.remoteChanged([{ uri: remoteUriOf(t.link, t.rel), change: 'written' }]);
      }
      if (outcome !== 'skipped') vscode.window.setStatusBarMessage(`$(check) FTP: ${direction === 'toRemote' ? 'uploaded' : 'downloaded'} ${path.basename(file)}`, 4000);
    } catch (err) {
      if (err instanceof UploadConflictError || isFtpError(err, 'cancelled')) return;
      this.explain(t.link, err);
      void vscode.window.showErrorMessage(`FTP: could not ${direction === 'toRemote' ? 'upload' : 'download'} ${t.rel}: ${(err as Error).message}`);
    }
  }

  /** Download of one file; asks first when the local copy changed since our last sync of it. */
  private async downloadChecked(side: LinkSide, t: Target, opts: { signal: AbortSignal; onProgress: (n: number) => void }): Promise<'downloaded' | 'skipped'> {
    const entry = await remoteEntry(side, t.rel);
    if (!entry || entry.type !== 'file') throw new Error(`${t.rel} is not on the server`);
    const file = localPathOf(t.link.localRoot, t.rel);
    const rec = side.state.get(t.rel);
    const local = await fs.stat(file).catch(() => undefined);
    if (local && rec && !sameSignature({ size: local.size, mtime: local.mtimeMs }, rec.local)) {
      const decision = await this.askConflict(t.link, t.rel, entry, 'download');
      if (decision !== 'overwrite') return 'skipped';
    }
    await downloadFile(side, t.rel, signatureOf(entry), opts);
    return 'downloaded';
  }

  private async sync(direction: Direction, uri?: vscode.Uri): Promise<void> {
    // From the palette a sync is of a whole link, not of the file that happens to be open.
    const link = uri ? undefined : await this.pickLink();
    const [t] = link ? [{ link, rel: '', isFile: false }] : uri ? await this.targets(uri) : [];
    if (t) await this.runSync(direction, t, { deletions: true, preview: 'always' });
  }

  /** Plan (reading both sides), preview, confirm, run with progress, report. */
  private async runSync(direction: Direction, t: Target, how: { deletions: boolean; preview: 'always' | 'if-conflicts' }): Promise<void> {
    const scopeLabel = t.rel === '' ? folderLabel(t.link.localRoot) : t.rel;
    const title = how.deletions ? `${DIRECTION_TITLE[direction]}: ${scopeLabel}` : `${direction === 'toRemote' ? 'Upload' : 'Download'}: ${scopeLabel}`;
    let side: LinkSide;
    let connection: ServerConnection;
    let plan: SyncPlan | undefined;
    try {
      ({ side, connection } = await this.sideOf(t.link));
      plan = await withProgress({ title: `FTP: comparing ${scopeLabel} with ${remoteUriOf(t.link, t.rel).toString(true)}…` }, async (p) => {
        const skippedLinks: SkippedLinks = new Map();
        const walk = { start: t.rel, signal: p.signal, symlinks: t.link.symlinks, skippedLinks };
        const [local, remote] = await Promise.all([walkLocal(t.link.localRoot, t.link.matcher, walk), walkRemote(side.remote, side.remoteRoot, t.link.matcher, walk)]);
        // A record taken in another zone (an older one: LIST times as UTC) is brought to this one first.
        if (side.remote.listTimeZone) side.state.reconcileZone(remote, await side.remote.listTimeZone(), t.rel === '');
        const sameContent = t.link.compareChecksums
          ? await compareContents(contentCandidates({ local, remote, record: side.state, ignore: t.link.matcher }), side, {
            concurrency: connection.server.poolSize,
            signal: p.signal,
            onProgress: (done, total) => p.report(`checksums: ${done} of ${total}`, done / total),
          })
          : undefined;
        return planSync({ direction, local, remote, record: side.state, ignore: t.link.matcher, scope: t.rel, sameContent, skippedLinks });
      });
    } catch (err) {
      if (isFtpError(err, 'cancelled')) return;
      this.explain(t.link, err);
      void vscode.window.showErrorMessage(`FTP: could not compare ${scopeLabel} with the server: ${(err as Error).message}`);
      return;
    }
    if (!how.deletions) plan = { ...plan, actions: plan.actions.filter((a) => a.kind !== 'delete') };
    const skipped = plan.problems.map((p) => `${p.path}: ${p.message}`);

    let chosen: SyncAction[] | undefined;
    if (plan.actions.length === 0) {
      chosen = [];
    } else if (how.preview === 'always' || plan.actions.some((a) => a.conflict)) {
      chosen = await previewPlan(plan, title);
      if (!chosen) return;
    } else {
      chosen = plan.actions.filter((a) => a.recommended);
      if (!(await confirmDeletions(chosen, direction === 'toRemote' ? 'on the server' : 'locally'))) return;
    }

    const result = await this.execute(plan, chosen, side, connection, title);
    if (!result) return;
    // The server answered the comparison: deletes and renames that waited for it go now.
    this.localChanges.reachable(t.link);
    this.remoteChanged(
      result.done
        .filter((a) => a.target === 'remote')
        .map((a) => ({ uri: remoteUriOf(t.link, a.path), change: a.kind === 'delete' ? 'deleted' : 'written' })),
    );
    this.report(t.link, title, plan, chosen, result, skipped);
  }

  private async execute(plan: SyncPlan, actions: SyncAction[], side: LinkSide, connection: ServerConnection, title: string): Promise<ExecuteResult | undefined> {
    // A few more transfers than connections keep every connection busy; the pool queues the rest.
    const concurrency = connection.server.poolSize + 2;
    return withProgress({ title: `FTP: ${title}` }, (progress) => {
      const onProgress = (p: SyncProgress) => {
        // Files and bytes weigh half each, so many small files and one big one both move the bar.
        const fraction = (p.filesTotal ? p.filesDone / p.filesTotal : 1) / 2 + (p.bytesTotal ? p.bytesDone / p.bytesTotal : 1) / 2;
        progress.report(`${p.filesDone}/${p.filesTotal} · ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}${p.current ? ` · ${p.current.path}` : ''}`, fraction);
      };
      return executePlan(plan, actions, { localRoot: side.localRoot, remoteRoot: side.remoteRoot, remote: side.remote, state: side.state, concurrency, signal: progress.signal, onProgress });
    });
  }

  private report(link: Link, title: string, plan: SyncPlan, chosen: SyncAction[], result: ExecuteResult, skippedPaths: string[]): void {
    const s = summarize(result.done);
    const parts = [s.create && `${s.create} created`, s.update && `${s.update} updated`, s.delete && `${s.delete} deleted`].filter(Boolean);
    const done = parts.length ? parts.join(', ') : chosen.length === 0 ? 'already in sync' : 'nothing done';
    const notChosen = plan.actions.length - chosen.length;
    const extra = [
      notChosen > 0 && `${notChosen} left as they are`,
      result.cancelled && `cancelled, ${result.skipped.length} not done`,
      skippedPaths.length > 0 && `skipped ${skippedPaths.join('; ')}`,
    ].filter(Boolean);
    const message = `FTP ${title}: ${done}${extra.length ? ` (${extra.join('; ')})` : ''}.`;
    if (result.failed.length === 0) {
      void vscode.window.showInformationMessage(message);
      return;
    }
    this.explain(link, result.failed[0].error);
    const lines = result.failed.slice(0, 5).map((f) => `${f.action.path}: ${f.error.message}`);
    void vscode.window.showErrorMessage(`${message} ${plural(result.failed.length, 'item')} failed — ${lines.join('; ')}${result.failed.length > 5 ? '; …' : ''}`);
  }

  private async compare(uri?: vscode.Uri): Promise<void> {
    const local = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!local) {
      void vscode.window.showInformationMessage('Select a file in a linked folder to compare it with the server.');
      return;
    }
    const t = await this.target(local);
    if (!t) return;
    if (!t.isFile) {
      void vscode.window.showInformationMessage('Compare works on files. For a folder, Sync Local → Remote or Sync Remote → Local lists every difference before doing anything.');
      return;
    }
    const remote = remoteUriOf(t.link, t.rel);
    try {
      const { side } = await this.sideOf(t.link);
      const entry = await remoteEntry(side, t.rel);
      if (!entry || entry.type !== 'file') {
        void vscode.window.showInformationMessage(`${t.rel} is not on the server yet (${remote.toString(true)}).`);
        return;
      }
    } catch (err) {
      this.explain(t.link, err);
      void vscode.window.showErrorMessage(`FTP: could not reach the server: ${(err as Error).message}`);
      return;
    }
    await vscode.commands.executeCommand('vscode.diff', remote, vscode.Uri.file(localPathOf(t.link.localRoot, t.rel)), `${path.basename(t.rel)} (server ↔ local)`);
  }

  private retryUploads(): void {
    const waiting = this.localChanges.retryNow();
    const failed = this.queue.failed;
    if (failed.length === 0 && waiting > 0) {
      vscode.window.setStatusBarMessage(`$(sync~spin) FTP: retrying ${plural(waiting, 'delete or rename', 'deletes and renames')}…`, 3000);
      return;
    }
    if (failed.length === 0) {
      void vscode.window.showInformationMessage(this.queue.pending > 0 ? 'FTP: uploads are in progress.' : 'FTP: no failed uploads.');
      return;
    }
    this.failureShown = false;
    this.retries.userActed();
    this.queue.retry();
    vscode.window.setStatusBarMessage(`$(sync~spin) FTP: retrying ${plural(failed.length, 'upload')}…`, 3000);
  }

  // --- upload on save

  private onSaved(uri: vscode.Uri): void {
    if (uri.scheme !== 'file') return;
    const link = findLink(this.links, uri.fsPath);
    if (!link?.uploadOnSave) return;
    const rel = relativeLocal(link.localRoot, uri.fsPath);
    if (!rel || link.matcher.ignores(rel)) return;
    this.enqueue(uri.fsPath);
  }

  /** A save (or a change on disk) also sends every failed upload again, so their waits start over. */
  private enqueue(file: string): void {
    this.retries.userActed();
    this.queue.enqueue(file);
  }

  /**
   * A file written or removed by another program. A file the record knows goes to the upload queue
   * at once; a gone one, and a new one (which may be the other half of a move), go to the batch of
   * local changes, which tells renames from deletes and uploads. A known folder is read whole:
   * files written into it before the watcher got to it send no event.
   */
  private async changedOnDisk(uri: vscode.Uri): Promise<void> {
    const link = uri.scheme === 'file' ? findLink(this.links, uri.fsPath) : undefined;
    const rel = link && relativeLocal(link.localRoot, uri.fsPath);
    if (!link?.uploadOnChange || !rel) return;
    const st = await fs.stat(uri.fsPath).catch(() => undefined);
    if (!st) {
      this.localChanges.add({ kind: 'deleted', path: uri.fsPath });
      return;
    }
    if (link.matcher.ignores(rel, st.isDirectory())) return;
    const state = await this.stateOf(link);
    const known = st.isFile() ? !!state.get(rel) : state.keys().some((k) => k.startsWith(`${rel}/`));
    if (!known) {
      if (st.isFile() || st.isDirectory()) this.localChanges.add({ kind: 'created', path: uri.fsPath });
      return;
    }
    await this.uploadPath(link, rel);
  }

  /** Queues a file, or every file of a folder, for upload (a folder's files already on the server as they are cost nothing). */
  private async uploadPath(link: Link, rel: string): Promise<void> {
    const file = localPathOf(link.localRoot, rel);
    const st = await fs.stat(file).catch(() => undefined);
    if (st?.isFile()) {
      this.enqueue(file);
      return;
    }
    if (!st?.isDirectory()) return;
    const tree = await walkLocal(link.localRoot, link.matcher, { start: rel, symlinks: link.symlinks }).catch(() => undefined);
    for (const [child, entry] of tree ?? []) if (entry.type === 'file') this.enqueue(localPathOf(link.localRoot, child));
  }

  /**
   * Saves made before activation reached no listener: queue them as saves. uploadSaved skips
   * those the sync record already holds as they are.
   */
  private async uploadEarlySaves(): Promise<void> {
    for (const uri of await savedBeforeActivation()) this.onSaved(uri);
  }

  private async uploadSaved(file: string, signal: AbortSignal): Promise<void> {
    // This attempt replaces any retry still scheduled for it, and runs under the current settings.
    this.retries.started(file);
    // The link may have been removed or changed since the save: the current settings decide.
    const link = findLink(this.links, file);
    const rel = link && relativeLocal(link.localRoot, file);
    if (!link || !rel || link.matcher.ignores(rel)) return;
    const { side } = await this.sideOf(link);
    // Already on the server as it is now (saved without a change, or just downloaded): nothing to send.
    const rec = side.state.get(rel);
    const now = rec && (await localSignature(file).catch(() => undefined));
    if (now && sameSignature(now, rec.local)) return;
    const outcome = await uploadChecked(side, rel, (entry) => this.askConflict(link, rel, entry, 'upload'), { signal });
    if (outcome === 'uploaded') this.remoteChanged([{ uri: remoteUriOf(link, rel), change: 'written' }]);
  }

  private uploadFailed(file: string, error: Error, first: boolean): void {
    const link = findLink(this.links, file);
    if (link) this.explain(link, error);
    // The settings changed while it ran: its failure may be theirs, and it is already going again.
    if (this.retries.failed(file, error) === 'now') {
      if (first) this.retriedForSettings.add(file);
      return;
    }
    const told = !first && !this.retriedForSettings.delete(file);
    // A conflict was just asked about; a repeated failure was already told.
    if (error instanceof UploadConflictError || told || this.failureShown) return;
    // Others failing already means the user was told about this outage.
    if (this.queue.failed.some((i) => i.key !== file && !(i.error instanceof UploadConflictError))) return;
    this.failureShown = true;
    const failed = this.queue.failed.length;
    const name = vscode.workspace.asRelativePath(file);
    const others = failed > 1 ? ` (${plural(failed - 1, 'other upload')} failed too)` : '';
    void vscode.window
      .showErrorMessage(`FTP: could not upload ${name}${others}: ${error.message}. It stays pending — retried on your next save, or now.`, 'Retry Now')
      .then((choice) => {
        this.failureShown = false;
        if (choice) this.retryUploads();
      });
  }

  // --- helpers

  /** Asks what to do about a file changed on the other side since our last sync. */
  private askConflict(link: Link, rel: string, entry: FileEntry, action: 'upload' | 'download'): Promise<ConflictDecision> {
    const ask = async (): Promise<ConflictDecision> => {
      const local = vscode.Uri.file(localPathOf(link.localRoot, rel));
      const remote = remoteUriOf(link, rel);
      const when = entry.mtime !== undefined ? `, modified ${new Date(entry.mtime).toLocaleString()}` : '';
      const message =
        action === 'upload'
          ? `${rel} changed on the server since your last sync of it. Upload and overwrite the server's copy?`
          : `${rel} changed locally since your last sync of it. Download and overwrite your local copy?`;
      const detail = `Server copy: ${formatBytes(Math.max(0, entry.size))}${when}.\n${remote.toString(true)}`;
      const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, 'Overwrite', 'Compare', 'Skip');
      if (choice === 'Overwrite') return 'overwrite';
      if (choice === 'Skip') return 'skip';
      if (choice === 'Compare') await vscode.commands.executeCommand('vscode.diff', remote, local, `${path.basename(rel)} (server ↔ local)`);
      // Compared or dismissed: nothing is overwritten, and an upload stays pending.
      return 'keep-pending';
    };
    const next = this.prompts.then(ask, ask);
    this.prompts = next.catch(() => undefined);
    return next;
  }

  private remoteChanged(changes: RemoteChange[]): void {
    if (changes.length > 0) this.hooks.onRemoteChanged?.(changes);
  }

  /** Lets the data-channel and login advice of the rest of the extension see sync failures too. */
  private explain(link: Link, err: unknown): void {
    if (!isFtpError(err)) return;
    try {
      this.hooks.onFtpFailure?.(this.servers.connectionFor(link.remoteUri), err);
    } catch {
      // A link to a server that is not configured: the error message says enough.
    }
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

/** A local folder as the Explorer names it: a workspace folder by its name, others relative to one. */
function folderLabel(folder: string): string {
  const root = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file' && path.resolve(f.uri.fsPath) === path.resolve(folder));
  return root ? root.name : vscode.workspace.asRelativePath(folder);
}

async function folderOf(uri: vscode.Uri): Promise<vscode.Uri> {
  return (await isFile(uri.fsPath)) ? vscode.Uri.file(path.dirname(uri.fsPath)) : uri;
}
