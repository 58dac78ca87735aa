/**
 * FTP: Go to File… — Quick Open for ftp:// folders: a quick pick over every indexed file, ranked by
 * src/search/fuzzy.ts (file name as label, its folder as description), filling in while the
 * index's walk goes on. Enter opens the file, the row's button opens it to the side, and a
 * trailing `:line` (as in Quick Open) opens it at that line.
 */
import * as vscode from 'vscode';
import { bestMatches } from '../../search/fuzzy';
import type { FolderIndex, SearchIndexes } from './searchIndexes';
import { formatAge } from '../../ftp/format';

/** Rows shown at most: Quick Open shows a screenful or two, never thousands. */
const MAX_ITEMS = 200;
/** The list is rebuilt at most this often while a walk streams in folders. */
const UPDATE_EVERY_MS = 100;

interface FileItem extends vscode.QuickPickItem {
  uri: vscode.Uri;
}

interface Candidate {
  path: string;
  index: FolderIndex;
}

export interface GoToFileOptions {
  /** Only files under this folder (the Explorer's context menu). */
  folder?: vscode.Uri;
  /** Text typed in already (tests, keybindings with args). */
  query?: string;
}

const SIDE_BUTTON: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('split-horizontal'), tooltip: 'Open to the Side' };

export async function goToFile(indexes: SearchIndexes, options: GoToFileOptions = {}): Promise<void> {
  const scope = options.folder ? vscode.workspace.getWorkspaceFolder(options.folder) : undefined;
  const folders = scope ? [scope] : indexes.folders();
  if (folders.length === 0) {
    void vscode.window.showInformationMessage('FTP: Go to File works in ftp:// folders — open one with "FTP: Open Remote Folder…" first.');
    return;
  }
  const prefix = scope && options.folder ? relativePrefix(scope.uri, options.folder) : '';
  const picker = vscode.window.createQuickPick<FileItem>();
  picker.matchOnDescription = true;
  picker.placeholder = 'Search files by name (append :LINE to go to a line)';
  picker.busy = true;
  picker.value = options.query ?? '';
  const disposables: vscode.Disposable[] = [picker];
  let loaded: FolderIndex[] = [];
  let timer: NodeJS.Timeout | undefined;
  let dirty = false;

  const update = () => {
    const { text } = splitLine(picker.value);
    const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    const candidates = function* (): Generator<Candidate> {
      for (const index of loaded) for (const f of index.index.files()) if (!prefix || f.path.startsWith(prefix)) yield { path: f.path, index };
    };
    picker.items = bestMatches(text, candidates(), MAX_ITEMS).map(({ item }): FileItem => {
      const slash = item.path.lastIndexOf('/');
      const dir = slash < 0 ? '' : item.path.slice(0, slash);
      const folderName = item.index.folder.name;
      return {
        label: item.path.slice(slash + 1),
        description: multiRoot ? (dir ? `${folderName} • ${dir}` : folderName) : dir,
        uri: vscode.Uri.joinPath(item.index.folder.uri, item.path),
        alwaysShow: true,
        buttons: [SIDE_BUTTON],
      };
    });
    picker.title = titleOf(loaded, folders.length);
    picker.busy = loaded.length < folders.length || loaded.some((i) => i.index.isWalking);
  };
  const scheduleUpdate = () => {
    if (timer) {
      dirty = true;
      return;
    }
    update();
    timer = setTimeout(function again() {
      timer = undefined;
      if (dirty) {
        dirty = false;
        update();
        timer = setTimeout(again, UPDATE_EVERY_MS);
      }
    }, UPDATE_EVERY_MS);
  };
  const open = async (item: FileItem | undefined, side: boolean) => {
    if (!item) return;
    const { line } = splitLine(picker.value);
    picker.hide();
    const selection = line ? new vscode.Range(line - 1, 0, line - 1, 0) : undefined;
    try {
      await vscode.window.showTextDocument(item.uri, { viewColumn: side ? vscode.ViewColumn.Beside : undefined, selection, preview: !side });
    } catch (err) {
      void vscode.window.showErrorMessage(`Could not open ${item.uri.toString(true)}: ${(err as Error).message}`);
    }
  };

  disposables.push(
    picker.onDidChangeValue(() => update()),
    picker.onDidAccept(() => void open(picker.activeItems[0], false)),
    picker.onDidTriggerItemButton((e) => void open(e.item, true)),
    indexes.onDidChange((changed) => {
      if (loaded.includes(changed) || folders.some((f) => f.uri.toString() === changed.folder.uri.toString())) scheduleUpdate();
    }),
    picker.onDidHide(() => {
      if (timer) clearTimeout(timer);
      for (const d of disposables) d.dispose();
    }),
  );
  picker.show();
  update();
  // Each folder's index as soon as it is read from disk (or empty, and walking): results come in as they are found.
  await Promise.all(
    folders.map(async (folder) => {
      try {
        const index = await indexes.get(folder);
        loaded = [...loaded, index];
      } catch (err) {
        void vscode.window.showErrorMessage(`FTP: Go to File cannot search ${folder.uri.toString(true)}: ${(err as Error).message}`);
        folders.splice(folders.indexOf(folder), 1);
      }
      scheduleUpdate();
    }),
  );
}

function titleOf(loaded: FolderIndex[], folderCount: number): string {
  const files = loaded.reduce((n, i) => n + i.index.fileCount, 0);
  const walking = loaded.some((i) => i.index.isWalking) || loaded.length < folderCount;
  const ages = loaded.map((i) => i.index.age);
  const oldest = ages.some((a) => a === undefined) ? undefined : Math.max(...ages.map((a) => a ?? 0));
  const count = `${files.toLocaleString('en-US')} file${files === 1 ? '' : 's'}`;
  if (walking) return `Go to File — indexing… ${count} so far${oldest !== undefined ? ` (index from ${formatAge(oldest)})` : ''}`;
  return `Go to File — ${count}, indexed ${oldest === undefined ? 'partly (the last walk did not finish)' : formatAge(oldest)}`;
}

/** "src/app.ts:12" → text and line (Quick Open's go-to-line suffix). */
function splitLine(value: string): { text: string; line?: number } {
  const m = /^(.*?):(\d+)\s*$/.exec(value);
  return m ? { text: m[1], line: Math.max(1, Number(m[2])) } : { text: value };
}

/** The folder's path relative to its workspace folder, with a trailing slash ('' for the root). */
function relativePrefix(root: vscode.Uri, folder: vscode.Uri): string {
  const base = root.path.replace(/\/+$/, '');
  const rel = folder.path.startsWith(`${base}/`) ? folder.path.slice(base.length + 1).replace(/\/+$/, '') : '';
  return rel ? `${rel}/` : '';
}
