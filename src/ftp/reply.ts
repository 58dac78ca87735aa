/**
 * FTP reply parsing (RFC 959 §4.2): single- and multi-line replies from a byte stream.
 * Sizes are bounded so a hostile server cannot exhaust memory with an endless line or reply.
 */
import { FtpError } from './errors';

export interface Reply {
  code: number;
  /** All lines of the reply joined with '\n', codes included, e.g. "211-Features:\n EPSV\n211 End". */
  text: string;
  /** The text of the reply without the leading code on the first and last line, for messages. */
  message: string;
}

export const MAX_LINE_BYTES = 16 * 1024;
export const MAX_REPLY_BYTES = 256 * 1024;
export const MAX_REPLY_LINES = 4096;

export function isPreliminary(r: Reply): boolean { return r.code >= 100 && r.code < 200; }
export function isPositive(r: Reply): boolean { return r.code >= 200 && r.code < 400; }

/**
 * Incremental parser: feed it chunks, it returns the replies completed so far.
 * Tolerates bare LF line endings (some embedded servers) and decodes lines with `decode` (UTF-8
 * unless the session's file-name charset says otherwise: PWD, MLST and 550 replies carry names).
 */
export class ReplyParser {
  /** Lines are split on the LF byte first: no charset a session may use has 0x0A inside a character. */
  decode: (line: Buffer) => string = (line) => line.toString('utf8');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lines: string[] = [];
  private replyBytes = 0;
  private code = 0;
  /** Replies of later commands found inside FEAT's, handed out right after it. */
  private interleaved: Reply[] = [];

  push(chunk: Buffer): Reply[] {
    const out: Reply[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      let piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.pendingBytes > 0) {
        piece = Buffer.concat([...this.pending, piece]);
        this.pending = [];
        this.pendingBytes = 0;
      }
      if (piece.length > MAX_LINE_BYTES) throw tooLong('line');
      const end = piece.length > 0 && piece[piece.length - 1] === 0x0d ? piece.length - 1 : piece.length;
      // Counted in bytes as received (line end included): the decoded length undercounts multi-byte text.
      const reply = this.line(this.decode(piece.subarray(0, end)), piece.length + 1);
      if (reply) out.push(reply, ...this.interleaved.splice(0));
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > MAX_LINE_BYTES) throw tooLong('line');
      this.pending.push(Buffer.from(rest));
    }
    return out;
  }

  private line(line: string, bytes: number): Reply | undefined {
    this.replyBytes += bytes;
    if (this.replyBytes > MAX_REPLY_BYTES || this.lines.length + this.interleaved.length >= MAX_REPLY_LINES) throw tooLong('reply');
    if (this.lines.length === 0) {
      const m = /^(\d{3})([ -]|$)/.exec(line);
      if (!m) {
        if (line.trim() === '') { this.replyBytes = 0; return undefined; }
        throw new FtpError('protocol', `The server sent a line that is not an FTP reply: ${JSON.stringify(line.slice(0, 80))}`, { replyText: line.slice(0, 200) });
      }
      this.code = Number(m[1]);
      this.lines.push(line);
      if (m[2] === '-') return undefined;
      return this.finish();
    }
    if (this.code === FEAT_CODE && INTERLEAVED.test(line) && !line.startsWith(String(FEAT_CODE))) {
      this.interleaved.push(single(line));
      return undefined;
    }
    this.lines.push(line);
    // A multi-line reply ends with the same code followed by a space (or nothing).
    if (line.startsWith(String(this.code)) && (line.length === 3 || line[3] === ' ')) return this.finish();
    return undefined;
  }

  private finish(): Reply {
    const lines = this.lines;
    this.lines = [];
    this.replyBytes = 0;
    if (lines.length === 1) return single(lines[0]);
    const message = lines.map((l, i) => (i === 0 || i === lines.length - 1 ? strip(l) : l)).join('\n').trim();
    return { code: this.code, text: lines.join('\n'), message };
  }
}

function strip(line: string): string {
  return /^\d{3}[ -]?/.test(line) ? line.slice(4) : line;
}

function single(line: string): Reply {
  return { code: Number(line.slice(0, 3)), text: line, message: strip(line).trim() };
}

/**
 * FEAT's reply: each feature line in it begins with a space (RFC 2389), so a whole single-line
 * reply of another code inside it is a later command's, written into the middle by a server that
 * answers commands as they arrive instead of in turn — ftp-srv does, for a command that came in a
 * packet of its own while FEAT's lines were being written one by one (its issue #63). Elsewhere
 * such a line stays text (a banner may say "421 …"): only FEAT's lines are known to be indented.
 */
const FEAT_CODE = 211;
const INTERLEAVED = /^\d{3}( |$)/;

function tooLong(what: 'line' | 'reply'): FtpError {
  return new FtpError('protocol', what === 'line'
    ? `The server sent a reply line longer than ${MAX_LINE_BYTES} bytes; refusing it.`
    : `The server sent a reply longer than ${MAX_REPLY_BYTES} bytes or ${MAX_REPLY_LINES} lines; refusing it.`);
}

/** Parse the FEAT reply into upper-case feature names → their parameters. */
export function parseFeatures(reply: Reply): Map<string, string> {
  const features = new Map<string, string>();
  if (reply.code !== 211) return features;
  const lines = reply.text.split('\n').slice(1, -1);
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    const sp = line.indexOf(' ');
    const name = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    features.set(name, sp < 0 ? '' : line.slice(sp + 1).trim());
  }
  return features;
}
