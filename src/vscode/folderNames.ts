/**
 * Workspace folders on a server are named after it — `demo`, or `demo — /var/www` — instead of
 * VS Code's default, the last path segment (`www`), or "/" for a server's root.
 */
import * as vscode from 'vscode';
import { FTP_SCHEMES } from './statusBar';

/** The name of a workspace folder at `uri`: the server's name, and the path when it is not the root. */
export function folderName(uri: vscode.Uri): string {
  const path = uri.path.replace(/\/+$/, '');
  return path ? `${uri.authority} — ${path}` : uri.authority;
}

/** What VS Code calls a folder added without a name (resources.basenameOrAuthority). */
function defaultName(uri: vscode.Uri): string {
  return uri.path.replace(/\/+$/, '').split('/').pop() || uri.authority;
}

/**
 * Renames FTP folders that carry VS Code's default name (added by URI, by another extension, or
 * by hand in a .code-workspace file). Not the first folder: changing it restarts every extension
 * (the deprecated `workspace.rootPath` follows it); nor a single-folder window, which would turn
 * into an untitled workspace — there the resource label formatter's "FTP" suffix has to do.
 */
export function nameServerFolders(): boolean {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const wrong = folders.filter((f) => f.index > 0 && FTP_SCHEMES.has(f.uri.scheme) && f.name === defaultName(f.uri) && f.name !== folderName(f.uri));
  if (wrong.length === 0) return false;
  // One update for the range that holds them (VS Code takes one pending update at a time).
  const first = wrong[0].index;
  const last = wrong[wrong.length - 1].index;
  const renamed = new Set(wrong.map((f) => f.index));
  const replacement = folders.slice(first, last + 1).map((f) => ({ uri: f.uri, name: renamed.has(f.index) ? folderName(f.uri) : f.name }));
  return vscode.workspace.updateWorkspaceFolders(first, last - first + 1, ...replacement);
}

/** Names the folders now and whenever folders are added. */
export function watchFolderNames(): vscode.Disposable {
  nameServerFolders();
  return vscode.workspace.onDidChangeWorkspaceFolders((e) => {
    if (e.added.some((f) => FTP_SCHEMES.has(f.uri.scheme))) nameServerFolders();
  });
}
