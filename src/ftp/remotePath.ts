/**
 * Paths on the FTP server: always POSIX style and absolute from the login root. Kept apart from
 * Node's `path`, whose behaviour follows the local OS (backslashes on Windows).
 */
import { randomBytes } from 'node:crypto';
import { FtpError } from './errors';

/** Absolute, no empty/`.`/`..` segments, no trailing slash; `..` stops at the root. */
export function normalize(p: string): string {
  const out: string[] = [];
  for (const segment of p.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return '/' + out.join('/');
}

/** Joins the parts with `/` and normalizes; a later absolute part does not reset the path. */
export function join(...parts: string[]): string {
  return normalize(parts.join('/'));
}

/** Parent folder; the root is its own parent. */
export function dirname(p: string): string {
  const n = normalize(p);
  const slash = n.lastIndexOf('/');
  return slash <= 0 ? '/' : n.slice(0, slash);
}

/** Last segment; empty for the root. */
export function basename(p: string): string {
  const n = normalize(p);
  return n.slice(n.lastIndexOf('/') + 1);
}

/** Shows control characters as escapes so a user can see what is wrong with the name. */
function escapeForMessage(p: string): string {
  let out = '';
  for (const ch of p) {
    const c = ch.charCodeAt(0);
    if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\0') out += '\\0';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out;
}

/**
 * Refuses a path that cannot be sent on the control connection: CR or LF would end the command
 * and let the rest run as another one (command injection); NUL truncates it on most servers.
 * Returns the path unchanged so it can be used inline.
 */
export function assertSafePath(p: string): string {
  const hasBreak = p.includes('\n') || p.includes('\r');
  const hasNul = p.includes('\0');
  if (hasBreak || hasNul) {
    const what = hasBreak ? 'line breaks' : 'NUL characters';
    throw new FtpError('invalid-name', `File names containing ${what} cannot be used over FTP: "${escapeForMessage(p)}"`);
  }
  return p;
}

/** Most servers' file systems cap a name at 255 bytes. */
const MAX_NAME_BYTES = 255;
const TEMP_SUFFIX_BYTES = '.ftpw-'.length + 12 + '.tmp'.length;

/** Longest prefix of `s`, on code point boundaries, that fits in `max` UTF-8 bytes. */
function truncateUtf8(s: string, max: number): string {
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    bytes += Buffer.byteLength(ch);
    if (bytes > max) break;
    out += ch;
  }
  return out;
}

/**
 * A hidden, unique sibling of `path` to upload into before renaming it onto `path`, so a failed
 * or interrupted save never leaves a half-written file under the real name:
 * `/dir/name.txt` → `/dir/.name.txt.ftpw-1a2b3c4d5e6f.tmp`. Long names are shortened to keep
 * the result within 255 bytes.
 */
export function tempNameFor(path: string): string {
  const name = basename(path);
  if (name === '') throw new FtpError('invalid-name', 'The root folder has no name to save under.');
  const stem = truncateUtf8(name, MAX_NAME_BYTES - 1 - TEMP_SUFFIX_BYTES);
  return join(dirname(path), `.${stem}.ftpw-${randomBytes(6).toString('hex')}.tmp`);
}
