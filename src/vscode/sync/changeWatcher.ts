/**
 * Files written or removed under a folder by any program, for links that upload changes (the
 * callback tells which by looking at the disk). VS Code's watcher is
 * recursive only inside the workspace's folders (outside, it reports the top level alone), so a
 * linked folder elsewhere is watched with Node's own recursive fs.watch.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { watchRecursively } from '../../sync/folderWatcher';

export function watchFolder(root: string, onWritten: (file: string) => void, onProblem: (message: string) => void): vscode.Disposable {
  const inWorkspace = (vscode.workspace.workspaceFolders ?? []).some((f) => {
    if (f.uri.scheme !== 'file') return false;
    const rel = path.relative(f.uri.fsPath, root);
    return !rel.startsWith('..') && !path.isAbsolute(rel);
  });
  if (inWorkspace) {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '**/*'));
    watcher.onDidCreate((uri) => onWritten(uri.fsPath));
    watcher.onDidChange((uri) => onWritten(uri.fsPath));
    watcher.onDidDelete((uri) => onWritten(uri.fsPath));
    return watcher;
  }
  try {
    const watcher = watchRecursively(root, onWritten, (err) => onProblem(`watching ${root} for changes stopped: ${err.message}`));
    return { dispose: () => watcher.close() };
  } catch (err) {
    onProblem(`cannot watch ${root} for changes: ${(err as Error).message}`);
    return { dispose: () => undefined };
  }
}
