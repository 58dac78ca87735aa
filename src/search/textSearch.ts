/**
 * Find in Files over one remote folder: a fresh walk of the tree (through the index, so the index
 * gets current too) and, as each folder is listed, its files read and matched — from the content
 * cache when the listing shows the same size and time, else downloaded in the pool's background
 * lane. An index whose last whole walk is recent enough (`listingsMaxAgeMs`) is trusted instead of
 * walked again: listing 200 folders costs seconds at any latency, and the summary says how old the
 * listings were, so nothing is stale silently. Results are streamed per file; the summary says what
 * was searched, what was skipped and why, and whether the search is incomplete (cancelled, or the
 * connection gave out).
 */
import { setMaxListeners } from 'node:events';
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
  /**
   * The index's listings are used as they are when its last whole walk ended at most this long ago
   * (ms; default defaults.searchListingsMaxAgeMs); 0: always list every folder again.
   */
  listingsMaxAgeMs?: number;
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
  /** How old the index's listings were when the search began (ms); undefined: every folder was listed for this search. */
  listingsAgeMs?: number;
}

/** Files to ask for at once with `connections` to read them on: twice as many, so that no connection waits for its next file (at least 8). */
export function readersFor(connections: number): number {
  return Math.max(8, 2 * connections);
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
  // Every read at once waits on it (the pool's queue, the transfer): that many listeners are no leak.
  if (signal) setMaxListeners(2 * concurrency + 10, signal);

  /** `asked`: called once the file's download is queued in the pool (or none is needed). */
  const searchOne = async (file: IndexedFile, asked: () => void): Promise<void> => {
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
        const reading = source.readFile(remotePath, { signal, lane: 'background' });
        asked();
        data = await reading;
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
      if (failure !== undefined || signal?.aborted) return hungry();
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
        await searchOne(file, hungry);
      } catch (err) {
        failure ??= err;
      } finally {
        hungry();
      }
    }
  };
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // Listings held back while files wait to be asked for (see beforeList below).
  let gate: (() => void)[] = [];
  // After a failure the readers are gone and nobody would open the gate: the walk goes on unheld.
  const held = () => queue.length > 0 && failure === undefined && !signal?.aborted;
  const hungry = () => {
    if (held()) return;
    const open = gate;
    gate = [];
    for (const go of open) go();
  };
  const readersHungry = (): Promise<void> => (held() ? new Promise<void>((go) => gate.push(go)) : Promise.resolve());

  const workers = Array.from({ length: concurrency }, worker);
  const maxAge = options.listingsMaxAgeMs ?? defaults.searchListingsMaxAgeMs;
  const age = index.age;
  let walk: Promise<void>;
  // A folder the index does not have (made since its walk, by someone else) is listed in any case.
  if (age !== undefined && age <= maxAge && !index.isWalking && index.hasFolder(options.under ?? '')) {
    // Listed a moment ago (the search before this one, a refresh): the same files, no round trip.
    summary.listingsAgeMs = age;
    const prefix = options.under ? `${options.under}/` : '';
    // Folders that walk could not list are still unsearched: the summary says so again.
    for (const p of index.walkProblems) if (p.path === options.under || p.path.startsWith(prefix)) summary.problems.push(p);
    for (const f of index.files()) if (f.path.startsWith(prefix) && filter.keepsFile(f.path)) queue.push(f);
    walkDone = true;
    poke();
    walk = Promise.resolve();
  } else {
    walk = index
      .refresh({
        under: options.under,
        signal,
        // Files before folders: a breadth-first backlog of listings in the pool's queue would hold
        // back the files of the folders listed first, and with them the first matches. A folder
        // is listed once every file found so far has its download queued (the readers keep up to
        // `concurrency` of them waiting, so the connections do not run dry meanwhile).
        beforeList: () => readersHungry(),
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
        hungry();
      });
  }
  await walk;
  await Promise.all(workers);
  await options.cache?.flush().catch(() => undefined);
  if (signal?.aborted) summary.incomplete = 'cancelled';
  else if (failure !== undefined) summary.incomplete = failure instanceof Error ? failure.message : String(failure);
  summary.ms = Date.now() - started;
  return summary;
}
