/**
 * Find in Files over one remote folder: a fresh walk of the tree (through the index, so the index
 * gets current too) and, as each folder is listed, its files read and matched — from the content
 * cache when the listing shows the same size and time, else downloaded in the pool's background
 * lane. Results are streamed per file; the summary says what was searched, what was skipped and
 * why, and whether the search is incomplete (cancelled, or the connection gave out).
 */
import * as defaults from '../ftp/defaults';
import { isFtpError } from '../ftp/errors';
import type { TransferOptions } from '../ftp/types';
import type { LaneOptions } from '../remote/remoteFs';
import { remotePathOf, type RelPath } from '../remote/walk';
import type { ContentCache } from './contentCache';
import { PathFilter } from './glob';
import type { IndexedFile, RemoteIndex } from './remoteIndex';
import { compileQuery, decodeText, looksBinary, matchLines, type LineMatch, type TextQuery } from './textQuery';

export interface ContentSource {
  readFile(path: string, opts?: TransferOptions & LaneOptions): Promise<Buffer>;
}

export interface TextSearchOptions {
  query: TextQuery;
  include?: readonly string[];
  exclude?: readonly string[];
  /** Search only this folder of the index's root (default: all). */
  under?: RelPath;
  /** Files larger than this are skipped, not downloaded (bytes; default defaults.searchMaxFileSize). */
  maxFileSize?: number;
  /** Files read at once (the pool's background share caps the connections). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Cache and the id a file has in it (server + remote path); none: always download. */
  cache?: ContentCache;
  cacheId?: (remotePath: string) => string;
  /** Each file with matches, as soon as it is searched. */
  onFile?: (result: FileResult) => void;
}

export interface FileResult {
  path: RelPath;
  matches: LineMatch[];
}

export interface SearchSummary {
  filesSearched: number;
  filesMatched: number;
  matches: number;
  skipped: { binary: number; tooLarge: number; unreadable: number };
  /** Files and folders that could not be read, with the server's words. */
  problems: { path: RelPath; message: string }[];
  /** Files downloaded / answered from the content cache. */
  downloaded: number;
  fromCache: number;
  /** Why the results are partial (cancelled, connection lost); undefined when complete. */
  incomplete?: string;
  ms: number;
}

/** Runs the search; throws QueryError before any network work when the query cannot run. */
export async function searchText(index: RemoteIndex, source: ContentSource, options: TextSearchOptions): Promise<SearchSummary> {
  const re = compileQuery(options.query);
  const started = Date.now();
  const filter = new PathFilter({ include: options.include, exclude: options.exclude });
  const maxFileSize = options.maxFileSize ?? defaults.searchMaxFileSize;
  const summary: SearchSummary = { filesSearched: 0, filesMatched: 0, matches: 0, skipped: { binary: 0, tooLarge: 0, unreadable: 0 }, problems: [], downloaded: 0, fromCache: 0, ms: 0 };
  const queue: IndexedFile[] = [];
  const concurrency = Math.max(1, options.concurrency ?? 8);
  let walkDone = false;
  let wake: (() => void) | undefined;
  const signal = options.signal;

  const searchOne = async (file: IndexedFile): Promise<void> => {
    if (file.size > maxFileSize) {
      summary.skipped.tooLarge++;
      return;
    }
    const remotePath = remotePathOf(index.root, file.path);
    const id = options.cacheId?.(remotePath) ?? remotePath;
    let data: Buffer | 'binary' | undefined = await options.cache?.get(id, file.size, file.mtime);
    if (data !== undefined) summary.fromCache++;
    else {
      try {
        data = await source.readFile(remotePath, { signal, lane: 'background' });
      } catch (err) {
        if (signal?.aborted || (isFtpError(err) && (err.kind === 'connection-lost' || err.kind === 'cancelled'))) throw err;
        summary.skipped.unreadable++;
        summary.problems.push({ path: file.path, message: err instanceof Error ? err.message : String(err) });
        return;
      }
      summary.downloaded++;
      if (looksBinary(data)) await options.cache?.putBinary(id, file.size, file.mtime);
      else await options.cache?.put(id, file.size, file.mtime, data);
    }
    if (data === 'binary' || looksBinary(data)) {
      summary.skipped.binary++;
      return;
    }
    summary.filesSearched++;
    const matches = matchLines(decodeText(data), re);
    if (matches.length === 0) return;
    summary.filesMatched++;
    summary.matches += matches.reduce((n, m) => n + m.ranges.length, 0);
    options.onFile?.({ path: file.path, matches });
  };

  let failure: unknown;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (failure !== undefined || signal?.aborted) return;
      const file = queue.shift();
      if (!file) {
        if (walkDone) return;
        await new Promise<void>((resolve) => {
          const previous = wake;
          wake = () => {
            previous?.();
            resolve();
          };
        });
        continue;
      }
      try {
        await searchOne(file);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const workers = Array.from({ length: concurrency }, worker);
  const walk = index
    .refresh({
      under: options.under,
      signal,
      onFolder: (_rel, files) => {
        for (const f of files) if (filter.keepsFile(f.path)) queue.push(f);
        poke();
      },
      onProblem: (p) => {
        summary.problems.push(p);
      },
    })
    .catch((err: unknown) => {
      failure ??= err;
    })
    .finally(() => {
      walkDone = true;
      poke();
    });
  await walk;
  await Promise.all(workers);
  await options.cache?.flush().catch(() => undefined);
  if (signal?.aborted) summary.incomplete = 'cancelled';
  else if (failure !== undefined) summary.incomplete = failure instanceof Error ? failure.message : String(failure);
  summary.ms = Date.now() - started;
  return summary;
}
