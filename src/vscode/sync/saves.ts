/**
 * Which local files the user saved, from every kind of editor: text documents and notebooks have
 * save events; custom editors (image, hex, drawing editors of other extensions) have none, so a
 * save there is a tab going from dirty to clean while its file changed on disk. Saves made before
 * this extension was activated fired no event at all: `savedBeforeActivation` finds those.
 */
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';

export class SaveEvents implements vscode.Disposable {
  /** Custom-editor files with a dirty tab, and their modification time when the tab became dirty. */
  private readonly dirtyCustom = new Map<string, Promise<number | undefined>>();
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly onSaved: (uri: vscode.Uri) => void) {
    this.disposables = [
      vscode.workspace.onDidSaveTextDocument((doc) => onSaved(doc.uri)),
      vscode.workspace.onDidSaveNotebookDocument((notebook) => onSaved(notebook.uri)),
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        for (const tab of [...e.opened, ...e.changed]) this.customTabChanged(tab);
        for (const tab of e.closed) this.customTabClosed(tab);
      }),
    ];
    for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) this.customTabChanged(tab);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private customTabChanged(tab: vscode.Tab): void {
    const uri = customFileOf(tab);
    if (!uri) return;
    const key = uri.toString();
    if (tab.isDirty) {
      if (!this.dirtyCustom.has(key)) this.dirtyCustom.set(key, mtimeOf(uri));
      return;
    }
    const before = this.dirtyCustom.get(key);
    if (!before || openTabs(uri).some((t) => t.isDirty)) return;
    this.dirtyCustom.delete(key);
    // A custom editor built on a text document saves through it: that save event was enough.
    if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === key)) return;
    // Clean again with the file unchanged is a revert, not a save.
    void Promise.all([before, mtimeOf(uri)]).then(([then, now]) => {
      if (now !== undefined && now !== then) this.onSaved(uri);
    });
  }

  private customTabClosed(tab: vscode.Tab): void {
    const uri = customFileOf(tab);
    // Closed without saving ("Don't Save"): forget it, unless another tab still shows it dirty.
    if (uri && !openTabs(uri).some((t) => t.isDirty)) this.dirtyCustom.delete(uri.toString());
  }
}

/**
 * Open, unmodified documents whose file was written after this extension host started: saved in
 * the first seconds of the window, before activation, when no save event could reach us.
 */
export async function savedBeforeActivation(): Promise<vscode.Uri[]> {
  const hostStarted = Date.now() - process.uptime() * 1000;
  const candidates = [
    ...vscode.workspace.textDocuments.filter((d) => !d.isDirty).map((d) => d.uri),
    ...vscode.workspace.notebookDocuments.filter((n) => !n.isDirty).map((n) => n.uri),
  ].filter((uri) => uri.scheme === 'file');
  const out: vscode.Uri[] = [];
  for (const uri of candidates) {
    const mtime = await mtimeOf(uri);
    if (mtime !== undefined && mtime >= hostStarted) out.push(uri);
  }
  return out;
}

function customFileOf(tab: vscode.Tab): vscode.Uri | undefined {
  return tab.input instanceof vscode.TabInputCustom && tab.input.uri.scheme === 'file' ? tab.input.uri : undefined;
}

function openTabs(uri: vscode.Uri): vscode.Tab[] {
  const key = uri.toString();
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => customFileOf(t)?.toString() === key);
}

async function mtimeOf(uri: vscode.Uri): Promise<number | undefined> {
  try {
    return (await fs.stat(uri.fsPath)).mtimeMs;
  } catch {
    return undefined;
  }
}
