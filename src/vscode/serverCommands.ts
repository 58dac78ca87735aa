/**
 * The commands of the "FTP Servers" view, run on a row (or, from scripts and tests, a profile
 * name): open, add to the workspace, test, switch mode, disconnect, forget the password, edit,
 * duplicate, delete. Those that exist as palette commands are handed to them with the name.
 */
import * as vscode from 'vscode';
import { folderName } from './folderNames';
import { addProfiles, changeProfile, profileTarget } from './profileSettings';
import { importSftp, type ImportOptions } from './importSftp';
import type { Servers } from './servers';
import { profileOf, type ServersView } from './serversView';
import { passwordKey, type ServerProfile } from '../remote/serverConfig';

export function registerServerCommands(servers: Servers, view: ServersView): vscode.Disposable {
  const disposables: vscode.Disposable[] = [];
  /** Registers a command on a profile; an unknown one is said so, not ignored. */
  const onProfile = (id: string, fn: (profile: ServerProfile, ...rest: never[]) => unknown) =>
    disposables.push(
      vscode.commands.registerCommand(id, (target: unknown, ...rest: never[]) => {
        const profile = profileOf(servers, target);
        if (!profile) throw new Error(`No FTP server profile ${typeof target === 'string' ? `named "${target}"` : 'chosen'} in ftpWorkspace.servers`);
        return fn(profile, ...rest);
      }),
    );
  const uriOf = (p: ServerProfile) => vscode.Uri.from({ scheme: p.security === 'explicit' || p.security === 'implicit' ? 'ftps' : 'ftp', authority: p.name, path: '/' });

  onProfile('ftpWorkspace.servers.openFolder', (p) => vscode.commands.executeCommand('ftpWorkspace.openRemoteFolder', p.name));
  onProfile('ftpWorkspace.servers.addToWorkspace', (p) => {
    const uri = uriOf(p);
    servers.allowLogin(servers.resolve(uri));
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.some((f) => f.uri.toString() === uri.toString())) return true;
    return vscode.workspace.updateWorkspaceFolders(folders.length, 0, { uri, name: folderName(uri) });
  });
  onProfile('ftpWorkspace.servers.testConnection', (p) => vscode.commands.executeCommand('ftpWorkspace.testConnection', p.name));
  onProfile('ftpWorkspace.servers.switchMode', (p, mode?: string) => vscode.commands.executeCommand('ftpWorkspace.switchMode', mode, p.name));
  onProfile('ftpWorkspace.servers.disconnect', async (p) => {
    const connection = servers.all().find((c) => c.server.profileName?.toLowerCase() === p.name.toLowerCase());
    if (connection) await servers.disconnect(connection);
  });
  onProfile('ftpWorkspace.servers.forgetPassword', async (p) => {
    await servers.forgetPassword(servers.resolve(uriOf(p)));
    void vscode.window.showInformationMessage(`Forgot the password of ${p.name}.`);
  });
  onProfile('ftpWorkspace.servers.edit', (p) => vscode.commands.executeCommand('ftpWorkspace.editServer', p.name));
  onProfile('ftpWorkspace.servers.duplicate', async (p) => {
    const taken = new Set(servers.profiles().map((q) => q.name.toLowerCase()));
    let name = `${p.name.slice(0, 56)}-copy`;
    for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${p.name.slice(0, 54)}-copy-${i}`;
    const at = profileTarget(p.name);
    const copy = { ...(at ? at.list[at.index] : p), name };
    // Next to the original, in the settings that hold it.
    if (at) await vscode.workspace.getConfiguration('ftpWorkspace').update('servers', [...at.list.slice(0, at.index + 1), copy, ...at.list.slice(at.index + 1)], at.target);
    else await addProfiles([copy]);
    await vscode.commands.executeCommand('ftpWorkspace.editServer', name);
    return name;
  });
  onProfile('ftpWorkspace.servers.delete', async (p, options?: { confirmed?: boolean }) => {
    if (options?.confirmed !== true) {
      const answer = await vscode.window.showWarningMessage(
        `Delete the FTP server "${p.name}"?`,
        { modal: true, detail: `${p.user ?? 'anonymous'}@${p.host} is removed from your settings and its password from the secret storage. Folders and links that use ftp://${p.name}/ stop working until a server of that name exists again.` },
        'Delete',
      );
      if (answer !== 'Delete') return false;
    }
    const uri = uriOf(p);
    const connection = servers.all().find((c) => c.server.profileName?.toLowerCase() === p.name.toLowerCase());
    const server = servers.resolve(uri);
    if (connection) await servers.disconnect(connection);
    // The password is kept per user@host:port: another profile (a duplicate) may still use it.
    const shared = servers.profiles().some((q) => q.name.toLowerCase() !== p.name.toLowerCase() && passwordKey(servers.resolve(uriOf(q))) === passwordKey(server));
    if (!shared) await servers.forgetPassword(server);
    return changeProfile(p.name, undefined);
  });
  disposables.push(
    vscode.commands.registerCommand('ftpWorkspace.importSftpJson', (file?: vscode.Uri, options?: ImportOptions) => importSftp(servers, file, options)),
    vscode.commands.registerCommand('ftpWorkspace.servers.refresh', () => view.refresh()),
  );
  return vscode.Disposable.from(...disposables);
}
