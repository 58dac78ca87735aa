/**
 * FTP: Find in Files… and Find in Folder…: asks for the text (with the Search view's toggles — match
 * case, whole word, regular expression — as buttons of the input box, and files to include and
 * exclude behind a fourth), then searches every ftp:// folder (or the one folder) with
 * src/search/textSearch.ts and streams the results into the results view. One search at a time:
 * a new one, or Cancel Search, stops the one running.
 */
import * as vscode from 'vscode';
import * as defaults from '../../ftp/defaults';
import { formatBytes } from '../../ftp/format';
import { enabledPatterns, splitGlobList } from '../../search/glob';
import { compileQuery, QueryError, type TextQuery } from '../../search/textQuery';
import { readersFor, searchText, type SearchSummary } from '../../search/textSearch';
import { SECTION, searchConnections } from '../servers';
import type { SearchIndexes } from './searchIndexes';
import type { FileResults, SearchResultsView } from './searchResultsView';

export interface FindOptions extends TextQuery {
  /** Comma-separated globs, as the Search view's boxes take them. */
  include?: string;
  exclude?: string;
  /** Find in Folder: only under this folder. */
  folder?: vscode.Uri;
}

/** What a search found, for the caller (tests, other extensions through the command). */
export interface FindResult {
  summary: SearchSummary;
  files: { uri: vscode.Uri; matches: { line: number; text: string; ranges: [number, number][] }[] }[];
}

const STATE_KEY = 'ftpWorkspace.lastSearch';

interface Toggles {
  matchCase: boolean;
  wholeWord: boolean;
  isRegex: boolean;
}

export class FindInFiles implements vscode.Disposable {
  private running?: AbortController;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly indexes: SearchIndexes,
    private readonly view: SearchResultsView,
  ) {}

  /** Asks for the query (unless `given` has one), then searches. */
  async run(given: Partial<FindOptions> = {}): Promise<FindResult | undefined> {
    const options = given.pattern ? ({ ...given } as FindOptions) : await this.ask(given.folder);
    if (!options) return undefined;
    return this.search(options);
  }

  cancel(): void {
    this.running?.abort();
  }

  dispose(): void {
    this.cancel();
  }

  private async search(options: FindOptions): Promise<FindResult | undefined> {
    try {
      compileQuery(options);
    } catch (err) {
      void vscode.window.showErrorMessage(err instanceof QueryError ? err.message : String(err));
      return undefined;
    }
    this.running?.abort();
    const abort = new AbortController();
    this.running = abort;
    const scope = options.folder ? vscode.workspace.getWorkspaceFolder(options.folder) : undefined;
    const folders = scope ? [scope] : this.indexes.folders();
    const config = vscode.workspace.getConfiguration(SECTION);
    const maxFileSize = Math.max(0, config.get<number>('search.maxFileSize', defaults.searchMaxFileSize / 1024 / 1024)) * 1024 * 1024;
    const listingsMaxAgeMs = Math.max(0, config.get<number>('search.listingsMaxAge', defaults.searchListingsMaxAgeMs / 1000)) * 1000;
    const include = splitGlobList(options.include ?? '');
    const userExclude = splitGlobList(options.exclude ?? '');
    const label = `"${options.pattern}"${scope && options.folder ? ` in ${vscode.workspace.asRelativePath(options.folder, true)}` : ''}`;

    this.view.clear(`Searching for ${label}…`);
    await this.view.reveal();
    await vscode.commands.executeCommand('setContext', 'ftpWorkspace.searching', true);
    const started = Date.now();
    const files: FileResults[] = [];
    const summaries: SearchSummary[] = [];
    try {
      await vscode.window.withProgress({ location: { viewId: 'ftpWorkspace.searchResults' } }, () =>
        Promise.all(
          folders.map(async (folder) => {
            const { index, connection } = await this.indexes.get(folder);
            const under = scope && options.folder ? relativeOf(folder.uri, options.folder) : '';
            const exclude = [...userExclude, ...enabledPatterns(vscode.workspace.getConfiguration('files', folder.uri).get('exclude')), ...enabledPatterns(vscode.workspace.getConfiguration('search', folder.uri).get('exclude'))];
            const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
            const summary = await searchText(index, connection.fs, {
              query: options,
              include,
              exclude,
              under,
              maxFileSize,
              listingsMaxAgeMs,
              concurrency: readersFor(searchConnections(config)),
              signal: abort.signal,
              cache: this.indexes.cache(),
              cacheId: (remotePath) => `${connection.server.key}${remotePath}`,
              onFile: (r) => {
                const slash = r.path.lastIndexOf('/');
                const dir = slash < 0 ? '' : r.path.slice(0, slash);
                const file: FileResults = { uri: vscode.Uri.joinPath(folder.uri, r.path), folderLabel: multiRoot ? (dir ? `${folder.name} • ${dir}` : folder.name) : dir, matches: r.matches };
                files.push(file);
                this.view.add(file);
                this.view.message = `Searching for ${label}… ${countText(files)}`;
              },
            });
            summaries.push(summary);
          }),
        ),
      );
    } catch (err) {
      if (!abort.signal.aborted) void vscode.window.showErrorMessage(`FTP: Find in Files failed: ${(err as Error).message}`);
    } finally {
      if (this.running === abort) {
        this.running = undefined;
        await vscode.commands.executeCommand('setContext', 'ftpWorkspace.searching', false);
      }
    }
    const summary = combine(summaries, Date.now() - started, abort.signal.aborted);
    this.view.message = summaryText(label, files, summary, maxFileSize);
    return { summary, files: files.map((f) => ({ uri: f.uri, matches: f.matches })) };
  }

  /** The Search view's query box as an input box: the toggles are its buttons; the last search is remembered. */
  private async ask(folder?: vscode.Uri): Promise<FindOptions | undefined> {
    const last = this.context.globalState.get<Partial<FindOptions> & { details?: boolean }>(STATE_KEY) ?? {};
    const toggles: Toggles = { matchCase: !!last.matchCase, wholeWord: !!last.wholeWord, isRegex: !!last.isRegex };
    let details = !!last.details;
    const selected = selectionText();
    const box = vscode.window.createInputBox();
    box.title = folder ? `FTP: Find in Folder — ${vscode.workspace.asRelativePath(folder, true)}` : 'FTP: Find in Files';
    box.placeholder = 'Search (Enter to search; the buttons: Match Case, Match Whole Word, Use Regular Expression, files to include/exclude)';
    box.value = selected ?? last.pattern ?? '';
    box.valueSelection = [0, box.value.length];
    const buttons = () => [
      button('case-sensitive', 'Match Case', toggles.matchCase),
      button('whole-word', 'Match Whole Word', toggles.wholeWord),
      button('regex', 'Use Regular Expression', toggles.isRegex),
      button('ellipsis', 'Toggle Search Details (files to include and exclude)', details),
    ];
    const validate = () => {
      if (!box.value) return (box.validationMessage = undefined);
      try {
        compileQuery({ pattern: box.value, ...toggles });
        box.validationMessage = undefined;
      } catch (err) {
        box.validationMessage = (err as Error).message;
      }
    };
    box.buttons = buttons();
    box.prompt = promptText(toggles, details, last);
    const pattern = await new Promise<string | undefined>((resolve) => {
      const subscriptions = [
        box.onDidChangeValue(validate),
        box.onDidTriggerButton((b) => {
          const name = (b.iconPath as vscode.ThemeIcon).id;
          if (name === 'case-sensitive') toggles.matchCase = !toggles.matchCase;
          if (name === 'whole-word') toggles.wholeWord = !toggles.wholeWord;
          if (name === 'regex') toggles.isRegex = !toggles.isRegex;
          if (name === 'ellipsis') details = !details;
          box.buttons = buttons();
          box.prompt = promptText(toggles, details, last);
          validate();
        }),
        box.onDidAccept(() => {
          if (!box.value || box.validationMessage) return;
          resolve(box.value);
          box.hide();
        }),
        box.onDidHide(() => {
          resolve(undefined);
          for (const s of subscriptions) s.dispose();
          box.dispose();
        }),
      ];
      validate();
      box.show();
    });
    if (pattern === undefined) return undefined;
    let include = last.include ?? '';
    let exclude = last.exclude ?? '';
    if (details) {
      const inc = await vscode.window.showInputBox({ title: 'FTP: Find in Files — files to include', prompt: 'Comma-separated globs, e.g. *.php, src/** (empty: all files)', value: include });
      if (inc === undefined) return undefined;
      const exc = await vscode.window.showInputBox({ title: 'FTP: Find in Files — files to exclude', prompt: 'Comma-separated globs, in addition to files.exclude and search.exclude', value: exclude });
      if (exc === undefined) return undefined;
      include = inc;
      exclude = exc;
    }
    const options: FindOptions = { pattern, ...toggles, include, exclude, folder };
    await this.context.globalState.update(STATE_KEY, { pattern, ...toggles, include, exclude, details });
    return options;
  }
}

function button(icon: string, tooltip: string, on: boolean): vscode.QuickInputButton {
  // An input box has no toggle buttons: an active toggle shows filled in and says so.
  return { iconPath: new vscode.ThemeIcon(icon, on ? new vscode.ThemeColor('inputOption.activeForeground') : undefined), tooltip: `${tooltip}${on ? ' (on)' : ''}` };
}

function promptText(t: Toggles, details: boolean, last: Partial<FindOptions>): string {
  const flags = [t.matchCase && 'match case', t.wholeWord && 'whole word', t.isRegex && 'regular expression'].filter(Boolean).join(', ') || 'plain text, any case';
  const scope = details ? ` · then files to include/exclude (last: ${last.include || 'all'} / ${last.exclude || 'none'})` : '';
  return `${flags}${scope}`;
}

function selectionText(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty || !editor.selection.isSingleLine) return undefined;
  return editor.document.getText(editor.selection);
}

function relativeOf(root: vscode.Uri, folder: vscode.Uri): string {
  const base = root.path.replace(/\/+$/, '');
  return folder.path.startsWith(`${base}/`) ? folder.path.slice(base.length + 1).replace(/\/+$/, '') : '';
}

function countText(files: FileResults[]): string {
  const matches = files.reduce((n, f) => n + f.matches.reduce((m, l) => m + l.ranges.length, 0), 0);
  return `${matches.toLocaleString('en-US')} result${matches === 1 ? '' : 's'} in ${files.length.toLocaleString('en-US')} file${files.length === 1 ? '' : 's'}`;
}

function combine(summaries: SearchSummary[], ms: number, cancelled: boolean): SearchSummary {
  const total: SearchSummary = { filesSearched: 0, filesMatched: 0, matches: 0, skipped: { binary: 0, tooLarge: 0, unreadable: 0 }, problems: [], downloaded: 0, fromCache: 0, ms };
  for (const s of summaries) {
    total.filesSearched += s.filesSearched;
    total.filesMatched += s.filesMatched;
    total.matches += s.matches;
    total.skipped.binary += s.skipped.binary;
    total.skipped.tooLarge += s.skipped.tooLarge;
    total.skipped.unreadable += s.skipped.unreadable;
    total.problems.push(...s.problems);
    total.downloaded += s.downloaded;
    total.fromCache += s.fromCache;
    total.incomplete ??= s.incomplete;
    if (s.listingsAgeMs !== undefined) total.listingsAgeMs = Math.max(total.listingsAgeMs ?? 0, s.listingsAgeMs);
  }
  if (cancelled) total.incomplete = 'cancelled';
  return total;
}

function summaryText(label: string, files: FileResults[], s: SearchSummary, maxFileSize: number): string {
  const skipped = [
    s.skipped.binary && `${s.skipped.binary} binary`,
    s.skipped.tooLarge && `${s.skipped.tooLarge} larger than ${formatBytes(maxFileSize)}`,
    (s.skipped.unreadable || s.problems.length) && `${Math.max(s.skipped.unreadable, s.problems.length)} unreadable`,
  ].filter(Boolean);
  const head = s.filesMatched === 0 ? `No results for ${label}` : `${countText(files)} for ${label}`;
  const searched = `${s.filesSearched.toLocaleString('en-US')} files searched in ${(s.ms / 1000).toFixed(1)} s (${s.downloaded} downloaded, ${s.fromCache} from cache)`;
  const partial = s.incomplete ? ` — INCOMPLETE: ${s.incomplete}` : '';
  // Never stale silently: listings the search did not make itself are dated (FTP: Refresh Search
  // Index renews them; README). Short, so that the view still shows the first results below it.
  const age = s.listingsAgeMs !== undefined ? `; folders listed ${Math.round(s.listingsAgeMs / 1000)} s ago` : '';
  return `${head} — ${searched}${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}${age}${partial}`;
}
