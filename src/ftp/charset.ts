/**
 * File names are bytes on the wire (RFC 959 says nothing of their charset; RFC 2640's UTF8 is only
 * an offer). A server that stores Latin-1 or GBK names sends those bytes in listings and expects the
 * same bytes back in RETR/STOR/RNFR/DELE; names decoded as UTF-8 come out as "�" and cannot be
 * sent back. This module turns those bytes into text and back, losslessly or not at all, and makes
 * the simple guess of the charset that `encoding: auto` uses.
 *
 * Encoding is done by iconv-lite (Node's TextEncoder only knows UTF-8).
 */
import * as iconv from 'iconv-lite';

/** The `encoding` setting's value that asks for detection. */
export const AUTO_ENCODING = 'auto';

/** Offered in the settings and the CLI's help; any other name iconv-lite knows works too. */
export const COMMON_ENCODINGS = ['utf8', 'windows-1252', 'latin1', 'gbk', 'big5', 'shift_jis', 'euc-kr', 'windows-1251'] as const;

/**
 * Bytes every command needs as they are: a command's verb, spaces, digits, '/' and the line end.
 * A charset that writes them otherwise (UTF-16, UTF-7, EBCDIC) would make commands no server reads.
 */
const ASCII_PROBE = 'AZaz09 /-._~\r\n';

/**
 * Why `name` cannot be a file-name charset, or undefined when it can. 'auto' is the caller's to
 * accept; this judges charset names only.
 */
export function charsetProblem(name: string): string | undefined {
  if (!iconv.encodingExists(name)) return `"${name}" is not a known charset (examples: ${COMMON_ENCODINGS.join(', ')})`;
  if (!Buffer.from(ASCII_PROBE, 'latin1').equals(iconv.encode(ASCII_PROBE, name))) {
    return `"${name}" does not write ASCII as ASCII, so FTP commands could not be sent in it`;
  }
  return undefined;
}

/** True for 'auto' and every charset `charsetProblem` accepts. */
export function isValidEncodingSetting(value: string): boolean {
  return value === AUTO_ENCODING || charsetProblem(value) === undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether the bytes are well-formed UTF-8 (ASCII included). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Text ↔ bytes in one charset, with the checks that keep a name's bytes intact. */
export class NameCodec {
  private readonly utf8: boolean;

  constructor(readonly charset: string) {
    this.utf8 = /^utf-?8$/i.test(charset);
  }

  decode(bytes: Uint8Array): string {
    // Buffer's own decoder is the fast path for the common case (every reply line goes through here).
    return this.utf8 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : iconv.decode(Buffer.from(bytes), this.charset);
  }

  /**
   * The bytes of `text`, or undefined when they would not decode back to the same text: a
   * character the charset lacks (iconv-lite would write '?'), or the "�" (U+FFFD) a listing showed
   * for bytes that were not valid in this charset. Sending such bytes would name another file.
   * U+FFFD is refused even where the charset has it (UTF-8): it almost always stands for bytes
   * lost in decoding, and a file really named with it is rarer than one whose name did not decode.
   */
  encode(text: string): Buffer | undefined {
    if (text.includes('\uFFFD')) return undefined;
    const bytes = this.utf8 ? Buffer.from(text, 'utf8') : iconv.encode(text, this.charset);
    return this.decode(bytes) === text ? bytes : undefined;
  }

  /** Whether `bytes` decode to text that encodes back to exactly these bytes. */
  roundTrips(bytes: Uint8Array, decoded = this.decode(bytes)): boolean {
    const again = this.utf8 ? Buffer.from(decoded, 'utf8') : iconv.encode(decoded, this.charset);
    return again.equals(bytes);
  }
}

export interface Detection {
  charset: string;
  /** Why, in a few words, for the log and the diagnosis. */
  reason: string;
}

/**
 * The charset of names that came as these bytes (a whole listing). Deliberately simple, and it
 * only has to choose among the charsets seen most where names are not UTF-8:
 * 1. well-formed UTF-8 → utf8;
 * 2. every byte ≥ 0x80 is the lead of a GBK pair (lead 0x81–0xFE, trail 0x40–0xFE but 0x7F), the
 *    pairs decode and encode back unchanged, and somewhere two such pairs stand together (a
 *    Chinese name is mostly a run of characters; a Western name has one accented letter here and
 *    there, rarely two or more in a row) → gbk;
 * 3. otherwise windows-1252 when it keeps every byte (FileZilla falls back to the local Windows
 *    charset, which in the West is this one), else latin1, which keeps any byte.
 * Big5, Shift_JIS and the rest are never guessed: the `encoding` setting names them.
 */
export function detectCharset(bytes: Uint8Array): Detection {
  if (isValidUtf8(bytes)) return { charset: 'utf8', reason: 'the names are valid UTF-8' };
  if (looksLikeGbk(bytes) && new NameCodec('gbk').roundTrips(bytes)) {
    return { charset: 'gbk', reason: 'the names are not valid UTF-8, and their non-ASCII bytes pair up as GBK characters' };
  }
  if (new NameCodec('windows-1252').roundTrips(bytes)) {
    return { charset: 'windows-1252', reason: 'the names are neither valid UTF-8 nor GBK; windows-1252 keeps every byte' };
  }
  return { charset: 'latin1', reason: 'the names are neither valid UTF-8 nor GBK, and have bytes windows-1252 leaves undefined; latin1 keeps every byte' };
}

function looksLikeGbk(bytes: Uint8Array): boolean {
  let run = 0;
  let longestRun = 0;
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i];
    if (lead < 0x80) {
      run = 0;
      i++;
      continue;
    }
    const trail = bytes[i + 1];
    if (lead === 0x80 || lead === 0xff || trail === undefined || trail < 0x40 || trail === 0x7f || trail === 0xff) return false;
    run++;
    longestRun = Math.max(longestRun, run);
    i += 2;
  }
  return longestRun >= 2;
}

/**
 * Charsets learned per server (host:port) by `encoding: auto`, so that every session of the pool
 * sends the names the first listing showed in the bytes they came as, even a session that has not
 * listed anything yet. Bounded: a few servers at most.
 */
const learned = new Map<string, Detection>();

export function learnedCharset(serverKey: string): Detection | undefined {
  return learned.get(serverKey);
}

export function learnCharset(serverKey: string, detection: Detection): void {
  learned.delete(serverKey);
  learned.set(serverKey, detection);
  if (learned.size > 64) learned.delete(learned.keys().next().value as string);
}
