/**
 * Status bar item showing the data mode of the server in front of the user (the active editor's,
 * else the first FTP workspace folder's); a click opens the mode switch.
 */
import * as vscode from 'vscode';
import type { FtpErrorKind } from '../ftp/errors';
import type { DataMode } from '../ftp/types';
import type { ServerConnection, Servers } from './servers';

export const FTP_SCHEMES = new Set(['ftp', 'ftps']);

const MODE_LABEL: Record<DataMode, string> = { passive: 'Passive', active: 'Active', auto: 'Auto' };
const SECURITY_LABEL = { none: 'none (plain FTP)', explicit: 'explicit FTPS (AUTH TLS)', implicit: 'implicit FTPS' };
/**
 * Failures of the connection itself, the ones the item warns about. Failures about one file are
 * not: VS Code looks for .vscode/settings.json, package.json and the like in every folder, so
 * "not found" is routine, and a refused save shows its own error.
 */
export const CONNECTION_ERRORS: ReadonlySet<FtpErrorKind> = new Set<FtpErrorKind>(['login', 'connection-lost', 'connect', 'proxy', 'data-channel', 'tls', 'timeout', 'busy', 'protocol']);

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private pending?: NodeJS.Timeout;
  private connection?: ServerConnection;

  constructor(private readonly servers: Servers) {
    this.item = vscode.window.createStatusBarItem('ftpWorkspace.mode', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'FTP Data Mode';
    this.item.command = 'ftpWorkspace.switchMode';
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.update()),
      // Pool state changes come in bursts (every lend and return): redraw at most every 100 ms.
      servers.onDidChangeState(() => this.scheduleUpdate()),
    );
    this.update();
  }

  /** The server the status bar shows, if any (target of switchMode without arguments). */
  current(): ServerConnection | undefined {
    return this.connection;
  }

  update(): void {
    const uri = currentFtpUri();
    let connection: ServerConnection | undefined;
    try {
      connection = uri ? this.servers.connectionFor(uri) : undefined;
    } catch {
      connection = undefined;
    }
    if (!!connection !== !!this.connection || this.connection === undefined) {
      void vscode.commands.executeCommand('setContext', 'ftpWorkspace.active', !!connection);
    }
    this.connection = connection;
    if (!connection) {
      this.item.hide();
      return;
    }
    const { pool, server } = connection;
    const mode = pool.mode;
    const label = mode === 'auto' && pool.lastConcreteMode ? `Auto (${pool.lastConcreteMode})` : MODE_LABEL[mode];
    const working = pool.pending > 0 || pool.activity > 0;
    this.item.text = `${working ? '$(sync~spin)' : '$(plug)'} FTP: ${label}`;
    const error = pool.lastError && CONNECTION_ERRORS.has(pool.lastError.kind) ? pool.lastError : undefined;
    this.item.backgroundColor = error ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**FTP: ${escape(server.label)}** — ${escape(server.host)}:${server.port}\n\n`);
    tip.appendMarkdown(`Data mode: ${label}${mode === 'auto' ? ' (passive first, active if that fails)' : ''}\n\n`);
    tip.appendMarkdown(`Security: ${SECURITY_LABEL[server.security]}\n\n`);
    tip.appendMarkdown(`Connections: ${pool.inUse} in use / ${pool.size} open (limit ${pool.limit}${pool.limit < pool.maxSize ? `, reduced from ${pool.maxSize} by the server` : ''})\n\n`);
    if (error) tip.appendMarkdown(`Last error: ${escape(error.message)}\n\n`);
    tip.appendMarkdown('Click to switch the data mode.');
    this.item.tooltip = tip;
    this.item.show();
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    for (const d of this.disposables) d.dispose();
  }

  private scheduleUpdate(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.update();
    }, 100);
  }
}

/** The active editor's URI if it is on FTP, else the first FTP workspace folder. */
export function currentFtpUri(): vscode.Uri | undefined {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && FTP_SCHEMES.has(active.scheme)) return active;
  return vscode.workspace.workspaceFolders?.find((f) => FTP_SCHEMES.has(f.uri.scheme))?.uri;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}
