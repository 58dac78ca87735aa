/**
 * The `ftp-workspace` command line, parsed without side effects: node:util parseArgs in strict
 * mode, with each command's own options. An unknown option, a missing value or a bad one is a
 * UsageError (exit 2) — never ignored, since `--mdoe active` silently running passive is worse
 * than no run at all.
 */
import * as net from 'node:net';
import { AUTO_ENCODING, COMMON_ENCODINGS, charsetProblem } from './ftp/charset';
import { COMMANDS, OPTIONS, readCommandLine, type CommandName, type OptionName } from './commandTable';
import { parseProxyUrl } from './ftp/proxy';
import type { DataMode, ProxySettings } from './ftp/types';
import * as defaults from './ftp/defaults';
import { modeProblem, parseMode } from './ftp/permissions';
import { parsePortRange } from './ftp/portRange';
import { parseTimeZoneOffset } from './ftp/timeZone';

export type { CommandName } from './commandTable';

export const USAGE = `Usage: ftp-workspace <command> [options]

Commands:
  ls <url>                     list a folder
  get <url> [local-file]       download (to stdout without a file)
  put <local-file> <url>       upload
  rm <url>                     delete a file (a folder with --recursive)
  mkdir <url>                  create a folder (and its parents)
  chmod <mode> <url>           set permissions (SITE CHMOD): 644, 0755 or rwxr-xr-x; a folder's
                               contents too with --recursive
  diagnose <url>               try login, TLS, EPSV, PASV, EPRT and PORT; recommend a mode
  find <url>                   every file under a folder, one path a line (relative to it)
  grep <pattern> <url>         search the text of every file under a folder: path:line:text;
                               exit 0 with matches, 1 without, 2 on an error (as grep)
  help                         this text (also -h, --help)

URLs: ftp://user@host[:port]/path, ftps://… for explicit TLS (--implicit-tls for implicit).
Password from FTP_PASSWORD, else asked on the terminal.
Proxy password from FTP_PROXY_PASSWORD, else asked on the terminal when the proxy URL names a user.

Options:
  --mode passive|active|auto   data-channel mode (default ${defaults.dataMode}; not for diagnose, which tries all)
  --active-address A           IP address to advertise in EPRT/PORT (NAT with port forwarding)
  --active-ports LOW-HIGH      port range to listen on in active mode
  --trust-pasv-address         connect to the address in PASV replies instead of the control peer
  --disable-epsv               passive mode with PASV only (servers or routers that mishandle EPSV)
  --disable-eprt               active mode with PORT only (servers or routers that mishandle EPRT)
  --encoding NAME              charset of file names on the server: auto (default) or e.g.
                               ${COMMON_ENCODINGS.join(', ')}
  --time-zone-offset OFFSET    the server's zone for LIST times, e.g. +02:00, =-05:30 or UTC-05:30
                               (default: detected from one file's MDTM, else UTC)
  --proxy URL                  connect through a proxy: socks5://[user@]host:port (passive and
                               active mode, via BIND) or http://[user@]host:port (HTTP CONNECT,
                               passive only); the server's name is resolved by the proxy
  --implicit-tls               implicit FTPS (TLS from the first byte, usually port ${defaults.implicitFtpsPort})
  --insecure                   accept any TLS certificate
  --timeout SECONDS            connect/reply timeout (default ${defaults.connectTimeoutMs / 1000}/${defaults.replyTimeoutMs / 1000})
  --recursive                  rm: delete folders with their contents; chmod: set everything in a folder
  --parallel N                 chmod --recursive: connections at once (default ${defaults.poolSize})
  --resume                     get, put: go on from a partial copy (the other side's prefix, checked
                               by checksum or by reading back the bytes before it), and after a
                               dropped connection (files from ${defaults.resumeThresholdBytes / 1024 / 1024} MiB)
  --name GLOB                  find: only files whose name matches (repeatable; e.g. '*.php')
  --include GLOB               grep: only files whose path matches (repeatable; '*.ts', 'src/**')
  --exclude GLOB               find, grep: leave out matching files and folders (repeatable)
  --regex                      grep: the pattern is a JavaScript regular expression (default: literal text)
  --ignore-case                grep: match without regard to case
  --word                       grep: match whole words only
  --max-size BYTES             grep: skip larger files (default ${defaults.searchMaxFileSize}); binary files are always skipped
  --cache-dir DIR              grep: keep downloaded files there; the next grep downloads only changed files
  --connections N              find, grep: most connections at once (default ${defaults.searchCliConnections})
  --verbose                    protocol log on stderr (password masked)
  --json                       machine-readable output (ls, get, put, diagnose; find and grep: one JSON object a line)

An unknown option, a missing or bad value exits with 2.
`;

export interface CliOptions {
  mode?: DataMode;
  activeAddress?: string;
  activePortRange?: [number, number];
  trustPasvAddress: boolean;
  disableEpsv: boolean;
  disableEprt: boolean;
  /** A charset iconv-lite knows; undefined for auto. */
  encoding?: string;
  /** Minutes east of UTC. */
  timeZoneOffsetMinutes?: number;
  /** Without its password, which comes from FTP_PROXY_PASSWORD or the terminal. */
  proxy?: ProxySettings;
  implicitTls: boolean;
  insecure: boolean;
  timeoutMs?: number;
  recursive: boolean;
  /** chmod --recursive: connections at once. */
  parallel?: number;
  /** get/put: resumable (see src/ftp/resume.ts). */
  resume?: boolean;
  verbose: boolean;
  json: boolean;
  /** find --name, grep --include, find/grep --exclude: globs. */
  names: string[];
  include: string[];
  exclude: string[];
  regex: boolean;
  ignoreCase: boolean;
  word: boolean;
  maxSize?: number;
  cacheDir?: string;
  connections?: number;
}

export type CommandLine =
  | { command: 'help' }
  | { command: CommandName; args: string[]; options: CliOptions };

/** A mistake in the command line; `usage` is what to print after the message. */
export class UsageError extends Error {
  constructor(message: string, readonly usage?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The usage of one command: its arguments and the options it takes. */
export function commandUsage(command: CommandName): string {
  const spec = COMMANDS[command];
  const options = spec.options.map((o) => (OPTIONS[o] ? `--${o} ${OPTIONS[o]}` : `--${o}`)).join(', ');
  return `Usage: ftp-workspace ${command} ${spec.args} [options]\nOptions for ${command}: ${options}\nRun "ftp-workspace help" for what each does.\n`;
}

/** Parses `argv` (without node and the script); throws UsageError for anything it cannot take. */
export function parseCommandLine(argv: string[]): CommandLine {
  const read = readCommandLine(argv);
  if ('problem' in read) throw new UsageError(read.command ? `${read.command}: ${read.problem}` : read.problem, read.command ? commandUsage(read.command) : USAGE);
  if (read.command === 'help') return { command: 'help' };
  const { command, values, positionals } = read;
  const usage = commandUsage(command);
  const str = (name: OptionName): string | undefined => (typeof values[name] === 'string' ? values[name] : undefined);
  const bool = (name: OptionName): boolean => values[name] === true;
  const list = (name: OptionName): string[] => {
    const v = values[name];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  };
  const bad: (message: string) => never = (message) => { throw new UsageError(`${command}: ${message}`, usage); };

  const options: CliOptions = {
    trustPasvAddress: bool('trust-pasv-address'),
    disableEpsv: bool('disable-epsv'),
    disableEprt: bool('disable-eprt'),
    implicitTls: bool('implicit-tls'),
    insecure: bool('insecure'),
    recursive: bool('recursive'),
    verbose: bool('verbose'),
    json: bool('json'),
    names: list('name'),
    include: list('include'),
    exclude: list('exclude'),
    regex: bool('regex'),
    ignoreCase: bool('ignore-case'),
    word: bool('word'),
  };
  const maxSize = str('max-size');
  if (maxSize !== undefined) {
    if (!/^\d+$/.test(maxSize.trim())) bad(`--max-size must be a number of bytes, not "${maxSize}"`);
    options.maxSize = Number(maxSize);
  }
  const cacheDir = str('cache-dir');
  if (cacheDir !== undefined) {
    if (cacheDir.trim() === '') bad('--cache-dir needs a folder');
    options.cacheDir = cacheDir;
  }
  const connections = str('connections');
  if (connections !== undefined) {
    const n = /^\d+$/.test(connections.trim()) ? Number(connections) : NaN;
    if (!(n >= 1 && n <= defaults.searchMaxConnections)) bad(`--connections must be a whole number from 1 to ${defaults.searchMaxConnections}, not "${connections}"`);
    options.connections = n;
  }
  const mode = str('mode');
  if (mode !== undefined) {
    if (mode !== 'passive' && mode !== 'active' && mode !== 'auto') bad(`--mode must be passive, active or auto, not "${mode}"`);
    options.mode = mode;
  }
  const address = str('active-address');
  if (address !== undefined) {
    // It goes into EPRT/PORT as it is: a host name would make a command the server cannot use.
    if (!net.isIP(address)) bad(`--active-address must be an IPv4 or IPv6 address, not "${address}"`);
    options.activeAddress = address;
  }
  const ports = str('active-ports');
  if (ports !== undefined) {
    // The same rule as the activePortRange setting.
    try { options.activePortRange = parsePortRange(ports); } catch (e) { bad(`--active-ports: ${(e as Error).message}`); }
    if (!options.activePortRange) bad('--active-ports must look like 50000-50100');
  }
  const encoding = str('encoding');
  if (encoding !== undefined && encoding.toLowerCase() !== AUTO_ENCODING) {
    // Checked here, before connecting: a charset typo must not write names in the wrong bytes.
    const problem = charsetProblem(encoding);
    if (problem) bad(`--encoding: ${problem}`);
    options.encoding = encoding;
  }
  const zone = str('time-zone-offset');
  if (zone !== undefined) {
    // The same rule as the timeZoneOffset setting; "" would mean "detect", which is the default anyway.
    try { options.timeZoneOffsetMinutes = parseTimeZoneOffset(zone); } catch (e) { bad(`--time-zone-offset: ${(e as Error).message}`); }
    if (options.timeZoneOffsetMinutes === undefined) bad('--time-zone-offset must look like +02:00 or -05:30');
  }
  const proxy = str('proxy');
  if (proxy !== undefined) {
    try { options.proxy = parseProxyUrl(proxy); } catch (e) { bad(`--proxy: ${(e as Error).message}`); }
    // A password on the command line is seen by every user of the machine (ps).
    if (options.proxy?.password !== undefined) bad('--proxy: put no password in the URL — set FTP_PROXY_PASSWORD (or type it when asked)');
  }
  const timeout = str('timeout');
  if (timeout !== undefined) {
    const seconds = /^\d+(\.\d+)?$/.test(timeout.trim()) ? Number(timeout) : NaN;
    if (!(seconds > 0)) bad(`--timeout must be a number of seconds above 0, not "${timeout}"`);
    options.timeoutMs = seconds * 1000;
  }
  if (bool('resume')) {
    // A resumed download writes into a file at an offset: stdout cannot be one.
    if (command === 'get' && (positionals[1] === undefined || positionals[1] === '-')) bad('--resume needs a local file to go on from');
    options.resume = true;
  }
  const parallel = str('parallel');
  if (parallel !== undefined) {
    const n = /^\d+$/.test(parallel.trim()) ? Number(parallel) : NaN;
    if (!(n >= 1 && n <= defaults.poolMaxSize)) bad(`--parallel must be a whole number from 1 to ${defaults.poolMaxSize}, not "${parallel}"`);
    options.parallel = n;
  }
  // Checked here, before connecting: "chmod 648" must not reach the server as something else.
  if (command === 'chmod' && parseMode(positionals[0]) === undefined) bad(`"${positionals[0]}" is not a permission mode: ${modeProblem(positionals[0])}`);
  return { command, args: positionals, options };
}
