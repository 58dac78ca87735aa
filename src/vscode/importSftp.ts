/**
 * "Import from sftp.json…": a vscode-sftp configuration becomes our server profiles (user
 * settings) and a linked folder; its passwords go to the secret storage, and the user is offered to
 * take them out of sftp.json (a backup kept next to it).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { importSftpJson, SftpJsonError, withoutPasswords, type SftpImport } from '../migrate/sftpJson';
import { addProfiles } from './profileSettings';
import type { Servers } from './servers';
import { saveLink } from './sync/linkCommand';

export interface ImportOptions {
  /** Take the passwords out of sftp.json without asking (true), keep them (false); unset: ask. */
  removePasswords?: boolean;
}

/** What an import did, for scripts and tests. */
export interface ImportSummary {
  file: string;
  servers: string[];
  links: { local: string; remote: string }[];
  skipped: { source: string; reason: string }[];
  /** The copy of sftp.json made before its passwords were removed. */
  backup?: string;
}

const REMOVE = 'Remove from sftp.json';

export async function importSftp(servers: Servers, file?: vscode.Uri, options: ImportOptions = {}): Promise<ImportSummary | undefined> {
  const source = file instanceof vscode.Uri ? file : await findSftpJson();
  if (!source) return undefined;
  let text: string;
  let mapped: SftpImport;
  try {
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(source));
    mapped = importSftpJson(text, servers.profiles().map((p) => p.name));
  } catch (error) {
    const reason = error instanceof SftpJsonError || error instanceof vscode.FileSystemError ? error.message : String(error);
    void vscode.window.showErrorMessage(`Could not import ${source.fsPath}: ${reason}`);
    return undefined;
  }
  const summary: ImportSummary = { file: source.fsPath, servers: mapped.servers.map((s) => s.profile.name), links: [], skipped: mapped.skipped };
  const skippedText = mapped.skipped.map((s) => `${s.source} — ${s.reason}`).join('; ');
  if (mapped.servers.length === 0) {
    void vscode.window.showWarningMessage(`Nothing to import from ${source.fsPath}: ${skippedText || 'no FTP configuration'}.`);
    return summary;
  }
  await addProfiles(mapped.servers.map((s) => s.profile));
  for (const s of mapped.servers) {
    if (!s.password) continue;
    const server = servers.resolve(vscode.Uri.from({ scheme: 'ftp', authority: s.profile.name, path: '/' }));
    await servers.passwords.provide(server, s.password, true);
  }
  // vscode-sftp's `context` is relative to the folder that holds .vscode.
  const base = path.dirname(path.dirname(source.fsPath));
  for (const link of mapped.links) {
    const local = vscode.Uri.file(path.resolve(base, link.local));
    const { local: _relative, ...rest } = link;
    await saveLink(local, rest);
    summary.links.push({ local: local.fsPath, remote: link.remote });
  }
  const done = [
    `Imported ${summary.servers.join(', ')} from sftp.json${summary.links.length ? `, linked ${summary.links.map((l) => path.basename(l.local) || l.local).join(', ')}` : ''}.`,
    ...mapped.notes,
    ...(skippedText ? [`Skipped: ${skippedText}.`] : []),
  ].join(' ');
  void vscode.window.showInformationMessage(done, 'Open FTP Servers').then((c) => c && vscode.commands.executeCommand('ftpWorkspace.servers.focus'));
  if (mapped.hasPasswords) {
    const remove =
      options.removePasswords ??
      (await vscode.window.showWarningMessage(
        `The passwords are now in VS Code's secret storage, but ${source.fsPath} still holds them in plain text. Remove them from the file? (A backup is kept next to it.)`,
        REMOVE,
      )) === REMOVE;
    if (remove) summary.backup = await removePasswords(source, text);
  }
  return summary;
}

/** Writes sftp.json without passwords, after a copy of it; returns the copy's path. */
async function removePasswords(file: vscode.Uri, text: string): Promise<string> {
  let backup = file.with({ path: `${file.path}.bak` });
  for (let i = 2; await exists(backup); i++) backup = file.with({ path: `${file.path}.bak${i}` });
  await vscode.workspace.fs.copy(file, backup);
  await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(withoutPasswords(text)));
  return backup.fsPath;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  return Promise.resolve(vscode.workspace.fs.stat(uri)).then(
    () => true,
    () => false,
  );
}

/** `.vscode/sftp.json` of a local workspace folder (chosen when there are several), else a file dialog. */
async function findSftpJson(): Promise<vscode.Uri | undefined> {
  const found: vscode.Uri[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme !== 'file') continue;
    const candidate = vscode.Uri.joinPath(folder.uri, '.vscode', 'sftp.json');
    if (await exists(candidate)) found.push(candidate);
  }
  if (found.length === 1) return found[0];
  if (found.length > 1) {
    const choice = await vscode.window.showQuickPick(found.map((uri) => ({ label: vscode.workspace.asRelativePath(uri, true), uri })), { title: 'Import from sftp.json' });
    return choice?.uri;
  }
  const picked = await vscode.window.showOpenDialog({ title: 'Import from sftp.json (vscode-sftp)', canSelectMany: false, filters: { 'sftp.json': ['json', 'jsonc'] }, openLabel: 'Import' });
  return picked?.[0];
}
