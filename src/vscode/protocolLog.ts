/**
 * The "FTP Workspace" log: the core's events as src/ftp/eventText.ts words them (commands and
 * replies at trace, data channels at debug, connects and transfers at info, fallbacks at warn),
 * and the pools' events. The core masks PASS/ACCT and its own password already; here every
 * password the extension knows is masked as well, whichever connection a server echoes it on.
 */
import * as vscode from 'vscode';
import { formatEvent } from '../ftp/eventText';
import type { PoolEvent } from '../ftp/pool';
import type { FtpEvent } from '../ftp/types';
import type { ServerConnection, Servers } from './servers';

const SHOW_TRACE = 'Show Commands and Replies';
/** `workbench.action.output.activeOutputLogLevel.<LogLevel>`, 1 = Trace: what the Output panel's level menu runs. */
const SET_ACTIVE_OUTPUT_TO_TRACE = 'workbench.action.output.activeOutputLogLevel.1';

export class ProtocolLog implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  private readonly disposables: vscode.Disposable[] = [];
  private hinted = false;

  constructor(
    servers: Servers,
    private readonly secrets: () => string[] = () => servers.passwords.known(),
  ) {
    this.channel = vscode.window.createOutputChannel('FTP Workspace', { log: true });
    this.disposables.push(this.channel, servers.onDidCreateConnection((c) => this.attach(c)));
    this.disposables.push(servers.onWarning(({ connection, message }) => this.channel.warn(`[${connection.server.label}] ${message}`)));
    for (const c of servers.all()) this.attach(c);
  }

  show(): void {
    this.channel.show(true);
    // The channel starts at Info, where a "protocol log" shows no protocol: offer to show it, once.
    if (this.hinted || this.channel.logLevel === vscode.LogLevel.Trace) return;
    this.hinted = true;
    this.channel.info('Commands and replies are logged at the Trace level: choose Trace in the Output panel\'s level menu, or run "Developer: Set Log Level...", pick "FTP Workspace" and choose "Trace".');
    void vscode.window.showInformationMessage('The FTP log hides commands and replies at its current level.', SHOW_TRACE).then(async (choice) => {
      if (choice !== SHOW_TRACE) return;
      this.channel.show(true);
      // The Output panel's level menu for the channel in front; older VS Code has only the picker.
      await vscode.commands.executeCommand(SET_ACTIVE_OUTPUT_TO_TRACE).then(undefined, () => vscode.commands.executeCommand('workbench.action.setLogLevel'));
    });
  }

  info(message: string): void {
    this.channel.info(this.mask(message));
  }

  trace(message: string): void {
    this.channel.trace(this.mask(message));
  }

  warn(message: string): void {
    this.channel.warn(this.mask(message));
  }

  error(message: string): void {
    this.channel.error(this.mask(message));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private attach(connection: ServerConnection): void {
    const label = connection.server.label;
    connection.pool.on('event', (e: FtpEvent) => this.onFtpEvent(e));
    connection.pool.on('pool', (e: PoolEvent) => this.onPoolEvent(label, connection, e));
  }

  private onFtpEvent(e: FtpEvent): void {
    const { level, text } = formatEvent(e);
    this.channel[level](`[${e.id}] ${this.mask(text)}`);
  }

  private onPoolEvent(label: string, connection: ServerConnection, e: PoolEvent): void {
    const log = this.channel;
    const p = `[${label}]`;
    switch (e.type) {
      case 'connect':
        log.debug(`${p} new connection ${e.id} (${e.size} of ${connection.pool.limit})`);
        break;
      case 'reuse':
        log.trace(`${p} reusing ${e.id}`);
        break;
      case 'drop':
        log.info(`${p} connection ${e.id} dropped${e.reason ? `: ${this.mask(e.reason)}` : ''}`);
        break;
      case 'idle-close':
        log.debug(`${p} closed idle connection ${e.id}`);
        break;
      case 'reconnect':
        log.warn(`${p} connection lost (${this.mask(e.reason)}); retrying on a new connection`);
        break;
      case 'shrink':
        log.warn(`${p} the server refused another connection (${this.mask(e.reason)}); using at most ${e.limit}`);
        break;
      case 'busy-wait':
        log.warn(`${p} the server is full (${this.mask(e.reason)}); retrying in ${e.delayMs} ms`);
        break;
      case 'connect-failed':
        log.error(`${p} could not connect: ${this.mask(e.error.message)}`);
        break;
      case 'mode':
        log.info(`${p} data mode set to ${e.mode}`);
        break;
    }
  }

  private mask(text: string): string {
    let out = text;
    for (const secret of this.secrets()) {
      if (secret && out.includes(secret)) out = out.split(secret).join('****');
    }
    return out;
  }
}
