/**
 * The command line's connection to the server, started by the launcher (dist/cli.js) before it
 * loads the rest of the command line: the TCP handshake and the server's greeting (two round trips)
 * then overlap the ~20 ms of reading, decoding and running the 0.8 MB bundle, instead of following
 * them. The command line proper takes the socket over for its first control connection
 * (ConnectOptions.earlyConnection); one nobody takes is closed when the process exits.
 *
 * Only for a command line that will connect at once, straight to the server: read by the same table
 * as the parser (a mistake in it connects nothing), which says which argument is the URL; not for
 * diagnose, which times the connection from its start; no proxy (the proxy connects, not us); no
 * password to ask (a server drops a client that stays silent while a person types); `put` of a
 * local file that is there. Anything else starts nothing and connects as it always did.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { COMMANDS, readCommandLine } from './commandTable';
import { defaultPort } from './ftp/defaults';
import type { Security } from './ftp/types';

/** Between the launcher's bundle and the command line's: one process, two copies of this module. */
const KEY = Symbol.for('ftp-workspace.early-connection');

interface Early { host: string; port: number; socket: net.Socket }

type Holder = { [KEY]?: Early };

/** The server a command-line URL names (ftp:// or ftps://), as the command line connects to it. */
export function serverOfUrl(u: URL, implicitTls: boolean): { host: string; port: number; security: Security } {
  const security: Security = implicitTls ? 'implicit' : u.protocol === 'ftps:' ? 'explicit' : 'none';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { host, port: u.port ? Number(u.port) : defaultPort(security), security };
}

/** The login a URL gives: its user (anonymous without one) and password, else FTP_PASSWORD; undefined: to be asked. */
export function loginOfUrl(u: URL, env: NodeJS.ProcessEnv): { user: string; password?: string } {
  const user = decodeURIComponent(u.username) || 'anonymous';
  return { user, password: u.password ? decodeURIComponent(u.password) : env.FTP_PASSWORD };
}

/**
 * Where the command line `argv` (without node and the script) will connect first, when it is
 * known before parsing it in full and nothing has to happen before; undefined otherwise.
 */
export function earlyTarget(argv: readonly string[], env: NodeJS.ProcessEnv, isFile: (path: string) => boolean): { host: string; port: number } | undefined {
  const read = readCommandLine(argv);
  // A mistake in the command line is reported without connecting (a bad value of a known option
  // is found later, by commandLine.ts: the connection is then closed having sent nothing).
  if ('problem' in read || read.command === 'help' || read.values.proxy !== undefined) return undefined;
  // diagnose times its login from the connect on.
  if (read.command === 'diagnose') return undefined;
  const { command, positionals: args } = read;
  const names = COMMANDS[command].args.split(' ');
  const url = args[names.indexOf('<url>')];
  if (url === undefined) return undefined;
  let u: URL;
  try { u = new URL(url); } catch { return undefined; }
  if (u.protocol !== 'ftp:' && u.protocol !== 'ftps:') return undefined;
  const login = loginOfUrl(u, env);
  if (login.password === undefined && login.user !== 'anonymous') return undefined;
  if (command === 'put' && !isFile(args[names.indexOf('<local-file>')])) return undefined;
  const { host, port } = serverOfUrl(u, read.values['implicit-tls'] === true);
  return host && Number.isInteger(port) && port > 0 && port < 65536 ? { host, port } : undefined;
}

/** The launcher: connects to the server of this process's command line, if it names one; true if it did. */
export function startEarlyConnection(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  let target: { host: string; port: number } | undefined;
  let socket: net.Socket;
  try {
    target = earlyTarget(argv, env, (p) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false);
    if (!target) return false;
    socket = net.connect(target);
  } catch {
    // A URL's broken %-escape, a local path that cannot be looked at: the command line proper
    // reports it, in its own words.
    return false;
  }
  // Until it is taken: an error only marks it as unusable (the command line then connects anew and
  // reports what that connect meets), and it keeps no process alive.
  socket.on('error', () => undefined);
  socket.unref();
  (globalThis as Holder)[KEY] = { ...target, socket };
  return true;
}

/**
 * The socket the launcher started to host:port, once: connected or still connecting, with whatever
 * the server sent since buffered in it. Undefined if there is none for that server, or it failed.
 */
export function takeEarlyConnection(host: string, port: number): net.Socket | undefined {
  const holder = globalThis as Holder;
  const early = holder[KEY];
  if (!early || early.host !== host || early.port !== port) return undefined;
  delete holder[KEY];
  if (early.socket.destroyed) return undefined;
  early.socket.removeAllListeners('error');
  early.socket.ref();
  return early.socket;
}
