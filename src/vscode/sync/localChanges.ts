/**
 * Deletes and renames in linked folders, carried to the server as each link's `deleteOnServer` /
 * `renameOnServer` say. Events come from the Explorer (and any extension's workspace edit) and,
 * for links with `uploadOnChange`, from the folder watcher; each link collects them until its
 * folder is quiet, so a `git checkout` is one batch and at most one question. The decisions are
 * src/sync's (localChanges.ts, serverChanges.ts); this class asks, reports and updates the setting.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isFtpError } from '../../ftp/errors';
import { AUTO_RETRY_DELAYS_MS, isUnreachable } from '../../sync/retryPolicy';
import { PendingChanges } from '../../sync/pendingChanges';
import { findLink } from '../../sync/linkConfig';
import { ChangeBatcher, planLocalChanges, type LocalChange, type LocalEntry } from '../../sync/localChanges';
import { applyServerChanges, choosePropagation, inspectServerChanges, type PropagationMode, type ServerChange } from '../../sync/serverChanges';
import type { SyncState } from '../../sync/state';
import type { LinkSide } from '../../sync/transfer';
import { localPathOf, relativeLocal, walkLocal } from '../../sync/trees';
import type { RemoteChange } from '../ftpFileSystem';
import { SECTION } from '../servers';
import { plural } from './format';
import { LINKS_KEY, remoteUriOf, type Link } from './links';

/** The question about one batch, as shown (for tools and tests watching through the API). */
export interface LocalChangesQuestion {
  /** The link's local folder. */
  local: string;
  /** One line per change asked about, e.g. `delete blog/`, `rename a.txt → b.txt`. */
  changes: string[];
  /** The answers offered, in order. */
  choices: string[];
}

/** What became of one batch on the server. */
export interface LocalChangesReport {
  local: string;
  deleted: string[];
  renamed: { from: string; to: string }[];
  /** Left on the server (`delete PATH`, `rename FROM → TO`; a folder ends in `/` when known): by the settings, by the user's answer, or changed there and not confirmed. */
  kept: string[];
  failed: { path: string; message: string }[];
  /** Local paths queued for upload instead (moved into the link, or renamed here but never on the server). */
  uploaded: string[];
  /**
   * Set when the server could not be reached: the batch's deletes and renames (how many) are kept,
   * also across a window reload, and handed over again when it can (by themselves after a wait, on
   * Retry, after an upload or a sync of the link succeeded).
   */
  waiting?: { count: number; reason: string };
}

/** A link whose changes wait for its server, for the status bar. */
export interface WaitingChanges {
  local: string;
  count: number;
  reason: string;
}

export interface LocalChangesHost {
  links(): readonly Link[];
  /** Where each link's pending changes are kept (beside its sync record). */
  pendingFile(link: Link): string;
  /** The links whose changes wait for an unreachable server changed. */
  waitingChanged(waiting: readonly WaitingChanges[]): void;
  sideOf(link: Link): Promise<{ side: LinkSide }>;
  stateOf(link: Link): Promise<SyncState>;
  /** Queues a local file (or every file of a folder) for upload. */
  upload(link: Link, rel: string): Promise<void>;
  remoteChanged(changes: RemoteChange[]): void;
  explain(link: Link, err: unknown): void;
}

const CHOICE = {
  apply: { delete: 'Delete on Server', rename: 'Rename on Server', both: 'Delete and Rename on Server' },
  keep: 'Keep on Server',
  always: 'Always for this link',
} as const;

export class LocalChangesToServer implements vscode.Disposable {
  private readonly batchers = new Map<string, ChangeBatcher>();
  /** Per link: every change not settled yet, on disk (see src/sync/pendingChanges.ts). */
  private readonly pending = new Map<string, PendingChanges>();
  /** Per link: a batch handed over and not started yet; later batches join it (one question). */
  private readonly queued = new Map<string, LocalChange[]>();
  /** Per link: a batch the server could not be reached for, and when it goes again. */
  private readonly waiting = new Map<string, { changes: LocalChange[]; count: number; reason: string; attempts: number; timer?: NodeJS.Timeout; told: boolean }>();
  /** The changes of the batch being handled now. */
  private readonly handling = new Set<LocalChange>();
  private disposed = false;
  /** One batch at a time per window: questions never stack, and a later batch sees the record the earlier one left. */
  private running: Promise<unknown> = Promise.resolve();
  private readonly asked = new vscode.EventEmitter<LocalChangesQuestion>();
  private readonly handled = new vscode.EventEmitter<LocalChangesReport>();
  readonly onDidAsk = this.asked.event;
  readonly onDidHandle = this.handled.event;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly host: LocalChangesHost) {
    this.disposables = [
      this.asked,
      this.handled,
      vscode.workspace.onDidDeleteFiles((e) => {
        for (const uri of e.files) if (uri.scheme === 'file') this.add({ kind: 'deleted', path: uri.fsPath });
      }),
      vscode.workspace.onDidRenameFiles((e) => {
        for (const { oldUri, newUri } of e.files) {
          if (oldUri.scheme === 'file' && newUri.scheme === 'file') this.add({ kind: 'renamed', from: oldUri.fsPath, to: newUri.fsPath });
        }
      }),
    ];
  }

  /**
   * The window closes (or the extension stops): what is collected, asked about or waiting stays on
   * disk, written now, and is handed over on the next activation. A question open now is no answer.
   */
  dispose(): void {
    this.disposed = true;
    for (const b of this.batchers.values()) b.dispose();
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    for (const p of this.pending.values()) {
      try {
        p.saveNow();
      } catch {
        // A disk that refuses the write: nothing more can be done while closing.
      }
    }
    for (const d of this.disposables) d.dispose();
  }

  /** An event from anywhere: each link it concerns (both ends of a move between links) gets it. */
  add(change: LocalChange): void {
    const paths = change.kind === 'renamed' ? [change.from, change.to] : [change.path];
    const links = new Set(paths.map((p) => findLink(this.host.links(), p)).filter((l): l is Link => !!l));
    for (const link of links) {
      this.pendingOf(link).add([change]);
      this.batcherOf(link).add(change);
    }
  }

  /**
   * After activation (and when links change): the changes a closed window left unsettled go again,
   * as one batch per link, planned from what is on disk now.
   */
  restore(): void {
    for (const link of this.host.links()) {
      const left = this.pendingOf(link).all.filter((c) => !this.inFlight(link.id, c));
      // Recorded before anything queued now: they go first, as the plan follows the events' order.
      if (left.length > 0) this.enqueue(link.id, left, true);
    }
  }

  /** Hands over every link's pending batch now and resolves when all are handled (tests). */
  async flush(): Promise<void> {
    for (const b of this.batchers.values()) b.flush();
    await this.running;
  }

  /** Changes waiting for an unreachable server go now (Retry, a settings change); returns how many deletes and renames. */
  retryNow(): number {
    let count = 0;
    for (const [id, w] of [...this.waiting]) {
      count += w.count;
      this.enqueue(id, []);
    }
    return count;
  }

  /** The link's server answered (an upload or a sync succeeded): its waiting changes go now. */
  reachable(link: Link): void {
    if (this.waiting.has(link.id)) this.enqueue(link.id, []);
  }

  private pendingOf(link: Link): PendingChanges {
    let p = this.pending.get(link.id);
    if (!p) {
      p = PendingChanges.loadSync(this.host.pendingFile(link));
      this.pending.set(link.id, p);
    }
    return p;
  }

  /** Whether `c` is already collected, queued or waiting in this window (not to be restored twice). */
  private inFlight(linkId: string, c: LocalChange): boolean {
    return !!this.batchers.get(linkId)?.changes.includes(c) || !!this.queued.get(linkId)?.includes(c) || !!this.waiting.get(linkId)?.changes.includes(c) || this.handling.has(c);
  }

  private batcherOf(link: Link): ChangeBatcher {
    let b = this.batchers.get(link.id);
    if (!b) {
      b = new ChangeBatcher({ onBatch: (changes) => this.enqueue(link.id, changes) });
      this.batchers.set(link.id, b);
    }
    return b;
  }

  /**
   * Queues a batch of a link behind the one running. A batch of that link not started yet takes
   * these changes too, and so does one waiting for the server: one question for all of them.
   */
  private enqueue(linkId: string, changes: LocalChange[], older = false): void {
    const queued = this.queued.get(linkId);
    if (queued) {
      if (older) queued.unshift(...changes);
      else queued.push(...changes);
      return;
    }
    this.queued.set(linkId, [...changes]);
    const next = this.running.then(async () => {
      const fresh = this.queued.get(linkId) ?? [];
      this.queued.delete(linkId);
      const waited = this.waiting.get(linkId);
      clearTimeout(waited?.timer);
      // Older first: the plan follows the events in the order they happened.
      const batch = [...(waited?.changes ?? []), ...fresh];
      if (batch.length === 0 || this.disposed) return;
      for (const c of batch) this.handling.add(c);
      try {
        await this.handle(linkId, batch);
      } finally {
        for (const c of batch) this.handling.delete(c);
      }
    });
    this.running = next.catch(() => undefined);
  }

  private async handle(linkId: string, changes: LocalChange[]): Promise<void> {
    // The settings in force now decide (the link may have been changed or removed meanwhile).
    const link = this.host.links().find((l) => l.id === linkId);
    if (!link) {
      // Unlinked meanwhile: nothing waits for its server any more (its changes stay on disk, for if it comes back).
      if (this.waiting.delete(linkId)) this.tellWaiting();
      return;
    }
    const outcome = await this.handleBatch(link, changes);
    // Closing: nothing settled; the next activation hands the batch over again.
    if (this.disposed) return;
    const waited = this.waiting.get(link.id);
    if (outcome.waiting) {
      const attempts = (waited?.attempts ?? 0) + 1;
      const delay = AUTO_RETRY_DELAYS_MS[Math.min(attempts, AUTO_RETRY_DELAYS_MS.length) - 1];
      const entry = { changes, count: outcome.waiting.count, reason: outcome.waiting.reason, attempts, told: waited?.told ?? false, timer: setTimeout(() => this.enqueue(link.id, []), delay) };
      this.waiting.set(link.id, entry);
      if (!entry.told) {
        entry.told = true;
        void vscode.window
          .showWarningMessage(
            `FTP: ${plural(entry.count, 'delete or rename', 'deletes and renames')} in ${path.basename(link.localRoot)} could not reach the server (${entry.reason}). They are kept — also if you close the window — and done when it can be reached: tried again by itself, on Retry, or after a sync.`,
            'Retry Now',
          )
          .then((choice) => {
            if (choice) this.retryNow();
          });
      }
    } else {
      this.waiting.delete(link.id);
      this.pendingOf(link).settle(changes);
    }
    if (waited || outcome.waiting) this.tellWaiting();
  }

  private tellWaiting(): void {
    this.host.waitingChanged([...this.waiting].map(([id, w]) => ({ local: this.host.links().find((l) => l.id === id)?.localRoot ?? id, count: w.count, reason: w.reason })));
  }

  /**
   * The server's connections were closed under the batch (Disconnect, a profile's settings changed):
   * nothing is wrong with the changes, so they wait as for an unreachable server — unless the
   * window is closing, when they are kept on disk for the next one.
   */
  private cutByClose(err: unknown): boolean {
    return !this.disposed && isFtpError(err, 'cancelled');
  }

  /** Plans, looks, asks and does one batch; `waiting` when the server could not be reached (nothing was lost). */
  private async handleBatch(link: Link, changes: LocalChange[]): Promise<{ waiting?: { count: number; reason: string } }> {
    const report: LocalChangesReport = { local: link.localRoot, deleted: [], renamed: [], kept: [], failed: [], uploaded: [] };
    const record = await this.host.stateOf(link);
    const plan = planLocalChanges({ localRoot: link.localRoot, ignore: link.matcher, changes, now: await onDisk(link, changes), record });
    const uploads = new Set<string>(plan.uploads);
    const modes = { deletes: link.deleteOnServer, renames: link.renameOnServer };
    try {
      if (plan.deletes.length + plan.renames.length > 0 && (modes.deletes !== 'never' || modes.renames !== 'never')) {
        const { side } = await this.host.sideOf(link);
        const inspected = await inspectServerChanges(side, link.matcher, plan);
        for (const p of inspected.notOnServer) uploads.add(p);
        for (const p of inspected.problems) report.failed.push({ path: p.path, message: p.message });
        const choice = choosePropagation(inspected.changes, modes);
        const go = [...choice.go];
        const kept = [...choice.kept];
        if (choice.ask.length > 0) {
          const answer = await this.ask(link, choice.ask, modes);
          // The window closed under the question: that was no answer.
          if (this.disposed) return {};
          if (answer === 'keep') kept.push(...choice.ask);
          else go.push(...choice.ask);
          if (answer === 'always') await this.setAlways(link, choice.ask);
        }
        const applied = await applyServerChanges(side, go);
        for (const c of applied.done) {
          if (c.kind === 'rename') report.renamed.push({ from: c.from, to: c.to });
          else report.deleted.push(c.path);
        }
        for (const f of applied.failed) report.failed.push({ path: label(f.change), message: f.error.message });
        // Emptied but kept: they still hold ignored files.
        for (const folder of applied.keptFolders) report.kept.push(`delete ${folder}/`);
        for (const c of kept) {
          report.kept.push(label(c));
          // Not renamed there: with uploadOnChange the new name goes up as the new file it is to the server.
          if (c.kind === 'rename' && link.uploadOnChange) uploads.add(c.to);
        }
        this.host.remoteChanged([
          ...applied.done.flatMap((c): RemoteChange[] =>
            c.kind === 'rename'
              ? [
                  { uri: remoteUriOf(link, c.from), change: 'deleted' },
                  { uri: remoteUriOf(link, c.to), change: 'written' },
                ]
              : [{ uri: remoteUriOf(link, c.path), change: 'deleted' }],
          ),
        ]);
        // Cut off from the server half-way: the whole batch goes again later (what was done is not
        // there any more, so it is not done twice).
        const lost = applied.failed.find((f) => isUnreachable(f.error) || this.cutByClose(f.error));
        if (lost) return this.waitFor(link, report, plan.deletes.length + plan.renames.length - applied.done.length, lost.error);
        if (applied.failed[0]) this.host.explain(link, applied.failed[0].error);
      } else {
        for (const d of plan.deletes) report.kept.push(`delete ${d}`);
        for (const r of plan.renames) {
          report.kept.push(`rename ${r.from} → ${r.to}`);
          if (link.uploadOnChange) uploads.add(r.to);
        }
      }
    } catch (err) {
      if (isFtpError(err, 'cancelled') && this.disposed) return {};
      if (err instanceof Error && (isUnreachable(err) || this.cutByClose(err))) return this.waitFor(link, report, plan.deletes.length + plan.renames.length, err);
      this.host.explain(link, err);
      report.failed.push({ path: '', message: (err as Error).message });
    }
    // Moved in from outside (or from an ignored path), or new from another program: uploaded as any new file.
    if (link.uploadOnSave || link.uploadOnChange) {
      for (const rel of uploads) {
        await this.host.upload(link, rel);
        report.uploaded.push(rel);
      }
    }
    this.tell(link, report);
    this.handled.fire(report);
    return {};
  }

  /** The server cannot be reached: the batch is kept for later; the report says so. */
  private waitFor(link: Link, report: LocalChangesReport, count: number, err: Error): { waiting: { count: number; reason: string } } {
    this.host.explain(link, err);
    const waiting = { count: Math.max(1, count), reason: err.message };
    this.handled.fire({ ...report, waiting });
    return { waiting };
  }

  /** One question for the batch: what would change, and Delete / Keep / Always. */
  private async ask(link: Link, changes: ServerChange[], modes: { deletes: PropagationMode; renames: PropagationMode }): Promise<'apply' | 'keep' | 'always'> {
    const deletes = changes.filter((c) => c.kind === 'delete');
    const renames = changes.filter((c) => c.kind === 'rename');
    const apply = deletes.length === 0 ? CHOICE.apply.rename : renames.length === 0 ? CHOICE.apply.delete : CHOICE.apply.both;
    // "Always" is offered when it would change something: a changed server file is asked about under "always" too.
    const alwaysHelps = (deletes.length > 0 && modes.deletes === 'ask') || (renames.length > 0 && modes.renames === 'ask');
    const where = link.remoteUri.toString(true);
    const changed = deletes.reduce((n, c) => n + (c.kind === 'delete' ? c.changed.length : 0), 0);
    const title = [
      deletes.length > 0 && `${plural(deletes.length, 'item')} deleted`,
      renames.length > 0 && `${plural(renames.length, 'item')} renamed`,
    ]
      .filter(Boolean)
      .join(', ');
    type Item = vscode.QuickPickItem & { answer?: 'apply' | 'keep' | 'always' };
    const choices: Item[] = [
      { label: `$(check) ${apply}`, description: `on ${where}`, answer: 'apply' },
      { label: `$(circle-slash) ${CHOICE.keep}`, description: 'the server keeps them; Sync Local → Remote can delete them later', answer: 'keep' },
    ];
    if (alwaysHelps) {
      choices.push({
        label: `$(check-all) ${CHOICE.always}`,
        description: `do it now and from now on (${[deletes.length > 0 && modes.deletes === 'ask' && 'deleteOnServer', renames.length > 0 && modes.renames === 'ask' && 'renameOnServer'].filter(Boolean).join(', ')}: "always")`,
        answer: 'always',
      });
    }
    const lines = changes.map(label);
    const items: Item[] = [
      ...choices,
      { label: changed > 0 ? `What would change on the server — ${plural(changed, 'file')} changed there since your last sync, or never synced` : 'What would change on the server', kind: vscode.QuickPickItemKind.Separator },
      ...changes.map((c): Item => ({
        label: `${c.kind === 'rename' ? '$(arrow-right)' : c.changed.length > 0 ? '$(warning)' : '$(trash)'} ${label(c).replace(/^(delete|rename) /, '')}`,
        description: c.kind === 'rename' ? 'rename' : describeDelete(c),
      })),
    ];
    const pick = vscode.window.createQuickPick<Item>();
    pick.title = `FTP: ${title} in ${path.basename(link.localRoot)} — do the same on the server?`;
    pick.placeholder = changed > 0 ? `${plural(changed, 'file')} changed on the server since your last sync (or never synced from here) would be lost. Escape keeps everything.` : 'Escape keeps everything on the server.';
    pick.items = items;
    pick.ignoreFocusOut = true;
    const answer = await new Promise<'apply' | 'keep' | 'always'>((resolve) => {
      pick.onDidAccept(() => {
        const chosen = pick.activeItems[0]?.answer;
        // A row of the list is no answer: the question stays.
        if (!chosen) return;
        resolve(chosen);
        pick.hide();
      });
      pick.onDidHide(() => resolve('keep'));
      pick.show();
      this.asked.fire({ local: link.localRoot, changes: lines, choices: choices.map((c) => c.label.replace(/^\$\([^)]+\) /, '')) });
    });
    pick.dispose();
    return answer;
  }

  /** "Always for this link": the link's own entry in the settings where it is defined gets "always". */
  private async setAlways(link: Link, asked: ServerChange[]): Promise<void> {
    const keys: ('deleteOnServer' | 'renameOnServer')[] = [];
    if (asked.some((c) => c.kind === 'delete') && link.deleteOnServer === 'ask') keys.push('deleteOnServer');
    if (asked.some((c) => c.kind === 'rename') && link.renameOnServer === 'ask') keys.push('renameOnServer');
    if (keys.length === 0) return;
    const { target, folder, index } = link.setting;
    const config = vscode.workspace.getConfiguration(SECTION, folder);
    const inspected = config.inspect<unknown[]>(LINKS_KEY);
    const values = target === vscode.ConfigurationTarget.WorkspaceFolder ? inspected?.workspaceFolderValue : target === vscode.ConfigurationTarget.Workspace ? inspected?.workspaceValue : inspected?.globalValue;
    const entry = Array.isArray(values) ? (values[index] as Record<string, unknown> | undefined) : undefined;
    if (!entry || typeof entry !== 'object') {
      void vscode.window.showWarningMessage(`FTP: could not find the link of ${link.localRoot} in ${link.origin} to set ${keys.join(' and ')} to "always". Set it there by hand.`);
      return;
    }
    const updated = [...(values as unknown[])];
    updated[index] = { ...entry, ...Object.fromEntries(keys.map((k) => [k, 'always'])) };
    await config.update(LINKS_KEY, updated, target);
  }

  private tell(link: Link, r: LocalChangesReport): void {
    const done = [r.deleted.length > 0 && `deleted ${r.deleted.join(', ')}`, r.renamed.length > 0 && `renamed ${r.renamed.map((x) => `${x.from} → ${x.to}`).join(', ')}`].filter(Boolean);
    if (r.failed.length > 0) {
      const what = r.failed.slice(0, 3).map((f) => (f.path ? `${f.path}: ${f.message}` : f.message));
      void vscode.window.showErrorMessage(
        `FTP: ${done.length > 0 ? `${done.join('; ')} on the server, but ` : ''}${plural(r.failed.length, 'change')} in ${path.basename(link.localRoot)} did not reach it — ${what.join('; ')}${r.failed.length > 3 ? '; …' : ''}. Sync Local → Remote shows what differs.`,
      );
    } else if (done.length > 0) {
      vscode.window.setStatusBarMessage(`$(check) FTP: ${done.join('; ')} on the server`, 5000);
    }
  }
}

/** What the disk holds now for each path the events name, folders walked (not their ignored parts). */
async function onDisk(link: Link, changes: readonly LocalChange[]): Promise<Map<string, LocalEntry>> {
  const now = new Map<string, LocalEntry>();
  const paths = new Set(changes.flatMap((c) => (c.kind === 'renamed' ? [c.from, c.to] : [c.path])));
  for (const p of paths) {
    const rel = relativeLocal(link.localRoot, p);
    if (!rel) continue;
    const tree = await walkLocal(link.localRoot, link.matcher, { start: rel, symlinks: link.symlinks }).catch(() => undefined);
    for (const [k, e] of tree ?? []) now.set(k, { type: e.type, size: e.size, mtime: e.mtime });
    // An ignored path is not walked, but whether it is there still counts.
    if (!now.has(rel)) {
      const st = await fs.stat(localPathOf(link.localRoot, rel)).catch(() => undefined);
      if (st) now.set(rel, { type: st.isDirectory() ? 'directory' : 'file', size: st.size, mtime: st.mtimeMs });
    }
  }
  return now;
}

function label(c: ServerChange): string {
  return c.kind === 'rename' ? `rename ${c.from}${c.type === 'directory' ? '/' : ''} → ${c.to}${c.type === 'directory' ? '/' : ''}` : `delete ${c.path}${c.type === 'directory' ? '/' : ''}`;
}

function describeDelete(c: ServerChange & { kind: 'delete' }): string {
  const what = c.type === 'directory' ? `delete folder, ${plural(c.files.length, 'file')}` : 'delete';
  if (c.changed.length === 0) return what;
  return `${what} — changed on the server since your last sync (or never synced from here): ${c.changed.slice(0, 3).join(', ')}${c.changed.length > 3 ? ', …' : ''}`;
}
