/**
 * Search in ftp:// folders, in the editor: the commands (Go to File, Find in Files, Find in Folder,
 * Refresh Search Index) and the results view, over the
 * indexes of the workspace's ftp:// folders. VS Code's own Quick Open and Search view cannot see
 * these folders (their provider APIs are proposed-only), so these are ours.
 */
import * as vscode from 'vscode';
import { formatAge } from '../../ftp/format';
import type { Servers } from '../servers';
import { FindInFiles, type FindOptions } from './findInFiles';
import { goToFile, type GoToFileOptions } from './goToFile';
import { SearchIndexes } from './searchIndexes';
import { SearchResultsView } from './searchResultsView';

export class SearchController implements vscode.Disposable {
  readonly indexes: SearchIndexes;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(context: vscode.ExtensionContext, servers: Servers) {
    this.indexes = new SearchIndexes(context, servers);
    const view = new SearchResultsView();
    const find = new FindInFiles(context, this.indexes, view);
    this.disposables.push(
      this.indexes,
      view,
      find,
      vscode.commands.registerCommand('ftpWorkspace.findInFiles', (options?: Partial<FindOptions>) => find.run(options ?? {})),
      // The Explorer passes the folder; a search with options may name one too.
      vscode.commands.registerCommand('ftpWorkspace.findInFolder', (arg?: vscode.Uri | Partial<FindOptions>) => find.run(arg instanceof vscode.Uri ? { folder: arg } : arg ?? {})),
      vscode.commands.registerCommand('ftpWorkspace.cancelSearch', () => find.cancel()),
      // OPEN_RESULT_COMMAND, spelled out: test/unit/contributions.test.ts finds registrations by their literal id.
      vscode.commands.registerCommand('ftpWorkspace.openSearchResult', (uri: vscode.Uri, range: vscode.Range) =>
        vscode.window.showTextDocument(uri, { selection: range, preview: true })),
      vscode.commands.registerCommand('ftpWorkspace.goToFile', (arg?: vscode.Uri | GoToFileOptions) => goToFile(this.indexes, arg instanceof vscode.Uri ? { folder: arg } : arg ?? {})),
      vscode.commands.registerCommand('ftpWorkspace.refreshSearchIndex', () => this.refreshIndex()),
    );
  }

  /** Walks every ftp:// folder again, with progress; says how many files and what could not be listed. */
  private async refreshIndex(): Promise<void> {
    const folders = this.indexes.folders();
    if (folders.length === 0) {
      void vscode.window.showInformationMessage('There is no ftp:// folder in this workspace to index.');
      return;
    }
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'FTP: Indexing', cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const indexes = await this.indexes.all(folders);
      const listener = this.indexes.onDidChange(() => progress.report({ message: `${indexes.reduce((n, i) => n + i.index.fileCount, 0).toLocaleString('en-US')} files` }));
      try {
        await Promise.all(indexes.map((i) => i.index.refresh({ signal: abort.signal })));
        const problems = indexes.flatMap((i) => i.index.walkProblems.map((p) => `${i.folder.name}/${p.path}: ${p.message}`));
        const files = indexes.reduce((n, i) => n + i.index.fileCount, 0);
        const age = Math.max(...indexes.map((i) => i.index.age ?? 0));
        const note = problems.length ? ` Could not list ${problems.length} folder${problems.length === 1 ? '' : 's'}: ${problems.slice(0, 3).join('; ')}` : '';
        void vscode.window.showInformationMessage(`FTP: ${files.toLocaleString('en-US')} files indexed (${formatAge(age)}).${note}`);
      } catch (err) {
        if (abort.signal.aborted) return;
        void vscode.window.showErrorMessage(`FTP: the search index could not be refreshed: ${(err as Error).message}`);
      } finally {
        listener.dispose();
      }
    });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
