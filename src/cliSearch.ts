/**
 * `ftp-workspace find` and `grep`: the search core (src/search) over a pool of the CLI's own, so
 * folders are listed and files read several at a time. Output is streamed as results come;
 * names from the server are escaped before they reach the terminal.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpClient } from './ftp/client';
import * as defaults from './ftp/defaults';
import { ConnectionPool } from './ftp/pool';
import type { ConnectOptions, FtpEvent } from './ftp/types';
import { RemoteFs } from './remote/remoteFs';
import { ContentCache } from './search/contentCache';
import { globMatcher } from './search/glob';
import { RemoteIndex } from './search/remoteIndex';
import { readersFor, searchText } from './search/textSearch';
import type { CliOptions } from './commandLine';

export interface SearchTarget {
  options: ConnectOptions;
  path: string;
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  printable(name: string): string;
  logEvent?: (e: FtpEvent) => void;
}

async function withRemote<T>(t: SearchTarget, o: CliOptions, io: CliIo, fn: (fs: RemoteFs) => Promise<T>): Promise<T> {
  const pool = new ConnectionPool<FtpClient>((mode, onEvent) => FtpClient.connect({ ...t.options, mode, onEvent }), {
    maxConnections: o.connections ?? defaults.searchCliConnections,
    // Nobody else uses this pool: the search may have every connection.
    backgroundReserve: 0,
    mode: t.options.mode,
  });
  if (io.logEvent) pool.on('event', io.logEvent);
  try {
    return await fn(new RemoteFs(pool));
  } finally {
    await pool.close();
  }
}

/** Prints every file under the target (its path relative to the target), as each folder is listed. */
export async function runFind(t: SearchTarget, o: CliOptions, io: CliIo): Promise<number> {
  const names = globMatcher(o.names.map((n) => n.replace(/^\*\*\//, '')));
  return withRemote(t, o, io, async (fs) => {
    const index = new RemoteIndex(fs, t.path, { exclude: o.exclude, concurrency: 16 });
    try {
      await index.refresh({
        onFolder: (_rel, files) => {
          for (const f of files) {
            if (names && !names(path.posix.basename(f.path))) continue;
            io.out(o.json ? JSON.stringify({ path: f.path, size: f.size, mtime: f.mtime === undefined ? undefined : new Date(f.mtime).toISOString() }) : io.printable(f.path));
          }
        },
      });
      for (const p of index.walkProblems) io.err(`ftp-workspace: ${io.printable(p.path || '.')}: ${p.message}`);
      return index.walkProblems.length > 0 ? 1 : 0;
    } finally {
      index.dispose();
    }
  });
}

/** grep's exit codes: 0 with matches, 1 without, 2 when anything went wrong (matches or not). */
export async function runGrep(pattern: string, t: SearchTarget, o: CliOptions, io: CliIo): Promise<number> {
  const cache = o.cacheDir ? new ContentCache(path.resolve(o.cacheDir.replace(/^~(?=$|\/)/, os.homedir())), defaults.searchCacheBytes) : undefined;
  const id = `${t.options.user ?? 'anonymous'}@${t.options.host}:${t.options.port ?? defaults.defaultPort(t.options.security)}`;
  return withRemote(t, o, io, async (fs) => {
    const index = new RemoteIndex(fs, t.path, { exclude: o.exclude, concurrency: 16 });
    try {
      const summary = await searchText(index, fs, {
        query: { pattern, isRegex: o.regex, matchCase: !o.ignoreCase, wholeWord: o.word },
        concurrency: readersFor(o.connections ?? defaults.searchCliConnections),
        include: o.include,
        exclude: o.exclude,
        maxFileSize: o.maxSize,
        cache,
        cacheId: (remotePath) => `${id}${remotePath}`,
        onFile: (r) => {
          for (const m of r.matches) {
            io.out(o.json ? JSON.stringify({ path: r.path, line: m.line, text: m.text, ranges: m.ranges }) : `${io.printable(r.path)}:${m.line}:${io.printable(m.text)}`);
          }
        },
      });
      for (const p of summary.problems) io.err(`ftp-workspace: ${io.printable(p.path || '.')}: ${p.message}`);
      if (summary.incomplete) io.err(`ftp-workspace: the search is incomplete: ${summary.incomplete}`);
      if (o.json || o.verbose) {
        const { problems: _problems, ...figures } = summary;
        io.err(JSON.stringify({ summary: figures }));
      }
      if (summary.incomplete || summary.problems.length > 0) return 2;
      return summary.filesMatched > 0 ? 0 : 1;
    } finally {
      index.dispose();
    }
  });
}
