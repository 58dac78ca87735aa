/**
 * The status bar item for upload on save: uploads pending, failed ones with their reasons, and
 * local deletes and renames waiting for a server that cannot be reached.
 */
import * as vscode from 'vscode';
import type { UploadItem } from '../../sync/uploadQueue';
import { plural } from './format';
import type { WaitingChanges } from './localChanges';

export class UploadStatusItem implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('ftpWorkspace.uploads', vscode.StatusBarAlignment.Left, 49);
    this.item.name = 'FTP Uploads';
    this.item.command = 'ftpWorkspace.retryUploads';
  }

  private items: readonly UploadItem[] = [];
  private waiting: readonly WaitingChanges[] = [];

  /** Local deletes and renames waiting for their server. */
  updateWaiting(waiting: readonly WaitingChanges[]): void {
    this.waiting = waiting;
    this.update(this.items);
  }

  update(items: readonly UploadItem[]): void {
    this.items = items;
    const failed = items.filter((i) => i.state === 'failed');
    const busy = items.length - failed.length;
    const waiting = this.waiting.reduce((n, w) => n + w.count, 0);
    if (items.length === 0 && waiting === 0) {
      this.item.hide();
      return;
    }
    const parts: string[] = [];
    if (busy > 0) parts.push(`$(sync~spin) ${busy}`);
    if (failed.length > 0) parts.push(`$(error) ${failed.length}`);
    if (waiting > 0) parts.push(`$(history) ${waiting}`);
    this.item.text = `FTP ${parts.join(' ')}`;
    this.item.backgroundColor = failed.length > 0 || waiting > 0 ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = false;
    if (busy > 0) md.appendMarkdown(`${plural(busy, 'upload')} in progress\n\n`);
    for (const w of this.waiting) {
      md.appendText(`${plural(w.count, 'delete or rename', 'deletes and renames')} in ${vscode.workspace.asRelativePath(w.local)} wait for the server (${w.reason}) — kept, also across a reload; tried again by itself, or click to retry now.`);
      md.appendMarkdown('\n\n');
    }
    if (failed.length > 0) {
      md.appendMarkdown(`**${plural(failed.length, 'upload')} failed** — still pending, retried on your next save. Click to retry now.\n\n`);
      for (const f of failed.slice(0, 10)) {
        md.appendText(`• ${vscode.workspace.asRelativePath(f.key)}: ${f.error?.message ?? 'failed'}`);
        md.appendMarkdown('\n\n');
      }
      if (failed.length > 10) md.appendText(`… and ${failed.length - 10} more`);
    }
    this.item.tooltip = md;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
