/** Files written anywhere under a folder, seen with Node's recursive fs.watch (no `vscode` here). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FolderWatcher {
  close(): void;
}

/** Calls `onWritten` with the absolute path of every file created, changed or removed under `root` (the disk tells which). */
export function watchRecursively(root: string, onWritten: (file: string) => void, onError: (err: Error) => void): FolderWatcher {
  const watcher = fs.watch(root, { recursive: true }, (_event, name) => {
    if (name) onWritten(path.join(root, name.toString()));
  });
  watcher.on('error', onError);
  return watcher;
}
