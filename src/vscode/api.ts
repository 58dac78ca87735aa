/**
 * The extension's public API, returned by activate() and reached by other extensions and scripts
 * through `vscode.extensions.getExtension('ftp-workspace.ftp-workspace').exports`. It lets a
 * provisioning tool (a company setup extension, a vault integration, an automated test) hand over
 * the password of a server profile, which otherwise only an interactive prompt can. It can give a
 * password, never read one back. It also tells which servers could not be reached, as the user is
 * told, and what became of local deletes and renames in linked folders.
 */
import * as vscode from 'vscode';
import { needsPassword, proxyAccount } from '../remote/serverConfig';
import type { ConnectFailureReport } from './commands';
import type { Servers } from './servers';
import { serverStates, type ServerState } from './serversView';
import type { LocalChangesQuestion, LocalChangesReport } from './sync/localChanges';

export type { ConnectFailureReport } from './commands';
export type { ServerState } from './serversView';
export type { LocalChangesQuestion, LocalChangesReport } from './sync/localChanges';

export interface FtpWorkspaceApi {
  /**
   * Sets the password for a server: a profile name from `ftpWorkspace.servers` (or an ad-hoc
   * `user@host:port`). It is used from the next login on, and answers a password prompt open for
   * that server right now. Kept for this session only unless `remember` is true, which also stores
   * it in VS Code's secret storage. Rejects for an anonymous server or an unknown name.
   */
  setPassword(server: string, password: string, options?: { remember?: boolean }): Promise<void>;
  /**
   * Sets the password of the proxy a server is reached through (its `proxy` names a user), the
   * same way: for this session, or also in secret storage with `remember`. Every server behind
   * that proxy and user shares it. Rejects for a server without such a proxy.
   */
  setProxyPassword(server: string, password: string, options?: { remember?: boolean }): Promise<void>;
  /**
   * Fires when the user is told that a server could not be reached (not running, a name that does
   * not resolve, a timeout, a TLS failure): once per server and failure, with the message the
   * notification shows — for a tool that watches connections, and for tests, which cannot read
   * notifications.
   */
  readonly onDidFailToConnect: vscode.Event<ConnectFailureReport>;
  /**
   * The server profiles as the "FTP Servers" view shows them: address, security, data mode, state
   * (connected n of limit, idle, error with the last message) and the linked folders using each.
   */
  serverStates(): ServerState[];
  /** Fires when what serverStates() returns may have changed (pools, settings, folders). */
  readonly onDidChangeServerStates: vscode.Event<void>;
  /**
   * Fires when the user is asked whether local deletes and renames of a linked folder should be
   * done on the server too (a link's `deleteOnServer` / `renameOnServer` is "ask"), with the
   * changes and answers shown — for tools that watch a deployment, and for tests, which answer the
   * question through the workbench's own quick-input commands.
   */
  readonly onDidAskAboutLocalChanges: vscode.Event<LocalChangesQuestion>;
  /** Fires when a batch of local deletes and renames has been handled: what the server got, kept, or refused. */
  readonly onDidHandleLocalChanges: vscode.Event<LocalChangesReport>;
}

export interface ApiEvents {
  failures: vscode.Event<ConnectFailureReport>;
  statesChanged: vscode.Event<void>;
  localChangesAsked: vscode.Event<LocalChangesQuestion>;
  localChangesHandled: vscode.Event<LocalChangesReport>;
}

export function createApi(servers: Servers, events: ApiEvents): FtpWorkspaceApi {
  return {
    onDidFailToConnect: events.failures,
    serverStates: () => serverStates(servers),
    onDidChangeServerStates: events.statesChanged,
    onDidAskAboutLocalChanges: events.localChangesAsked,
    onDidHandleLocalChanges: events.localChangesHandled,
    async setPassword(name, password, options = {}) {
      if (typeof name !== 'string' || typeof password !== 'string') throw new TypeError('setPassword(server: string, password: string)');
      const server = servers.resolve(vscode.Uri.from({ scheme: 'ftp', authority: name, path: '/' }));
      if (!server.profileName && !name.includes('@')) throw new Error(`No FTP server profile named "${name}" in ftpWorkspace.servers`);
      if (!needsPassword(server)) throw new Error(`${server.label} logs in as ${server.user}, which takes no password`);
      await servers.passwords.provide(server, password, options.remember === true);
      servers.allowLogin(server);
    },
    async setProxyPassword(name, password, options = {}) {
      if (typeof name !== 'string' || typeof password !== 'string') throw new TypeError('setProxyPassword(server: string, password: string)');
      const server = servers.resolve(vscode.Uri.from({ scheme: 'ftp', authority: name, path: '/' }));
      if (!server.profileName && !name.includes('@')) throw new Error(`No FTP server profile named "${name}" in ftpWorkspace.servers`);
      const account = proxyAccount(server);
      if (!account) throw new Error(`${server.label} is not reached through a proxy that takes a user name and password`);
      await servers.passwords.provide(account, password, options.remember === true);
      servers.allowLogin(server);
    },
  };
}
