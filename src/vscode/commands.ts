/**
 * The commands: add a server, open a remote folder, switch the data mode, test the connection,
 * disconnect, forget a password, show the log; plus plain-words help after data-channel failures.
 */
import * as vscode from 'vscode';
import * as defaults from '../ftp/defaults';
import { diagnose, LOGIN_STEP, type Diagnosis } from '../ftp/diagnose';
import { isPort } from '../ftp/portRange';
import type { FtpError } from '../ftp/errors';
import type { DataMode, Security } from '../ftp/types';
import { folderName } from './folderNames';
import { addProfiles, profileTarget } from './profileSettings';
import { withProgress } from './progress';
import type { ProtocolLog } from './protocolLog';
import { isDataMode, isValidProfileName, needsPassword, parseAuthority, proxyAccount, type ServerProfile } from '../remote/serverConfig';
import type { ServerConnection, Servers } from './servers';
import { currentFtpUri, FTP_SCHEMES, type StatusBar } from './statusBar';

const MODE_ITEMS: { mode: DataMode; label: string; description: string }[] = [
  { mode: 'passive', label: 'Passive', description: 'This machine connects to the server (EPSV/PASV) — works behind most firewalls and NAT' },
  { mode: 'active', label: 'Active', description: 'The server connects back to this machine (EPRT/PORT) — for servers whose passive ports are blocked' },
  { mode: 'auto', label: 'Auto', description: 'Try the mode that worked last (passive first) and fall back to the other' },
];

/** Don't repeat the same advice for a server more often than this. */
const ADVICE_QUIET_MS = 60_000;
/**
 * The same failed connect to a server is told once in this long (VS Code asks for files in bursts,
 * and linked folders retry by themselves); a success, or the user's Retry, ends the quiet.
 */
const CONNECT_FAILURE_QUIET_MS = 5 * 60_000;

/** A failed connect the user was told about (the notification shown), as the API reports it. */
export interface ConnectFailureReport {
  /** The profile name, or user@host:port for an ad-hoc server. */
  server: string;
  /** What the notification says happened (the FtpError's message). */
  message: string;
  /** The FtpError's kind: connect, timeout, tls, protocol or proxy. */
  kind: string;
}
/** Connection test reports: read-only documents, so none is left behind as an unsaved "Untitled-1". */
const REPORT_SCHEME = 'ftp-workspace-report';

export class Commands implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly advisedAt = new Map<string, number>();
  private readonly reports = new Reports();
  private readonly toldConnectFailures = new Map<string, { message: string; at: number }>();
  private readonly connectFailureReports = new vscode.EventEmitter<ConnectFailureReport>();
  /** Fires when a failed connect is shown to the user: once per server and failure. */
  readonly onDidReportConnectFailure = this.connectFailureReports.event;

  constructor(
    private readonly servers: Servers,
    private readonly log: ProtocolLog,
    private readonly statusBar: StatusBar,
  ) {
    const register = (id: string, fn: (...args: never[]) => unknown) => this.disposables.push(vscode.commands.registerCommand(id, fn));
    register('ftpWorkspace.addServer', (initial?: string) => this.addServer(initial));
    register('ftpWorkspace.openRemoteFolder', (name?: string) => this.openRemoteFolder(name));
    register('ftpWorkspace.disconnect', () => this.disconnect());
    register('ftpWorkspace.forgetPassword', () => this.forgetPassword());
    register('ftpWorkspace.switchMode', (mode?: DataMode, serverName?: string) => this.switchMode(mode, serverName));
    register('ftpWorkspace.showLog', () => this.log.show());
    register('ftpWorkspace.getStarted', () => vscode.commands.executeCommand('workbench.action.openWalkthrough', 'ftp-workspace.ftp-workspace#gettingStarted', false));
    register('ftpWorkspace.testConnection', (serverName?: string) => this.testConnection(serverName));
    register('ftpWorkspace.editServer', (serverName?: string) => this.editServer(this.target(serverName)));
    this.disposables.push(
      this.reports,
      vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this.reports),
      this.connectFailureReports,
      servers.onDidFailToConnect(({ connection, error }) => void this.reportConnectFailure(connection, error)),
      servers.onDidConnect((connection) => this.toldConnectFailures.delete(connection.server.key)),
    );
  }

  /**
   * Tells the user, once per server and failure, that a server could not be reached, why in plain
   * words, and the ways on: without it the folder just stays empty and the reason sits in the log.
   */
  private async reportConnectFailure(connection: ServerConnection, error: FtpError): Promise<void> {
    const { server } = connection;
    const told = this.toldConnectFailures.get(server.key);
    if (told && told.message === error.message && Date.now() - told.at < CONNECT_FAILURE_QUIET_MS) return;
    this.toldConnectFailures.set(server.key, { message: error.message, at: Date.now() });
    this.connectFailureReports.fire({ server: server.label, message: error.message, kind: error.kind });
    const choice = await vscode.window.showErrorMessage(`FTP ${server.label}: ${error.message}`, 'Retry', 'Edit Server', 'Test Connection', 'Show Log');
    if (choice === 'Retry') await this.retryConnect(connection);
    else if (choice === 'Edit Server') await this.editServer(connection);
    else if (choice === 'Test Connection') await this.runDiagnosis(this.servers.connectionForServer(server));
    else if (choice === 'Show Log') this.log.show();
  }

  /** Connects again now; on success the Explorer reads the server's folders again. */
  private async retryConnect(connection: ServerConnection): Promise<void> {
    this.toldConnectFailures.delete(connection.server.key);
    this.servers.allowLogin(connection.server);
    // The pool may have been replaced meanwhile (settings changed, Disconnect).
    const current = this.servers.connectionForServer(connection.server);
    const connected = await current.pool.run(async () => true).catch(() => false);
    if (connected) await Promise.resolve(vscode.commands.executeCommand('workbench.files.action.refreshFilesExplorer')).catch(() => undefined);
  }

  /** Opens the settings JSON at the server's profile; for an ad-hoc URI, Add Server starts from it. */
  private async editServer(connection: ServerConnection | undefined): Promise<void> {
    if (!connection) {
      await vscode.commands.executeCommand('workbench.action.openSettingsJson');
      return;
    }
    const { server } = connection;
    if (!server.profileName) {
      // The URI's scheme alone would not say which TLS an ftps:// folder used, nor a plain ftp://
      // folder that it has none: Add Server would offer Explicit FTPS first, and Enter through the
      // prompts would make a profile that no longer connects like the folder did. The user is
      // encoded: Add Server decodes it, and a ":" in it would read as a password.
      const host = server.host.includes(':') ? `[${server.host}]` : server.host;
      await this.addServer(`ftp://${server.user === 'anonymous' ? '' : `${encodeURIComponent(server.user)}@`}${host}:${server.port}`, { security: server.security, mode: connection.pool.mode });
      return;
    }
    const target = profileTarget(server.profileName)?.target;
    // In a remote window (SSH, code-server) a user-level profile of this machine-overridable
    // setting may be in the remote's settings file rather than the local one.
    const files =
      target === vscode.ConfigurationTarget.Workspace || target === vscode.ConfigurationTarget.WorkspaceFolder
        ? ['workbench.action.openWorkspaceSettingsFile']
        : ['workbench.action.openSettingsJson', ...(vscode.env.remoteName ? ['workbench.action.openRemoteSettingsFile'] : [])];
    const escaped = server.profileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`"name"\\s*:\\s*"${escaped}"`, 'i');
    const isSettings = (e: vscode.TextEditor | undefined) => !!e && /(settings\.json|\.code-workspace)$/.test(e.document.uri.path);
    for (const [i, command] of files.entries()) {
      const before = vscode.window.activeTextEditor;
      await vscode.commands.executeCommand(command);
      const current = vscode.window.activeTextEditor;
      const editor = isSettings(current) && current !== before ? current : ((await nextEditor(isSettings, 2000)) ?? (isSettings(current) ? current : undefined));
      if (!editor) continue;
      // A profile just written (Duplicate) may reach the open settings editor a moment later.
      const at = pattern.exec(editor.document.getText()) ?? (await nextMatch(editor.document, pattern, i === files.length - 1 ? 3000 : 1000));
      if (!at) continue;
      const start = editor.document.positionAt(at.index);
      editor.selection = new vscode.Selection(start, editor.document.positionAt(at.index + at[0].length));
      editor.revealRange(new vscode.Range(start, start), vscode.TextEditorRevealType.InCenter);
      return;
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** Explains a failed data connection in plain words and offers the way out. */
  async explainFailure(connection: ServerConnection, error: FtpError): Promise<void> {
    if (error.kind !== 'data-channel') return;
    const last = this.advisedAt.get(connection.server.key);
    if (last !== undefined && Date.now() - last < ADVICE_QUIET_MS) return;
    this.advisedAt.set(connection.server.key, Date.now());
    this.log.error(`[${connection.server.label}] ${error.message}`);
    const mode = error.mode ?? connection.pool.mode;
    const buttons: string[] = [];
    let message: string;
    if (mode === 'active') {
      message = `FTP ${connection.server.label}: the server could not connect back to this machine — a firewall or NAT is probably in the way.`;
      buttons.push('Switch to Passive');
    } else if (mode === 'passive') {
      message = `FTP ${connection.server.label}: could not open the passive data connection the server offered — a firewall may block its passive ports.`;
      buttons.push('Switch to Active');
    } else {
      message = `FTP ${connection.server.label}: no data connection works, neither passive nor active — a firewall blocks both directions.`;
    }
    buttons.push('Test Connection', 'Show Log');
    const choice = await vscode.window.showErrorMessage(message, ...buttons);
    if (choice === 'Switch to Passive') await this.servers.setMode(connection, 'passive');
    else if (choice === 'Switch to Active') await this.servers.setMode(connection, 'active');
    else if (choice === 'Test Connection') await this.runDiagnosis(connection);
    else if (choice === 'Show Log') this.log.show();
  }

  // --- commands

  private async addServer(initial?: string, current?: { security: Security; mode: DataMode }): Promise<void> {
    const title = 'Add FTP Server';
    const hostInput = await vscode.window.showInputBox({
      title,
      value: typeof initial === 'string' ? initial : undefined,
      prompt: 'Host name or address (you may paste ftp://user@host:port)',
      placeHolder: 'ftp.example.com',
      ignoreFocusOut: true,
      validateInput: (v) => (hostOf(v) ? undefined : 'Enter a host name or address'),
    });
    if (!hostInput) return;
    const parsed = hostOf(hostInput)!;
    const security = await pick<Security>(title, 'Security', [
      { value: 'explicit', label: 'Explicit FTPS', description: 'AUTH TLS on the normal port — recommended' },
      { value: 'implicit', label: 'Implicit FTPS', description: `TLS from the first byte, usually port ${defaults.implicitFtpsPort}` },
      { value: 'none', label: 'Plain FTP', description: 'No encryption: password and files travel in clear text' },
    ], current?.security ?? (parsed.scheme === 'ftps' ? 'explicit' : undefined));
    if (!security) return;
    const portText = await vscode.window.showInputBox({
      title,
      prompt: 'Port',
      value: String(parsed.port ?? defaults.defaultPort(security)),
      ignoreFocusOut: true,
      validateInput: (v) => (/^\d+$/.test(v) && isPort(+v) ? undefined : 'A port is a number from 1 to 65535'),
    });
    if (!portText) return;
    const user = await vscode.window.showInputBox({ title, prompt: 'User name (anonymous for anonymous FTP)', value: parsed.user ?? '', ignoreFocusOut: true });
    if (user === undefined) return;
    const mode = await pick<DataMode>(title, 'Data connection mode', MODE_ITEMS.map((m) => ({ value: m.mode, label: m.label, description: m.description })), current?.mode ?? defaults.dataMode);
    if (!mode) return;
    const existing = this.servers.profiles();
    const suggested = uniqueName(parsed.host.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'server', existing);
    const name = await vscode.window.showInputBox({
      title,
      prompt: 'Name of this server (used in ftp://NAME/path)',
      value: suggested,
      ignoreFocusOut: true,
      validateInput: (v) =>
        !isValidProfileName(v)
          ? 'Letters, digits, ".", "_" and "-" only, starting with a letter or digit'
          : existing.some((p) => p.name.toLowerCase() === v.toLowerCase())
            ? 'A server with this name exists'
            : undefined,
    });
    if (!name) return;
    const profile: ServerProfile = { name, host: parsed.host, port: Number(portText), user: user.trim() || 'anonymous', security, mode };
    await addProfiles([profile]);
    const server = this.servers.resolve(vscode.Uri.from({ scheme: 'ftp', authority: name, path: '/' }));
    if (needsPassword(server)) {
      const candidate = await this.servers.passwords.ask(server);
      if (candidate) await this.servers.passwords.accepted(server, candidate);
    }
    const open = await vscode.window.showInformationMessage(`FTP server "${name}" added.`, 'Open Remote Folder', 'Test Connection');
    if (open === 'Open Remote Folder') await this.openRemoteFolder(name);
    else if (open === 'Test Connection') await this.testConnection(name);
  }

  private async openRemoteFolder(serverName?: string): Promise<void> {
    let root: vscode.Uri | undefined;
    if (serverName) root = vscode.Uri.from({ scheme: 'ftp', authority: serverName, path: '/' });
    else root = await this.pickServerRoot();
    if (!root) return;
    try {
      this.servers.allowLogin(this.servers.resolve(root));
    } catch (err) {
      void vscode.window.showErrorMessage((err as Error).message);
      return;
    }
    const folder = await this.browse(root);
    if (!folder) return;
    const folders = vscode.workspace.workspaceFolders ?? [];
    const choice = await vscode.window.showQuickPick(
      [
        { label: 'Add to Workspace', action: 'add' as const },
        { label: 'Open in This Window', action: 'open' as const },
        { label: 'Open in New Window', action: 'new' as const },
      ].filter((i) => folders.length > 0 || i.action !== 'add'),
      { title: `Open ${folder.toString(true)}` },
    );
    if (!choice) return;
    if (choice.action === 'add') {
      vscode.workspace.updateWorkspaceFolders(folders.length, 0, { uri: folder, name: folderName(folder) });
    } else {
      await vscode.commands.executeCommand('vscode.openFolder', folder, { forceNewWindow: choice.action === 'new' });
    }
  }

  private async disconnect(): Promise<void> {
    const open = this.servers.all().filter((c) => c.pool.size > 0 || c.pool.activity > 0);
    if (open.length === 0) {
      void vscode.window.showInformationMessage('No FTP server is connected.');
      return;
    }
    const target = open.length === 1 ? open[0] : await this.pickConnection(open, 'Disconnect from', true);
    if (target === undefined) return;
    await this.servers.disconnect(target === 'all' ? undefined : target);
    this.statusBar.update();
  }

  private async forgetPassword(): Promise<void> {
    const candidates = new Map<string, ServerConnection>();
    for (const p of this.servers.profiles()) {
      try {
        const c = this.servers.connectionFor(vscode.Uri.from({ scheme: 'ftp', authority: p.name, path: '/' }));
        candidates.set(c.server.key, c);
      } catch {
        // A broken profile has no password to forget.
      }
    }
    for (const c of this.servers.all()) candidates.set(c.server.key, c);
    const list = [...candidates.values()].filter((c) => needsPassword(c.server) || proxyAccount(c.server));
    if (list.length === 0) {
      void vscode.window.showInformationMessage('No FTP server with a password is configured.');
      return;
    }
    const target = await this.pickConnection(list, 'Forget the password of', false);
    if (!target || target === 'all') return;
    await this.servers.forgetPassword(target.server);
    const proxy = proxyAccount(target.server);
    void vscode.window.showInformationMessage(`Forgot the password of ${target.server.user}@${target.server.host}${proxy ? ` and of the proxy ${proxy.proxy}` : ''}.`);
  }

  private async switchMode(mode?: DataMode, serverName?: string): Promise<void> {
    const connection = this.target(serverName);
    if (!connection) {
      void vscode.window.showInformationMessage('Open an FTP folder or file first.');
      return;
    }
    if (mode !== undefined) {
      if (!isDataMode(mode)) throw new Error(`Unknown data mode "${String(mode)}": use passive, active or auto`);
      await this.servers.setMode(connection, mode);
      this.statusBar.update();
      return;
    }
    const current = connection.pool.mode;
    type Item = vscode.QuickPickItem & { run: () => Promise<unknown> | void };
    const items: Item[] = [
      ...MODE_ITEMS.map((m) => ({
        label: `${m.mode === current ? '$(check) ' : '$(blank) '}${m.label}`,
        description: m.description,
        run: async () => {
          await this.servers.setMode(connection, m.mode);
          this.statusBar.update();
        },
      })),
      { label: '', kind: vscode.QuickPickItemKind.Separator, run: () => undefined },
      { label: '$(pulse) Test Connection', description: 'Try every data connection method and recommend a mode', run: () => this.runDiagnosis(connection) },
      { label: '$(output) Show Protocol Log', run: () => this.log.show() },
    ];
    const choice = await vscode.window.showQuickPick(items, { title: `FTP data mode for ${connection.server.label}`, placeHolder: `Now: ${MODE_ITEMS.find((m) => m.mode === current)?.label ?? current}` });
    await choice?.run();
  }

  private async testConnection(serverName?: string): Promise<void> {
    let connection = this.target(serverName);
    if (!connection && !serverName) {
      const root = await this.pickServerRoot();
      if (root) connection = this.servers.connectionFor(root);
    }
    if (!connection) return;
    await this.runDiagnosis(connection);
  }

  // --- helpers

  private async runDiagnosis(connection: ServerConnection): Promise<Diagnosis | undefined> {
    this.servers.allowLogin(connection.server);
    const prepared = this.servers.connectOptions(connection.server);
    const result = await withProgress({ title: `Testing FTP ${connection.server.label}` }, (p) =>
      diagnose(prepared.options, {
        signal: p.signal,
        onStep: (s) => p.report(`${s.name}: ${s.ok ? 'ok' : 'failed'}`),
        onEvent: (e) => connection.pool.emit('event', e),
      }),
    );
    // Not steps[0]: with a proxy that is the proxy's line, there even when the login failed.
    const loggedIn = result.steps.some((s) => s.name === LOGIN_STEP && s.ok);
    if (loggedIn) await prepared.accept();
    // The test used a connection of its own: without this, a server that is back would stay in
    // error in the FTP Servers view (and its folders empty) until something else connected.
    if (loggedIn && connection.pool.lastError) await this.retryConnect(connection);
    const uri = this.reports.set(`/Connection test ${connection.server.label.replace(/[/\\:]/g, '_')}.md`, diagnosisMarkdown(connection, result));
    await vscode.commands.executeCommand('markdown.showPreview', uri).then(undefined, () => vscode.window.showTextDocument(uri));
    const recommended = result.recommendation;
    if (recommended && recommended !== connection.pool.mode) {
      const use = `Use ${recommended === 'passive' ? 'Passive' : 'Active'}`;
      const choice = await vscode.window.showInformationMessage(result.summary, use);
      if (choice === use) {
        await this.servers.setMode(connection, recommended);
        this.statusBar.update();
      }
    } else {
      void vscode.window.showInformationMessage(result.summary);
    }
    return result;
  }

  /** The server named, else the one the status bar shows. */
  private target(serverName?: string): ServerConnection | undefined {
    if (serverName) return this.servers.connectionFor(vscode.Uri.from({ scheme: 'ftp', authority: serverName, path: '/' }));
    const shown = this.statusBar.current();
    if (shown) return shown;
    const uri = currentFtpUri();
    return uri ? this.servers.connectionFor(uri) : undefined;
  }

  private async pickServerRoot(): Promise<vscode.Uri | undefined> {
    type Item = vscode.QuickPickItem & { uri?: vscode.Uri; action?: 'add' | 'url' };
    const items: Item[] = this.servers.profiles().map((p) => ({
      label: `$(server) ${p.name}`,
      description: `${p.user ?? 'anonymous'}@${p.host}${p.port ? `:${p.port}` : ''}${p.remoteRoot ? ` ${p.remoteRoot}` : ''}`,
      uri: vscode.Uri.from({ scheme: p.security && p.security !== 'none' ? 'ftps' : 'ftp', authority: p.name, path: '/' }),
    }));
    items.push({ label: '$(add) Add Server…', action: 'add' }, { label: '$(link) Enter a URL…', description: 'ftp://user@host:port/path', action: 'url' });
    const choice = await vscode.window.showQuickPick(items, { title: 'Open Remote Folder', placeHolder: 'Choose an FTP server' });
    if (!choice) return undefined;
    if (choice.action === 'add') {
      await this.addServer();
      return undefined;
    }
    if (choice.action === 'url') {
      const text = await vscode.window.showInputBox({
        title: 'Open Remote Folder',
        prompt: 'FTP URL',
        placeHolder: 'ftp://user@host:21/path',
        ignoreFocusOut: true,
        validateInput: (v) => {
          try {
            const u = vscode.Uri.parse(v.trim(), true);
            return FTP_SCHEMES.has(u.scheme) && u.authority ? undefined : 'Start with ftp:// or ftps://';
          } catch {
            return 'Not a URL';
          }
        },
      });
      return text ? vscode.Uri.parse(text.trim(), true) : undefined;
    }
    return choice.uri;
  }

  /** Lets the user walk the remote folders with a quick pick and choose one. */
  private async browse(start: vscode.Uri): Promise<vscode.Uri | undefined> {
    let current = start;
    for (;;) {
      let entries: [string, vscode.FileType][];
      try {
        entries = await vscode.workspace.fs.readDirectory(current);
      } catch (err) {
        void vscode.window.showErrorMessage(`Could not list ${current.toString(true)}: ${(err as Error).message}`);
        return undefined;
      }
      type Item = vscode.QuickPickItem & { uri: vscode.Uri; choose?: boolean };
      const folders = entries
        .filter(([, t]) => (t & vscode.FileType.Directory) !== 0 || (t & vscode.FileType.SymbolicLink) !== 0)
        .map(([n]) => n)
        .sort((a, b) => a.localeCompare(b));
      const items: Item[] = [{ label: `$(check) Open ${current.path}`, uri: current, choose: true }];
      if (current.path !== '/') items.push({ label: '$(arrow-up) ..', uri: current.with({ path: current.path.replace(/\/[^/]+\/?$/, '') || '/' }) });
      for (const n of folders) items.push({ label: `$(folder) ${n}`, uri: current.with({ path: `${current.path.replace(/\/$/, '')}/${n}` }) });
      const choice = await vscode.window.showQuickPick(items, { title: `${current.authority}${current.path}`, placeHolder: 'Choose a folder to open, or go into one' });
      if (!choice) return undefined;
      if (choice.choose) return choice.uri;
      current = choice.uri;
    }
  }

  private async pickConnection(list: ServerConnection[], verb: string, allowAll: boolean): Promise<ServerConnection | 'all' | undefined> {
    type Item = vscode.QuickPickItem & { target: ServerConnection | 'all' };
    const items: Item[] = list.map((c) => ({ label: c.server.label, description: `${c.server.user}@${c.server.host}:${c.server.port}`, target: c }));
    if (allowAll) items.push({ label: 'All servers', target: 'all' });
    const choice = await vscode.window.showQuickPick(items, { title: verb });
    return choice?.target;
  }
}

/** The next active editor that satisfies `wanted`, or undefined after `ms`. */
function nextEditor(wanted: (e: vscode.TextEditor | undefined) => boolean, ms: number): Promise<vscode.TextEditor | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      listener.dispose();
      resolve(undefined);
    }, ms);
    const listener = vscode.window.onDidChangeActiveTextEditor((e) => {
      if (!wanted(e)) return;
      clearTimeout(timer);
      listener.dispose();
      resolve(e);
    });
  });
}

/** The first match of `pattern` once the document changes to have one, or undefined after `ms`. */
function nextMatch(document: vscode.TextDocument, pattern: RegExp, ms: number): Promise<RegExpExecArray | undefined> {
  return new Promise((resolve) => {
    const done = (value: RegExpExecArray | undefined) => {
      clearTimeout(timer);
      listener.dispose();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), ms);
    const listener = vscode.workspace.onDidChangeTextDocument((e) => {
      const at = e.document === document ? pattern.exec(document.getText()) : null;
      if (at) done(at);
    });
  });
}

function hostOf(text: string): { host: string; port?: number; user?: string; scheme?: string } | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const url = /^(ftps?):\/\/([^/]+)/i.exec(t);
  try {
    const a = parseAuthority(url ? url[2] : t);
    if (/[\s/]/.test(a.host)) return undefined;
    return { ...a, scheme: url?.[1].toLowerCase() };
  } catch {
    return undefined;
  }
}

async function pick<T>(title: string, placeHolder: string, items: { value: T; label: string; description?: string }[], preselect?: T): Promise<T | undefined> {
  const ordered = preselect === undefined ? items : [...items.filter((i) => i.value === preselect), ...items.filter((i) => i.value !== preselect)];
  const choice = await vscode.window.showQuickPick(ordered, { title, placeHolder, ignoreFocusOut: true });
  return choice?.value;
}

function uniqueName(base: string, profiles: ServerProfile[]): string {
  const taken = new Set(profiles.map((p) => p.name.toLowerCase()));
  let name = base.slice(0, 60);
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base.slice(0, 56)}-${i}`;
  return name;
}

function diagnosisMarkdown(connection: ServerConnection, d: Diagnosis): string {
  const s = connection.server;
  const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const lines = [
    `# FTP connection test: ${s.label}`,
    '',
    `Server \`${s.host}:${s.port}\`, user \`${s.user}\`, security ${s.security}, current mode **${connection.pool.mode}**${d.proxy ? `, through the proxy \`${d.proxy}\`` : ''}.`,
    '',
    '| Step | Result | Time | Detail |',
    '| --- | --- | ---: | --- |',
    ...d.steps.map((st) => `| ${cell(st.name)} | ${st.ok ? '✅ ok' : st.absent ? '➖ not supported' : st.untried ? '⏭️ not tried' : '❌ failed'} | ${st.ms} ms | ${cell(st.detail)} |`),
    '',
    `**${d.summary}**`,
    '',
    d.recommendation ? `Recommended mode: **${d.recommendation}** — use the button in the notification, or run *FTP: Switch Data Mode*.` : 'No data connection method works from here.',
    '',
  ];
  return lines.join('\n');
}

/** The text of the latest connection test report per server, served read-only under REPORT_SCHEME. */
class Reports implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  /** Stores (or replaces, refreshing an open preview) the report at `path` and returns its URI. */
  set(path: string, markdown: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path });
    this.texts.set(uri.path, markdown);
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }

  dispose(): void {
    this.changed.dispose();
  }
}
