/** Entry point: wires the servers, the file system provider, the log, the status bar and the commands. */
import * as vscode from 'vscode';
import { removeStaleSpools } from './remote/spool';
import { createApi, type FtpWorkspaceApi } from './vscode/api';
import { Commands } from './vscode/commands';
import { watchFolderNames } from './vscode/folderNames';
import { FtpFileSystemProvider } from './vscode/ftpFileSystem';
import { Permissions } from './vscode/permissions';
import { ProtocolLog } from './vscode/protocolLog';
import { registerServerCommands } from './vscode/serverCommands';
import { Servers } from './vscode/servers';
import { ServersView } from './vscode/serversView';
import { StatusBar } from './vscode/statusBar';
import { SearchController } from './vscode/search/searchController';
import { SyncController } from './vscode/sync/controller';

export type { FtpWorkspaceApi } from './vscode/api';

/** Returns the public API (see src/vscode/api.ts) that other extensions get as `exports`. */
export function activate(context: vscode.ExtensionContext): FtpWorkspaceApi {
  // What an earlier window left when it ended mid-transfer; nothing waits for it.
  void removeStaleSpools();
  const servers = new Servers(context);
  const log = new ProtocolLog(servers);
  const statusBar = new StatusBar(servers);
  const commands = new Commands(servers, log, statusBar);
  const serversView = new ServersView(servers);
  const provider = new FtpFileSystemProvider(servers, (connection, error) => void commands.explainFailure(connection, error), (line) => log.trace(line));
  const sync = new SyncController(context, servers, {
    onFtpFailure: (connection, error) => void commands.explainFailure(connection, error),
    onRemoteChanged: (changes) => provider.notifyChanged(changes),
  });
  context.subscriptions.push(
    servers,
    log,
    statusBar,
    commands,
    provider,
    watchFolderNames(),
    serversView,
    registerServerCommands(servers, serversView),
    new Permissions(servers),
    vscode.workspace.registerFileSystemProvider('ftp', provider, { isCaseSensitive: true }),
    vscode.workspace.registerFileSystemProvider('ftps', provider, { isCaseSensitive: true }),
    sync,
    new SearchController(context, servers),
  );
  return createApi(servers, {
    failures: commands.onDidReportConnectFailure,
    statesChanged: serversView.onDidChangeTreeData,
    localChangesAsked: sync.localChanges.onDidAsk,
    localChangesHandled: sync.localChanges.onDidHandle,
  });
}

export function deactivate(): void {
  // Pools close through context.subscriptions (Servers.dispose).
}
