/**
 * "Link Folder to FTP Server…": a guided quick input — local folder, server profile, remote
 * folder, extra ignore patterns, upload on save — that writes one entry of `ftpWorkspace.links`
 * into the settings of the workspace folder holding the local folder (relative path), or into the
 * user settings (absolute path) for a folder outside the workspace. Never a password.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_IGNORES } from '../../sync/ignore';
import type { LinkSetting } from '../../sync/linkConfig';
import { SECTION, type Servers } from '../servers';
import { LINKS_KEY } from './links';

const TITLE = 'Link Folder to FTP Server';

export interface CreatedLink {
  local: vscode.Uri;
  remote: vscode.Uri;
}

export async function createLink(servers: Servers, initial?: vscode.Uri): Promise<CreatedLink | undefined> {
  const local = await pickLocalFolder(initial);
  if (!local) return undefined;
  const server = await pickServer(servers);
  if (!server) return undefined;
  const remotePath = await vscode.window.showInputBox({
    title: `${TITLE} (3/5)`,
    prompt: `Folder on ${server} that ${path.basename(local.fsPath)} mirrors`,
    value: '/',
    ignoreFocusOut: true,
    validateInput: (v) => (!v.startsWith('/') ? 'Start with "/" (the server root of the profile)' : /[\r\n\0]/.test(v) ? 'Line breaks cannot be used over FTP' : undefined),
  });
  if (remotePath === undefined) return undefined;
  const ignoreText = await vscode.window.showInputBox({
    title: `${TITLE} (4/5)`,
    prompt: `More paths to ignore, comma separated (${DEFAULT_IGNORES.slice(0, 2).join(' and ')} always are). Like .gitignore: *.log, dist/, /secrets`,
    placeHolder: '*.log, .env, dist/',
    ignoreFocusOut: true,
  });
  if (ignoreText === undefined) return undefined;
  const uploadOnSave = await vscode.window.showQuickPick(
    [
      { label: 'Upload on save', description: 'Each saved file goes to the server at once', value: true, onChange: false },
      { label: 'Upload on save and on changes', description: 'Also files other programs write here (a build, git)', value: true, onChange: true },
      { label: 'Upload only when I ask', description: 'Use Upload or Sync Local → Remote', value: false, onChange: false },
    ],
    { title: `${TITLE} (5/5)`, ignoreFocusOut: true },
  );
  if (!uploadOnSave) return undefined;

  const remote = vscode.Uri.from({ scheme: 'ftp', authority: server, path: remotePath.replace(/\/+$/, '') || '/' });
  await saveLink(local, {
    remote: remote.toString(true),
    ignore: ignoreText.split(',').map((s) => s.trim()).filter(Boolean),
    uploadOnSave: uploadOnSave.value,
    ...(uploadOnSave.onChange ? { uploadOnChange: true } : {}),
  });
  return { local, remote };
}

/**
 * Writes a link into the settings of the workspace folder holding `local` (relative path), or into
 * the user settings (absolute path) for a folder outside the workspace. Linking the same folder
 * again replaces its link rather than adding a second one.
 */
export async function saveLink(local: vscode.Uri, link: Omit<LinkSetting, 'local'>): Promise<void> {
  const folder = vscode.workspace.getWorkspaceFolder(local);
  const inWorkspace = folder?.uri.scheme === 'file';
  const setting: LinkSetting = { local: inWorkspace ? path.relative(folder.uri.fsPath, local.fsPath).split(path.sep).join('/') || '.' : local.fsPath, ...link };
  const config = vscode.workspace.getConfiguration(SECTION, inWorkspace ? folder.uri : undefined);
  const inspected = config.inspect<LinkSetting[]>(LINKS_KEY);
  const target = inWorkspace ? vscode.ConfigurationTarget.WorkspaceFolder : vscode.ConfigurationTarget.Global;
  const existing = (inWorkspace ? inspected?.workspaceFolderValue : inspected?.globalValue) ?? [];
  const others = existing.filter((l) => !(l && typeof l === 'object' && l.local === setting.local));
  await config.update(LINKS_KEY, [...others, setting], target);
  if (inWorkspace && !vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('The link is saved in the workspace settings, which are used only once you trust this workspace.');
  }
}

async function pickLocalFolder(initial?: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (initial?.scheme === 'file') {
    try {
      const st = await vscode.workspace.fs.stat(initial);
      if (st.type & vscode.FileType.Directory) return initial;
    } catch {
      // Fall through to asking.
    }
  }
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
  const items: Item[] = [
    ...folders.map((f) => ({ label: `$(folder) ${f.name}`, description: f.uri.fsPath, uri: f.uri })),
    { label: '$(folder-opened) Choose a Folder…' },
  ];
  const choice = items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, { title: `${TITLE} (1/5)`, placeHolder: 'Local folder to link', ignoreFocusOut: true });
  if (!choice) return undefined;
  if (choice.uri) return choice.uri;
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Link This Folder', defaultUri: folders[0]?.uri });
  return picked?.[0];
}

async function pickServer(servers: Servers): Promise<string | undefined> {
  for (;;) {
    type Item = vscode.QuickPickItem & { name?: string };
    const items: Item[] = [
      ...servers.profiles().map((p) => ({ label: `$(server) ${p.name}`, description: `${p.user ?? 'anonymous'}@${p.host}${p.port ? `:${p.port}` : ''}`, name: p.name })),
      { label: '$(add) Add Server…' },
    ];
    const choice = await vscode.window.showQuickPick(items, { title: `${TITLE} (2/5)`, placeHolder: 'Server profile (its password stays in the secret storage)', ignoreFocusOut: true });
    if (!choice) return undefined;
    if (choice.name) return choice.name;
    const added = await addServer(servers);
    if (added) return added;
  }
}

/**
 * Runs "Add Server…" and resolves with the new profile's name as soon as it is in the settings:
 * the command itself ends only when its closing notification is dismissed.
 */
function addServer(servers: Servers): Promise<string | undefined> {
  const before = new Set(servers.profiles().map((p) => p.name));
  const added = () => servers.profiles().find((p) => !before.has(p.name))?.name;
  return new Promise((resolve) => {
    const listener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(`${SECTION}.servers`) || !added()) return;
      listener.dispose();
      resolve(added());
    });
    void Promise.resolve(vscode.commands.executeCommand('ftpWorkspace.addServer')).then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      listener.dispose();
      resolve(added());
    });
  });
}
