/**
 * Typed errors of the FTP core. Every failure that reaches a caller is an FtpError, so the
 * VS Code side can map it to a FileSystemError and the CLI to a one-line message.
 * The password never appears here: commands are stored already masked.
 */
import type { DataMode } from './types';

export type FtpErrorKind =
  | 'not-found'        // 550 on a path that does not exist
  | 'permission'       // 550/553 permission denied, 532
  | 'exists'           // target exists where it must not
  | 'login'            // 530 on USER/PASS/ACCT, 332 without account
  | 'connection-lost'  // control connection closed or 421 mid-operation
  | 'connect'          // could not reach the server (DNS, refused, unreachable)
  | 'proxy'            // the proxy failed: down, refused our credentials or the server (ProxyError)
  | 'data-channel'     // data connection could not be opened or broke, in `mode`
  | 'tls'              // handshake, certificate, PROT P refused
  | 'timeout'          // connect, reply, accept or idle timeout
  | 'busy'             // too many connections (421 at greeting, 530 "too many")
  | 'protocol'         // malformed or oversized reply, unexpected code
  | 'unsupported'      // 500/502/504 for a command we need
  | 'invalid-name'     // CR/LF/NUL in a path: refused before reaching the wire
  | 'cancelled'        // caller aborted
  | 'server';          // any other 4xx/5xx

export interface FtpErrorDetails {
  code?: number;
  replyText?: string;
  command?: string;
  mode?: DataMode;
  cause?: unknown;
}

export class FtpError extends Error {
  readonly kind: FtpErrorKind;
  /** FTP reply code, when the failure came from a reply. */
  readonly code?: number;
  /** The server's reply text (all lines joined with \n). */
  readonly replyText?: string;
  /** The command that failed, with any secret masked (e.g. "PASS ****"). */
  readonly command?: string;
  /** For data-channel failures: the mode that failed. */
  readonly mode?: DataMode;

  constructor(kind: FtpErrorKind, message: string, details: FtpErrorDetails = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'FtpError';
    this.kind = kind;
    this.code = details.code;
    this.replyText = details.replyText;
    this.command = details.command;
    this.mode = details.mode;
  }
}

export function isFtpError(e: unknown, kind?: FtpErrorKind): e is FtpError {
  return e instanceof FtpError && (kind === undefined || e.kind === kind);
}

/** What the failed command was doing, which decides how an ambiguous 550 is read. */
export type CommandContext = 'path-read' | 'path-write' | 'login' | 'tls' | 'data' | 'other';

const NOT_FOUND = /ENOENT|no such|not found|not exist|doesn.?t exist|can.?t find|cannot find|unknown file|failed to open file|could not get file|can.?t check for file existence/i;
const DENIED = /permission|denied|not allowed|access|forbidden|read-?only|refused|not authori[sz]ed/i;
const BUSY = /too many|maximum|max\b|limit|busy|try again later|already logged/i;

/**
 * The reply's own words, without the path the command named: proftpd and pure-ftpd echo it
 * ("550 /logs/access.log: No such file or directory"), and a file called access.log or
 * denied.txt must not read as "permission denied". The full path is removed wherever it appears,
 * its last segment where it stands as "name: reason".
 */
function reasonIn(message: string, command: string): string {
  const sp = command.indexOf(' ');
  const path = sp < 0 ? '' : command.slice(sp + 1);
  if (!path) return message;
  let reason = message.split(path).join(' ');
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name) reason = reason.replace(new RegExp(`(^|[\\s"'(])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:`, 'g'), '$1:');
  return reason;
}

/** Turns a negative reply into a typed error; `command` must already be masked. */
export function errorFromReply(reply: { code: number; message: string; text: string }, command: string, context: CommandContext = 'other'): FtpError {
  const details = { code: reply.code, replyText: reply.text, command };
  const said = `${reply.code} ${reply.message}`;
  const base = command.split(' ')[0];
  const reason = reasonIn(reply.message, command);
  const kind = ((): FtpErrorKind => {
    if (reply.code === 421) return context === 'login' || BUSY.test(reason) ? 'busy' : 'connection-lost';
    if (context === 'tls' && reply.code >= 400) return 'tls';
    if (reply.code === 530 || reply.code === 332) {
      if (BUSY.test(reason)) return 'busy';
      return context === 'login' ? 'login' : 'permission';
    }
    if (reply.code === 425) return 'data-channel';
    if (reply.code === 426) return 'connection-lost';
    if (context === 'login') return 'server';
    if (reply.code === 500 || reply.code === 502 || reply.code === 504) return 'unsupported';
    if (reply.code === 532 || reply.code === 553) return DENIED.test(reason) || reply.code === 532 ? 'permission' : 'server';
    if (reply.code === 550 || reply.code === 450 || ((reply.code === 451 || reply.code === 551) && NOT_FOUND.test(reason))) {
      if (DENIED.test(reason)) return 'permission';
      if (NOT_FOUND.test(reason)) return 'not-found';
      // Unworded, only 550 ("file unavailable") to a read means the path is not there; 450 is
      // "file busy, try later": read as "not found", a busy folder's listing would look like none.
      if (reply.code === 550 && context === 'path-read') return 'not-found';
      if (/exists/i.test(reason)) return 'exists';
      return 'server';
    }
    return 'server';
  })();
  const what: Record<FtpErrorKind, string> = {
    'not-found': 'not found',
    permission: 'permission denied',
    exists: 'already exists',
    login: 'login failed',
    'connection-lost': 'the server closed the connection',
    connect: 'could not connect',
    proxy: 'the proxy failed',
    'data-channel': 'the data connection failed',
    tls: 'TLS was refused',
    timeout: 'timed out',
    busy: 'the server is busy or has too many connections',
    protocol: 'protocol error',
    unsupported: 'the server does not support this command',
    'invalid-name': 'invalid name',
    cancelled: 'cancelled',
    server: 'the server refused',
  };
  return new FtpError(kind, `${base}: ${what[kind]} (${said})`, details);
}
