/**
 * ftp-workspace: the extension's FTP core on the command line, for diagnosis, benchmarks and scripts.
 *   ftp-workspace ls|get|put|rm|mkdir|diagnose URL … [--mode passive|active|auto] …
 */
import { FtpClient } from './ftp/client';
import * as defaults from './ftp/defaults';
import { diagnose, formatDiagnosis } from './ftp/diagnose';
import { FtpError } from './ftp/errors';
import { formatEvent, type LogLevel } from './ftp/eventText';
import type { ConnectOptions, DataMode, FtpEvent } from './ftp/types';
import * as fs from 'node:fs';
import { fileSource } from './ftp/localFile';
import { basename } from './ftp/remotePath';

const USAGE = `Usage: ftp-workspace <command> [options]

Commands:
  ls <url>                     list a folder
  get <url> [local-file]       download (to stdout without a file)
  put <local-file> <url>       upload
  rm <url>                     delete a file (a folder with --recursive)
  mkdir <url>                  create a folder (and its parents)
  diagnose <url>               try login, TLS, EPSV, PASV, EPRT and PORT; recommend a mode

URLs: ftp://user@host[:port]/path, ftps://… for explicit TLS (--implicit-tls for implicit).
Password from FTP_PASSWORD, else asked on the terminal.

Options:
  --mode passive|active|auto   data-channel mode (default ${defaults.dataMode})
  --active-address A           address to advertise in EPRT/PORT (NAT with port forwarding)
  --active-ports LOW-HIGH      port range to listen on in active mode
  --trust-pasv-address         connect to the address in PASV replies instead of the control peer
  --implicit-tls               implicit FTPS (TLS from the first byte, usually port ${defaults.implicitFtpsPort})
  --insecure                   accept any TLS certificate
  --timeout SECONDS            connect/reply timeout (default ${defaults.connectTimeoutMs / 1000}/${defaults.replyTimeoutMs / 1000})
  --recursive                  rm: delete folders with their contents
  --verbose                    protocol log on stderr (password masked)
  --json                       machine-readable output
`;

interface Args {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['mode', 'active-address', 'active-ports', 'timeout']);

function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) flags.set(name, a.slice(eq + 1));
      else if (VALUE_FLAGS.has(name)) {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
        flags.set(name, argv[++i]);
      } else flags.set(name, true);
    } else positional.push(a);
  }
  return { command: positional.shift() ?? '', positional, flags };
}

class UsageError extends Error {}

interface Target { options: ConnectOptions; path: string }

async function target(url: string, args: Args): Promise<Target> {
  let u: URL;
  try { u = new URL(url); } catch { throw new UsageError(`not a URL: ${url}`); }
  if (u.protocol !== 'ftp:' && u.protocol !== 'ftps:') throw new UsageError(`only ftp:// and ftps:// URLs are supported: ${url}`);
  const implicit = args.flags.has('implicit-tls');
  const security = implicit ? 'implicit' : u.protocol === 'ftps:' ? 'explicit' : 'none';
  const mode = (args.flags.get('mode') ?? 'auto') as DataMode;
  if (!['passive', 'active', 'auto'].includes(mode)) throw new UsageError(`--mode must be passive, active or auto`);
  const user = decodeURIComponent(u.username) || 'anonymous';
  let password = u.password ? decodeURIComponent(u.password) : process.env.FTP_PASSWORD;
  if (password === undefined && user !== 'anonymous') password = await askPassword(`Password for ${user}@${u.hostname}: `);
  const ports = args.flags.get('active-ports');
  let activePortRange: [number, number] | undefined;
  if (typeof ports === 'string') {
    const m = /^(\d+)-(\d+)$/.exec(ports);
    if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535) throw new UsageError('--active-ports must look like 50000-50100');
    activePortRange = [Number(m[1]), Number(m[2])];
  }
  const timeout = args.flags.get('timeout');
  const t = typeof timeout === 'string' ? Number(timeout) * 1000 : undefined;
  const options: ConnectOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : undefined,
    user, password, security, mode,
    activeAddress: strFlag(args, 'active-address'),
    activePortRange,
    trustPasvAddress: args.flags.has('trust-pasv-address'),
    tls: { rejectUnauthorized: !args.flags.has('insecure') },
    connectTimeoutMs: t, replyTimeoutMs: t,
  };
  return { options, path: decodeURIComponent(u.pathname || '/') || '/' };
}

/** A server-chosen name must not drive the terminal: control characters are shown escaped. */
function printable(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function strFlag(args: Args, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

async function askPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('no password: set FTP_PASSWORD or run on a terminal');
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

async function connect(t: Target, args: Args): Promise<FtpClient> {
  return FtpClient.connect({ ...t.options, onEvent: args.flags.has('verbose') ? logEvent : undefined });
}

async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const json = args.flags.has('json');
  const out = (text: string) => process.stdout.write(text + '\n');
  const need = (n: number) => { if (args.positional.length < n) throw new UsageError(`${args.command}: missing argument\n\n${USAGE}`); };
  switch (args.command) {
    case 'ls': {
      need(1);
      const t = await target(args.positional[0], args);
      const c = await connect(t, args);
      try {
        const entries = await c.list(t.path);
        if (json) out(JSON.stringify(entries, null, 2));
        else for (const e of entries) out(`${e.type === 'directory' ? 'd' : e.type === 'symlink' ? 'l' : '-'} ${String(e.size).padStart(12)} ${e.mtime ? new Date(e.mtime).toISOString() : '-'.padEnd(24)} ${printable(e.name)}${e.target ? ` -> ${printable(e.target)}` : ''}`);
      } finally { await c.close(); }
      return 0;
    }
    case 'get': {
      need(1);
      const t = await target(args.positional[0], args);
      const local = args.positional[1];
      const c = await connect(t, args);
      try {
        const started = Date.now();
        let bytes: number;
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
      need(2);
      const t = await target(args.positional[1], args);
      const local = args.positional[0];
      // Fail on a missing or unreadable file before connecting. A regular file goes in blocks (uploadFromFile), anything else as a stream.
      const regular = fs.statSync(local).isFile();
      fs.accessSync(local, fs.constants.R_OK);
      const source = regular ? undefined : fileSource(local);
      if (source) await new Promise<void>((resolve, reject) => { source.once('open', () => resolve()); source.once('error', reject); });
      const c = await connect(t, args);
      try {
        const started = Date.now();
        const remote = t.path.endsWith('/') ? t.path + basename(local) : t.path;
        const bytes = source ? await c.upload(remote, source) : await c.uploadFromFile(remote, local);
        if (json) out(JSON.stringify({ bytes, ms: Date.now() - started, mode: c.lastMode }));
      } finally { await c.close(); }
      return 0;
    }
    case 'rm': {
      need(1);
      const t = await target(args.positional[0], args);
      const c = await connect(t, args);
      try {
        if (args.flags.has('recursive')) {
          const entry = await c.stat(t.path);
          if (entry.type === 'directory') await c.removeDir(t.path, { recursive: true }); else await c.remove(t.path);
        } else await c.remove(t.path);
      } finally { await c.close(); }
      return 0;
    }
    case 'mkdir': {
      need(1);
      const t = await target(args.positional[0], args);
      const c = await connect(t, args);
      try { await c.mkdir(t.path, { recursive: true }); } finally { await c.close(); }
      return 0;
    }
    case 'diagnose': {
      need(1);
      const t = await target(args.positional[0], args);
      const d = await diagnose({ ...t.options, onEvent: args.flags.has('verbose') ? logEvent : undefined }, {
        onStep: json ? undefined : (s) => process.stderr.write(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name}: ${s.ms} ms, ${s.detail}\n`),
      });
      out(json ? JSON.stringify(d, null, 2) : formatDiagnosis(d));
      return d.recommendation ? 0 : 1;
    }
    case '':
    case 'help':
    case '--help':
      out(USAGE);
      return args.command === '' ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${args.command}"\n\n${USAGE}`);
  }
}

run(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`ftp-workspace: ${err.message}\n`);
    process.exitCode = 2;
  } else if (err instanceof FtpError) {
    process.stderr.write(`ftp-workspace: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`ftp-workspace: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 1;
  }
});

