/**
 * The "FTP Servers" view: every server profile with its host, security, data mode, state
 * (connected n of limit, idle, or the last error) and the linked folders that use it, redrawn on
 * the servers' events (never polled). The same rows are served to other extensions and tests
 * through the API (serverStates), so what they check is what the view shows.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isDataMode, type ServerProfile } from '../remote/serverConfig';
import { poolLimit, SECTION, type ServerConnection, type Servers } from './servers';
import { CONNECTION_ERRORS } from './statusBar';
import { readLinks } from './sync/links';

const SECURITY_LABEL = { none: 'FTP', explicit: 'FTPS', implicit: 'FTPS (implicit)' } as const;

/** One profile as the view shows it. */
export interface ServerState {
  name: string;
  /** user@host:port */
  address: string;
  security: 'none' | 'explicit' | 'implicit';
  mode: 'passive' | 'active' | 'auto';
  state: 'connected' | 'idle' | 'error';
  /** Open connections and the most allowed (lower than configured after a server's limit reply). */
  connections: number;
  limit: number;
  lastError?: string;
  /** Linked local folders (absolute paths) whose remote is on this server. */
  links: { local: string; remote: string }[];
}

export function serverStates(servers: Servers): ServerState[] {
  const { links } = readLinks();
  const live = new Map<string, ServerConnection>();
  for (const c of servers.all()) if (c.server.profileName) live.set(c.server.profileName.toLowerCase(), c);
  const defaults = servers.defaults();
  return servers.profiles().map((p) => {
    const connection = live.get(p.name.toLowerCase());
    const pool = connection?.pool;
    const error = pool?.lastError && CONNECTION_ERRORS.has(pool.lastError.kind) ? pool.lastError : undefined;
    const security = p.security === 'explicit' || p.security === 'implicit' ? p.security : 'none';
    const connections = pool?.size ?? 0;
    return {
      name: p.name,
      address: `${p.user?.trim() || 'anonymous'}@${p.host}:${p.port ?? (security === 'implicit' ? 990 : 21)}`,
      security,
      mode: pool?.mode ?? (isDataMode(p.mode) ? p.mode : defaults.mode),
      state: connections > 0 ? 'connected' : error ? 'error' : 'idle',
      connections,
      limit: pool?.limit ?? poolLimit(p.poolSize ?? defaults.poolSize),
      ...(error ? { lastError: error.message } : {}),
      links: links.filter((l) => l.authority.toLowerCase() === p.name.toLowerCase()).map((l) => ({ local: l.localRoot, remote: l.remoteUri.toString(true) })),
    };
  });
}

type Node = { kind: 'server'; state: ServerState } | { kind: 'link'; server: string; local: string; remote: string };

export class ServersView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private pending?: NodeJS.Timeout;

  constructor(private readonly servers: Servers) {
    this.disposables.push(
      this.changed,
      vscode.window.createTreeView('ftpWorkspace.servers', { treeDataProvider: this, showCollapseAll: false }),
      // Pool state changes come in bursts (every lend and return): redraw at most every 100 ms.
      servers.onDidChangeState(() => this.schedule()),
      servers.onDidFailToConnect(() => this.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(SECTION) && this.schedule()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.schedule()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.schedule()),
    );
  }

  getChildren(node?: Node): Node[] {
    if (!node) return serverStates(this.servers).map((state) => ({ kind: 'server', state }));
    if (node.kind === 'server') return node.state.links.map((l) => ({ kind: 'link', server: node.state.name, ...l }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'link') {
      const item = new vscode.TreeItem(path.basename(node.local) || node.local);
      item.description = `↔ ${node.remote}`;
      item.tooltip = `${node.local}\nlinked to ${node.remote}`;
      item.iconPath = new vscode.ThemeIcon('link');
      item.resourceUri = vscode.Uri.file(node.local);
      item.contextValue = 'ftpLink';
      item.command = { command: 'revealInExplorer', title: 'Reveal in Explorer', arguments: [vscode.Uri.file(node.local)] };
      return item;
    }
    const s = node.state;
    const item = new vscode.TreeItem(s.name, s.links.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = `server:${s.name.toLowerCase()}`;
    const state = s.state === 'connected' ? `connected ${s.connections}/${s.limit}` : s.state === 'error' ? 'error' : 'idle';
    item.description = `${s.address} · ${SECURITY_LABEL[s.security]} · ${s.mode} · ${state}`;
    item.iconPath = s.state === 'error' ? new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground')) : new vscode.ThemeIcon(s.state === 'connected' ? 'vm-running' : 'server');
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendText(`${s.name} — ${s.address}\n\nSecurity: ${SECURITY_LABEL[s.security]} · data mode: ${s.mode}\n\nState: ${state}\n\n`);
    if (s.lastError) tip.appendText(`Last error: ${s.lastError}\n\n`);
    for (const l of s.links) tip.appendText(`Linked: ${l.local} ↔ ${l.remote}\n\n`);
    item.tooltip = tip;
    item.contextValue = s.state === 'connected' ? 'ftpServer connected' : 'ftpServer';
    return item;
  }

  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    for (const d of this.disposables) d.dispose();
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.changed.fire();
    }, 100);
  }
}

/** The profile a view command was run on: a row of the view, or a profile name (scripts, tests). */
export function profileOf(servers: Servers, target: unknown): ServerProfile | undefined {
  const name = typeof target === 'string' ? target : (target as Node | undefined)?.kind === 'server' ? (target as { state: ServerState }).state.name : undefined;
  return name ? servers.profiles().find((p) => p.name.toLowerCase() === name.toLowerCase()) : undefined;
}
