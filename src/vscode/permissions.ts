/**
 * "FTP: Set Permissions…" on files and folders of ftp:// folders and of linked folders (SITE CHMOD),
 * and the current mode in the Explorer's hover (a file decoration's tooltip, from the listing
 * already read: no round trip). The walk and the FTP work are RemoteFs's (chmod, chmodTree).
 */
import * as vscode from 'vscode';
import { isFtpError } from '../ftp/errors';
import { formatMode, modeProblem, octalMode, parseMode, PERMISSION_BITS } from '../ftp/permissions';
import { basename, dirname } from '../ftp/remotePath';
import type { TreeModes } from '../remote/remoteFs';
import { findLink } from '../sync/linkConfig';
import { relativeLocal } from '../sync/trees';
import { withProgress } from './progress';
import type { ServerConnection, Servers } from './servers';
import { readLinks, remoteUriOf } from './sync/links';

/** What a folder's new mode applies to. */
export type Scope = 'self' | 'all' | 'folders' | 'files';
const SCOPES: Scope[] = ['self', 'all', 'folders', 'files'];

/**
 * Arguments for scripts and keybindings (`executeCommand('ftpWorkspace.setPermissions', uri,
 * undefined, { mode: '640', scope: 'all' })`): given, the dialog is skipped.
 */
export interface SetPermissionsArgs {
  mode?: string;
  scope?: Scope;
}

interface Target {
  /** The ftp:// URI (for a linked file, its twin on the server). */
  uri: vscode.Uri;
  connection: ServerConnection;
  path: string;
}

export class Permissions implements vscode.Disposable, vscode.FileDecorationProvider {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly decorationsChanged = new vscode.EventEmitter<vscode.Uri | vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.decorationsChanged.event;
  /** Servers whose missing SITE CHMOD the user was told about (automatic chmods). */
  private readonly told = new Set<string>();

  constructor(private readonly servers: Servers) {
    this.disposables.push(
      this.decorationsChanged,
      vscode.commands.registerCommand('ftpWorkspace.setPermissions', (uri?: vscode.Uri, uris?: vscode.Uri[], args?: SetPermissionsArgs) => this.setPermissions(uri, uris, args)),
      vscode.window.registerFileDecorationProvider(this),
      servers.onChmodUnavailable(({ connection, message }) => {
        if (this.told.has(connection.server.key)) return;
        this.told.add(connection.server.key);
        void vscode.window.showWarningMessage(`FTP ${connection.server.label}: ${message}`);
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** The mode the last listing showed, in the Explorer's hover: "Permissions: rw-r--r-- (644)". */
  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== 'ftp' && uri.scheme !== 'ftps') return undefined;
    try {
      const connection = this.servers.connectionFor(uri);
      const hit = connection.fs.cache.lookup(this.servers.remotePath(uri, connection.server));
      const mode = hit.kind === 'entry' && hit.entry.type !== 'symlink' ? hit.entry.permissions : undefined;
      return mode === undefined ? undefined : new vscode.FileDecoration(undefined, `Permissions: ${formatMode(mode)}`);
    } catch {
      return undefined;
    }
  }

  private async setPermissions(uri?: vscode.Uri, uris?: vscode.Uri[], args: SetPermissionsArgs = {}): Promise<void> {
    const chosen = uris && uris.length > 0 ? uris : uri ? [uri] : [vscode.window.activeTextEditor?.document.uri].filter((u): u is vscode.Uri => !!u);
    if (chosen.length === 0) {
      void vscode.window.showInformationMessage('FTP: Set Permissions works on a file or folder of an ftp:// folder or of a linked folder: right-click it in the Explorer.');
      return;
    }
    const targets: Target[] = [];
    for (const u of chosen) {
      const t = this.targetOf(u);
      if (t) targets.push(t);
    }
    if (targets.length === 0) return;
    try {
      const first = targets[0];
      const stat = await first.connection.fs.statFromServer(first.path);
      const current = stat.permissions ?? (await this.listedMode(first));
      const isFolder = stat.type === 'directory';
      const mode = args.mode !== undefined ? checkedMode(args.mode) : await this.askMode(first, targets.length, current);
      if (mode === undefined) return;
      const scope = args.scope !== undefined ? checkedScope(args.scope) : isFolder || targets.length > 1 ? await this.askScope(mode, isFolder) : 'self';
      if (scope === undefined) return;
      await this.apply(targets, mode, scope);
    } catch (err) {
      if (isFtpError(err, 'cancelled')) return;
      if (isFtpError(err, 'unsupported')) this.told.add(targets[0].connection.server.key);
      void vscode.window.showErrorMessage(`FTP: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** An ftp:// URI as it is; a local file of a linked folder as its twin on the server. */
  private targetOf(uri: vscode.Uri): Target | undefined {
    let remote = uri;
    if (uri.scheme === 'file') {
      const link = findLink(readLinks().links, uri.fsPath);
      const rel = link && relativeLocal(link.localRoot, uri.fsPath);
      if (!link || rel === undefined) {
        void vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(uri)} is not in an ftp:// folder or a folder linked to an FTP server.`);
        return undefined;
      }
      remote = remoteUriOf(link, rel);
    } else if (uri.scheme !== 'ftp' && uri.scheme !== 'ftps') {
      void vscode.window.showWarningMessage(`${uri.toString(true)} is not on an FTP server.`);
      return undefined;
    }
    const connection = this.servers.connectionFor(remote);
    return { uri: remote, connection, path: this.servers.remotePath(remote, connection.server) };
  }

  /** Servers without MLST (vsftpd) tell a mode only in their LIST. */
  private async listedMode(t: Target): Promise<number | undefined> {
    if (t.path === '/') return undefined;
    const entries = await t.connection.fs.list(dirname(t.path)).catch(() => []);
    return entries.find((e) => e.name === basename(t.path))?.permissions;
  }

  /**
   * The nine boxes, ticked as the mode is now; or a mode typed into the filter (644, rwxr-x---)
   * and Enter. The special bits (setuid, setgid, sticky) of the current mode are kept.
   */
  private askMode(first: Target, count: number, current: number | undefined): Promise<number | undefined> {
    const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { bit: number }>();
    const what = count > 1 ? `${count} items` : basename(first.path) || first.uri.toString(true);
    pick.title = `Permissions of ${what}${current !== undefined ? ` — now ${formatMode(current)}` : ''}`;
    pick.placeholder = 'Tick the boxes, or type 644 or rwxr-xr-x, then Enter';
    pick.canSelectMany = true;
    pick.ignoreFocusOut = true;
    pick.items = PERMISSION_BITS.map(({ bit, who, what: right }) => ({ label: `${capital(who)}: ${right}`, description: octalMode(bit).replace(/^0+/, ''), bit }));
    pick.selectedItems = pick.items.filter((i) => current !== undefined && (current & i.bit) !== 0);
    const special = (current ?? 0) & 0o7000;
    return new Promise((resolve) => {
      let done = false;
      const finish = (mode: number | undefined) => {
        if (done) return;
        done = true;
        resolve(mode);
        pick.dispose();
      };
      const title = pick.title;
      pick.onDidChangeValue(() => { pick.title = title; });
      pick.onDidAccept(() => {
        const typed = pick.value.trim();
        if (typed === '') {
          finish(pick.selectedItems.reduce((m, i) => m | i.bit, special));
          return;
        }
        const mode = parseMode(typed);
        // A QuickPick has no validation message: the title says what is wrong, the pick stays open.
        if (mode === undefined) pick.title = `${title} — "${typed}": ${modeProblem(typed)}`;
        else finish(mode);
      });
      pick.onDidHide(() => finish(undefined));
      pick.show();
    });
  }

  private async askScope(mode: number, isFolder: boolean): Promise<Scope | undefined> {
    const m = formatMode(mode);
    const items: (vscode.QuickPickItem & { scope: Scope })[] = [
      { label: isFolder ? 'This folder only' : 'The selected items only', description: m, scope: 'self' },
      { label: 'Everything in it too: folders and files', description: m, scope: 'all' },
      { label: 'Folders in it only', description: `${m}; files keep theirs`, scope: 'folders' },
      { label: 'Files in it only', description: `${m}; folders keep theirs`, scope: 'files' },
    ];
    const choice = await vscode.window.showQuickPick(items, { title: `Apply ${m} to`, ignoreFocusOut: true });
    return choice?.scope;
  }

  private async apply(targets: Target[], mode: number, scope: Scope): Promise<void> {
    const title = `FTP: setting permissions ${formatMode(mode)}${targets.length === 1 ? ` of ${basename(targets[0].path) || targets[0].uri.toString(true)}` : ''}`;
    let changed = 0;
    const failed: string[] = [];
    let skippedLinks = 0;
    try {
      await withProgress({ title, showAfterFirstReportMs: 500 }, async (progress) => {
        for (const t of targets) {
          if (scope === 'self') {
            await t.connection.fs.chmod(t.path, mode, { signal: progress.signal });
            changed++;
            progress.report(`${changed} done`);
            continue;
          }
          const modes: TreeModes = { dirMode: scope === 'files' ? undefined : mode, fileMode: scope === 'folders' ? undefined : mode };
          const result = await t.connection.fs.chmodTree(t.path, modes, { signal: progress.signal, onProgress: (done, p) => progress.report(`${changed + done} done — ${p}`) });
          changed += result.changed;
          skippedLinks += result.skippedLinks;
          failed.push(...result.failed.map((f) => `${f.path}: ${f.error.message}`));
        }
      });
    } finally {
      // The hover shows the mode from the listing: read the changed folders again, then ask anew.
      const folders = new Map(targets.map((t) => [`${t.connection.server.key}\n${dirname(t.path)}`, t] as const));
      await Promise.all([...folders.values()].map((t) => t.connection.fs.list(dirname(t.path)).catch(() => undefined)));
      this.decorationsChanged.fire(undefined);
    }
    const links = skippedLinks ? `; ${skippedLinks} symbolic link${skippedLinks === 1 ? '' : 's'} left alone` : '';
    if (failed.length > 0) {
      void vscode.window.showWarningMessage(`FTP: permissions ${formatMode(mode)} set on ${changed} item${changed === 1 ? '' : 's'}; the server refused ${failed.length}${links} — first: ${failed[0]}`);
    } else {
      void vscode.window.setStatusBarMessage(`FTP: permissions ${formatMode(mode)} set on ${changed} item${changed === 1 ? '' : 's'}${links}`, 5000);
    }
  }
}

function checkedMode(text: string): number {
  const mode = parseMode(String(text));
  if (mode === undefined) throw new Error(`"${text}" is not a permission mode: ${modeProblem(String(text))}`);
  return mode;
}

function checkedScope(scope: string): Scope {
  if (!(SCOPES as string[]).includes(scope)) throw new Error(`scope must be one of ${SCOPES.join(', ')}, not "${scope}"`);
  return scope as Scope;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
