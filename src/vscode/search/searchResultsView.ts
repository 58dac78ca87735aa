/**
 * The results of FTP: Find in Files, as a tree in the Explorer like the Search view's: one row per
 * file (its icon, name, folder and match count), under it one row per matching line with the
 * matches highlighted. Rows come in while the search runs; the view's message carries the
 * summary. Clicking a line (or Enter on it) opens the file with the match selected.
 */
import * as vscode from 'vscode';
import type { LineMatch } from '../../search/textQuery';

export const VIEW_ID = 'ftpWorkspace.searchResults';
export const OPEN_RESULT_COMMAND = 'ftpWorkspace.openSearchResult';

/** A line longer than this is shown as a window around its first match. */
const PREVIEW_CHARS = 250;
/** The tree is redrawn at most this often while results stream in. */
const REDRAW_EVERY_MS = 150;

export interface FileResults {
  uri: vscode.Uri;
  /** Shown after the name: the folder in the workspace. */
  folderLabel: string;
  matches: LineMatch[];
}

type Node = { kind: 'file'; file: FileResults } | { kind: 'line'; file: FileResults; match: LineMatch };

export class SearchResultsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Node>;
  private files: FileResults[] = [];
  private readonly fileNodes = new Map<FileResults, Node>();
  private timer?: NodeJS.Timeout;
  private pending = false;

  constructor() {
    this.view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
  }

  /** Starts a new list (the old results go). */
  clear(message?: string): void {
    this.files = [];
    this.fileNodes.clear();
    this.view.message = message;
    this.redrawNow();
  }

  add(file: FileResults): void {
    this.files.push(file);
    this.redrawSoon();
  }

  set message(text: string | undefined) {
    this.view.message = text;
  }

  /** Shows the view (as the Search view comes forward when a search starts). */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
  }

  get results(): readonly FileResults[] {
    return this.files;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'file') {
      const item = new vscode.TreeItem(node.file.uri, vscode.TreeItemCollapsibleState.Expanded);
      const count = node.file.matches.reduce((n, m) => n + m.ranges.length, 0);
      item.description = `${node.file.folderLabel}  ·  ${count}`;
      item.tooltip = `${node.file.uri.toString(true)} — ${count} match${count === 1 ? '' : 'es'}`;
      item.contextValue = 'file';
      return item;
    }
    const { text, ranges } = preview(node.match);
    const item = new vscode.TreeItem({ label: text, highlights: ranges }, vscode.TreeItemCollapsibleState.None);
    item.description = String(node.match.line);
    item.tooltip = `${node.match.line}: ${node.match.text.slice(0, 500)}`;
    const [start, end] = node.match.ranges[0];
    item.command = { command: OPEN_RESULT_COMMAND, title: 'Open', arguments: [node.file.uri, new vscode.Range(node.match.line - 1, start, node.match.line - 1, end)] };
    item.contextValue = 'match';
    return item;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.files.map((file) => this.nodeOf(file));
    if (node.kind === 'file') return node.file.matches.map((match): Node => ({ kind: 'line', file: node.file, match }));
    return [];
  }

  getParent(node: Node): Node | undefined {
    return node.kind === 'line' ? this.nodeOf(node.file) : undefined;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.view.dispose();
    this.changed.dispose();
  }

  private nodeOf(file: FileResults): Node {
    let node = this.fileNodes.get(file);
    if (!node) {
      node = { kind: 'file', file };
      this.fileNodes.set(file, node);
    }
    return node;
  }

  private redrawSoon(): void {
    if (this.timer) {
      this.pending = true;
      return;
    }
    this.redrawNow();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pending) {
        this.pending = false;
        this.redrawSoon();
      }
    }, REDRAW_EVERY_MS);
  }

  private redrawNow(): void {
    this.changed.fire(undefined);
  }
}

/** The line trimmed (leading blanks, and a window around the first match when long), matches moved along. */
function preview(match: LineMatch): { text: string; ranges: [number, number][] } {
  const indent = /^\s*/.exec(match.text)?.[0].length ?? 0;
  let from = Math.min(indent, match.ranges[0][0]);
  if (match.text.length - from > PREVIEW_CHARS) from = Math.max(from, match.ranges[0][0] - 40);
  const text = match.text.slice(from, from + PREVIEW_CHARS);
  const ranges = match.ranges
    .map(([s, e]): [number, number] => [s - from, Math.min(e - from, text.length)])
    .filter(([s, e]) => s >= 0 && s < text.length && e > s);
  return { text: from > 0 && from !== indent ? `…${text}` : text, ranges: from > 0 && from !== indent ? ranges.map(([s, e]) => [s + 1, e + 1]) : ranges };
}
