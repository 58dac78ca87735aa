/**
 * ftp-workspace: the extension's FTP core on the command line, for diagnosis, benchmarks and scripts.
 *   ftp-workspace ls|get|put|rm|mkdir|diagnose|find URL … [--mode passive|active|auto] …
 *   ftp-workspace grep PATTERN URL …
 */
import { FtpClient } from './ftp/client';
import * as defaults from './ftp/defaults';
import { diagnose, formatDiagnosis } from './ftp/diagnose';
import { FtpError } from './ftp/errors';
import { formatEvent, type LogLevel } from './ftp/eventText';
import type { ConnectOptions, FtpEvent } from './ftp/types';
import * as fs from 'node:fs';
import { fileSource } from './ftp/localFile';
import { describeProxy } from './ftp/proxy';
import { basename } from './ftp/remotePath';
import { parseMode } from './ftp/permissions';
import { ConnectionPool } from './ftp/pool';
import { USAGE, UsageError, parseCommandLine, type CliOptions } from './commandLine';
import type { CliIo } from './cliSearch';
import { QueryError } from './search/textQuery';
import { CliServerMemory } from './cliServerMemory';
import { loginOfUrl, serverOfUrl, takeEarlyConnection } from './cliEarlyConnection';
// Loaded by the commands that need them (`await import`), not at every start: resumed transfers
// (ftp/resume), `chmod --recursive` (remote/remoteFs) and `find`/`grep` (cliSearch and the search
// modules) bring node:fs/promises and the `ignore` package, ~3 ms of every start-up otherwise.

interface Target { options: ConnectOptions; path: string }

async function target(url: string, o: CliOptions): Promise<Target> {
  let u: URL;
  try { u = new URL(url); } catch { throw new UsageError(`not a URL: ${url}`); }
  if (u.protocol !== 'ftp:' && u.protocol !== 'ftps:') throw new UsageError(`only ftp:// and ftps:// URLs are supported: ${url}`);
  const { host, port, security } = serverOfUrl(u, o.implicitTls);
  const mode = o.mode ?? defaults.dataMode;
  const { user, password: given } = loginOfUrl(u, process.env);
  const password = given ?? (user === 'anonymous' ? undefined : await askPassword(`Password for ${user}@${u.hostname}: `, 'FTP_PASSWORD'));
  const t = o.timeoutMs;
  let proxy = o.proxy;
  if (proxy?.user !== undefined) {
    const proxyPassword = process.env.FTP_PROXY_PASSWORD ?? await askPassword(`Password for the proxy ${describeProxy(proxy)}: `, 'FTP_PROXY_PASSWORD');
    proxy = { ...proxy, password: proxyPassword };
  }
  const memory = serverMemory();
  const serverKey = `${host}:${port}`; // as FtpClient keys the server's zone
  memory.seedZone(serverKey);
  process.once('exit', () => {
    memory.noteZone(serverKey);
    memory.save();
  });
  const options: ConnectOptions = {
    host,
    port,
    user, password, security, mode,
    activeAddress: o.activeAddress,
    activePortRange: o.activePortRange,
    trustPasvAddress: o.trustPasvAddress,
    disableEpsv: o.disableEpsv,
    disableEprt: o.disableEprt,
    encoding: o.encoding,
    timeZoneOffsetMinutes: o.timeZoneOffsetMinutes,
    proxy,
    tls: { rejectUnauthorized: !o.insecure },
    connectTimeoutMs: t, replyTimeoutMs: t,
    featureMemory: memory.features,
    earlyConnection: proxy ? undefined : () => takeEarlyConnection(host, port),
  };
  return { options, path: decodeURIComponent(u.pathname || '/') || '/' };
}

let memoryLoaded: CliServerMemory | undefined;

/** What earlier runs learned of servers (cliServerMemory.ts), read once. */
function serverMemory(): CliServerMemory {
  return memoryLoaded ??= CliServerMemory.load();
}

/** A server-chosen name must not drive the terminal: control characters are shown escaped. */
function printable(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

async function askPassword(prompt: string, variable: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError(`no password: set ${variable} or run on a terminal`);
  process.stderr.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') { done(); resolve(value); return; }
        if (ch === '\u0003') { done(); reject(new UsageError('cancelled')); return; }
        if (ch === '\u007f') value = value.slice(0, -1); else value += ch;
      }
    };
    const done = () => { stdin.removeListener('data', onData); stdin.setRawMode(false); stdin.pause(); process.stderr.write('\n'); };
    stdin.on('data', onData);
  });
}

/** A terminal has no levels: a mark tells events from protocol lines (those carry > and < already). */
const MARK: Record<LogLevel, string> = { trace: '', debug: '* ', info: '* ', warn: '! ' };

/** --verbose: every event, in the log's words, each line with its connection id. */
function logEvent(e: FtpEvent): void {
  const { level, text } = formatEvent(e);
  process.stderr.write(`${MARK[level]}${text}`.split('\n').map((l) => `[${e.id}] ${printable(l)}\n`).join(''));
}

function tellResume(what: { offset: number; how: string } | { restart: string }): void {
  process.stderr.write('offset' in what ? `* resuming at byte ${what.offset} (prefix checked by ${what.how})\n` : `* starting over: ${what.restart}\n`);
}

/**
 * `transfers`: how many the command will make. The first data connection is opened with the login
 * (a one-shot process has no memory of the server: on trust) unless there is none to make; after
 * the last, none is opened in advance (it would only be made to be closed again: a round trip and a
 * port on the server).
 */
async function connect(t: Target, o: CliOptions, transfers: 'none' | 'one' | 'many' = 'one'): Promise<FtpClient> {
  return FtpClient.connect({
    ...t.options, passiveWithLogin: transfers === 'none' ? 'never' : 'always', passiveInAdvance: transfers === 'many', onEvent: o.verbose ? logEvent : undefined,
  });
}

async function run(argv: string[]): Promise<number> {
  const out = (text: string) => process.stdout.write(text + '\n');
  const line = parseCommandLine(argv);
  if (line.command === 'help') { out(USAGE); return 0; }
  // parseCommandLine checked the number of arguments each command takes.
  const { args, options: o } = line;
  const json = o.json;
  switch (line.command) {
    case 'ls': {
      const t = await target(args[0], o);
      const c = await connect(t, o);
      try {
        const entries = await c.list(t.path);
        // One write for the whole listing: a write a line is a system call a line.
        if (json) out(JSON.stringify(entries, null, 2));
        else if (entries.length > 0) out(entries.map((e) => `${e.type === 'directory' ? 'd' : e.type === 'symlink' ? 'l' : '-'} ${String(e.size).padStart(12)} ${e.mtime ? new Date(e.mtime).toISOString() : '-'.padEnd(24)} ${printable(e.name)}${e.target ? ` -> ${printable(e.target)}` : ''}`).join('\n'));
      } finally { await c.close(); }
      return 0;
    }
    case 'get': {
      const t = await target(args[0], o);
      const local = args[1];
      const c = await connect(t, o);
      try {
        const started = Date.now();
        let bytes: number;
        if (o.resume) {
          const { downloadResumable } = await import('./ftp/resume');
          const report = await downloadResumable(c, t.path, local === '.' ? basename(t.path) : local, { onResume: o.verbose ? tellResume : undefined });
          if (json) process.stderr.write(JSON.stringify({ ...report, ms: Date.now() - started, mode: c.lastMode }) + '\n');
          return 0;
        }
        if (local) {
          // Blocks written at the file's own position: a FIFO or device works as well as a file.
          bytes = await c.downloadToFile(t.path, local === '.' ? basename(t.path) : local);
        } else {
          bytes = await c.download(t.path, process.stdout);
        }
        if (json) process.stderr.write(JSON.stringify({ bytes, ms: Date.now() - started, mode: c.lastMode }) + '\n');
      } finally { await c.close(); }
      return 0;
    }
    case 'put': {
      const t = await target(args[1], o);
      const local = args[0];
      // Fail on a missing or unreadable file before connecting. A regular file goes in blocks (uploadFromFile), anything else as a stream.
      const regular = fs.statSync(local).isFile();
      fs.accessSync(local, fs.constants.R_OK);
      const source = regular ? undefined : fileSource(local);
      if (source) await new Promise<void>((resolve, reject) => { source.once('open', () => resolve()); source.once('error', reject); });
      const c = await connect(t, o);
      try {
        const started = Date.now();
        const remote = t.path.endsWith('/') ? t.path + basename(local) : t.path;
        if (o.resume) {
          if (source) throw new UsageError(`put: --resume needs a regular file, not ${local}`);
          const { uploadResumable } = await import('./ftp/resume');
          const report = await uploadResumable(c, local, remote, { onResume: o.verbose ? tellResume : undefined });
          if (json) out(JSON.stringify({ ...report, ms: Date.now() - started, mode: c.lastMode }));
          return 0;
        }
        const bytes = source ? await c.upload(remote, source) : await c.uploadFromFile(remote, local);
        if (json) out(JSON.stringify({ bytes, ms: Date.now() - started, mode: c.lastMode }));
      } finally { await c.close(); }
      return 0;
    }
    case 'rm': {
      const t = await target(args[0], o);
      const c = await connect(t, o, o.recursive ? 'many' : 'none');
      try {
        if (o.recursive) {
          const entry = await c.stat(t.path);
          if (entry.type === 'directory') await c.removeDir(t.path, { recursive: true }); else await c.remove(t.path);
        } else await c.remove(t.path);
      } finally { await c.close(); }
      return 0;
    }
    case 'mkdir': {
      const t = await target(args[0], o);
      const c = await connect(t, o, 'none');
      try { await c.mkdir(t.path, { recursive: true }); } finally { await c.close(); }
      return 0;
    }
    case 'chmod': {
      const mode = parseMode(args[0]) as number; // parseCommandLine checked it
      const t = await target(args[1], o);
      if (!o.recursive) {
        const c = await connect(t, o, 'none');
        try { await c.chmod(t.path, mode); } finally { await c.close(); }
        if (json) out(JSON.stringify({ changed: 1, failed: [], skippedLinks: 0 }));
        return 0;
      }
      // The walk of RemoteFs, the editor's own: folders listed and entries changed in parallel.
      const { RemoteFs } = await import('./remote/remoteFs');
      const pool = new ConnectionPool<FtpClient>((m, onEvent) => FtpClient.connect({ ...t.options, mode: m, onEvent: (e) => { onEvent(e); if (o.verbose) logEvent(e); } }), { maxConnections: o.parallel ?? defaults.poolSize, mode: t.options.mode });
      try {
        const result = await new RemoteFs(pool, { cacheTtlMs: 0 }).chmodTree(t.path, { fileMode: mode, dirMode: mode });
        if (json) out(JSON.stringify({ changed: result.changed, failed: result.failed.map((f) => ({ path: f.path, error: f.error.message })), skippedLinks: result.skippedLinks }));
        else for (const f of result.failed) process.stderr.write(`ftp-workspace: ${printable(f.path)}: ${f.error.message}\n`);
        return result.failed.length > 0 ? 1 : 0;
      } finally { await pool.close(); }
    }
    case 'diagnose': {
      const t = await target(args[0], o);
      const d = await diagnose({ ...t.options, earlyConnection: undefined, onEvent: o.verbose ? logEvent : undefined }, {
        onStep: json ? undefined : (s) => process.stderr.write(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name}: ${s.ms} ms, ${s.detail}\n`),
      });
      out(json ? JSON.stringify(d, null, 2) : formatDiagnosis(d));
      return d.recommendation ? 0 : 1;
    }
    case 'find': {
      const { runFind } = await import('./cliSearch');
      return runFind(await target(args[0], o), o, searchIo(o));
    }
    case 'grep': {
      // As grep: any trouble (a bad pattern, an unreachable server) exits 2, never 1 (= no match).
      try {
        const { runGrep } = await import('./cliSearch');
        return await runGrep(args[0], await target(args[1], o), o, searchIo(o));
      } catch (err) {
        if (err instanceof UsageError) throw err;
        process.stderr.write(`ftp-workspace: ${(err as Error)?.message ?? String(err)}\n`);
        return 2;
      }
    }
  }
}

// `ftp-workspace ls … | head`: the reader has gone, so the rest is not wanted. Stop quietly, as
// Unix tools do, instead of a stack trace for the EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
function searchIo(o: CliOptions): CliIo {
  return {
    out: (text) => process.stdout.write(text + '\n'),
    err: (text) => process.stderr.write(text + '\n'),
    printable,
    logEvent: o.verbose ? logEvent : undefined,
  };
}

/**
 * Ends the process once stdout and stderr have taken everything written to them (a pipe may be
 * asynchronous: macOS). A one-shot command has nothing else left by then — its connections are
 * closed, its files written — and letting Node wind down by itself, freeing the heap page by page,
 * added ~8 ms to every command. The 'exit' handlers (the server memory, the code cache) still run.
 */
function exitWhenWritten(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const written = () => { if (--pending === 0) process.exit(code); };
  process.stdout.write('', written);
  process.stderr.write('', written);
}

run(process.argv.slice(2)).then(exitWhenWritten, (err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`ftp-workspace: ${err.message}\n${err.usage ? `\n${err.usage}` : ''}`);
    exitWhenWritten(2);
  } else if (err instanceof FtpError || err instanceof QueryError) {
    process.stderr.write(`ftp-workspace: ${err.message}\n`);
    exitWhenWritten(1);
  } else {
    process.stderr.write(`ftp-workspace: ${(err as Error)?.message ?? String(err)}\n`);
    exitWhenWritten(1);
  }
});

