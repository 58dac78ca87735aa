/** Entry point: wires the servers, the file system provider, the log, the status bar and the commands. */
import * as vscode from 'vscode';
import { Commands } from './vscode/commands';
import { FtpFileSystemProvider } from './vscode/ftpFileSystem';
import { ProtocolLog } from './vscode/protocolLog';
import { Servers } from './vscode/servers';
import { StatusBar } from './vscode/statusBar';

export function activate(context: vscode.ExtensionContext): void {
  const servers = new Servers(context);
  const log = new ProtocolLog(servers);
  const statusBar = new StatusBar(servers);
  const commands = new Commands(servers, log, statusBar);
  const provider = new FtpFileSystemProvider(servers, (connection, error) => void commands.explainFailure(connection, error));
  context.subscriptions.push(
    servers,
    log,
    statusBar,
    commands,
    provider,
    vscode.workspace.registerFileSystemProvider('ftp', provider, { isCaseSensitive: true }),
    vscode.workspace.registerFileSystemProvider('ftps', provider, { isCaseSensitive: true }),
  );
}

export function deactivate(): void {
  // Pools close through context.subscriptions (Servers.dispose).
}
