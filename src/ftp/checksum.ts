/**
 * File checksums computed by the server, where it offers them, and the same ones computed here:
 * `HASH` (draft-bryan-ftpext-hash: `OPTS HASH <alg>`, then `HASH path` → `213 SHA-256 0-12 <hex>
 * path`) or the older X-commands (`XSHA256 path [start end]` → `250 <HEX>`), which also hash a
 * byte range — what a resumed transfer needs to check a partial file. proftpd's mod_digest has
 * both; vsftpd and pure-ftpd have neither.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { crc32 } from 'node:zlib';

export type ChecksumAlgorithm = 'SHA-256' | 'SHA-512' | 'SHA-1' | 'MD5' | 'CRC32';

/** Strongest first: the first one the server has is used. */
const PREFERENCE: readonly ChecksumAlgorithm[] = ['SHA-256', 'SHA-512', 'SHA-1', 'MD5', 'CRC32'];

/** The X-command of each algorithm (all take `path [start end]`, end exclusive). */
const X_COMMAND: Record<ChecksumAlgorithm, string> = { 'SHA-256': 'XSHA256', 'SHA-512': 'XSHA512', 'SHA-1': 'XSHA1', MD5: 'XMD5', CRC32: 'XCRC' };

/** Hex digits in a digest of each algorithm. */
const HEX_LENGTH: Record<ChecksumAlgorithm, number> = { 'SHA-256': 64, 'SHA-512': 128, 'SHA-1': 40, MD5: 32, CRC32: 8 };

export interface ChecksumMethod {
  algorithm: ChecksumAlgorithm;
  /** `HASH` (after `OPTS HASH <algorithm>`) or the X-command. */
  command: 'HASH' | string;
  /** The command hashes a byte range (the X-commands do; HASH's RANG is not relied on). */
  ranges: boolean;
}

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Lower-case hex. */
  hex: string;
}

/**
 * The checksum the server's FEAT offers, strongest first: HASH with the best algorithm it lists,
 * else the best X-command. `ranged`: only a method that hashes a byte range.
 */
export function bestChecksumMethod(features: ReadonlyMap<string, string>, opts: { ranged?: boolean } = {}): ChecksumMethod | undefined {
  if (!opts.ranged) {
    const offered = hashAlgorithms(features.get('HASH'));
    const algorithm = PREFERENCE.find((a) => offered.includes(a));
    if (algorithm) return { algorithm, command: 'HASH', ranges: false };
  }
  const algorithm = PREFERENCE.find((a) => features.has(X_COMMAND[a]));
  return algorithm ? { algorithm, command: X_COMMAND[algorithm], ranges: true } : undefined;
}

/** FEAT's `HASH SHA-1*;SHA-256;MD5` → the algorithms (the `*` marks the one selected now). */
function hashAlgorithms(param: string | undefined): ChecksumAlgorithm[] {
  if (param === undefined) return [];
  return param.split(';').map((a) => a.trim().replace(/\*$/, '').toUpperCase()).filter((a): a is ChecksumAlgorithm => (PREFERENCE as readonly string[]).includes(a));
}

/**
 * The digest in a reply's last line: HASH's `SHA-256 0-12 <hex> path` or an X-command's `<HEX>`
 * (some servers add the path, or say the algorithm first). Undefined when no hex of the right
 * length is there.
 */
export function parseChecksumReply(algorithm: ChecksumAlgorithm, text: string): string | undefined {
  const last = text.split('\n').filter(Boolean).pop() ?? '';
  const body = last.replace(/^\d{3}[ -]?/, '');
  const want = HEX_LENGTH[algorithm];
  const hex = body.split(/\s+/).find((token) => token.length === want && /^[0-9a-fA-F]+$/.test(token));
  return hex?.toLowerCase();
}

/** A running checksum of bytes as they go, in the server's algorithm. */
export class ChecksumBuilder {
  private readonly hash?: ReturnType<typeof createHash>;
  private crc = 0;

  constructor(readonly algorithm: ChecksumAlgorithm) {
    if (algorithm !== 'CRC32') this.hash = createHash(algorithm.replace('-', '').toLowerCase());
  }

  update(bytes: Uint8Array): this {
    if (this.hash) this.hash.update(bytes);
    else this.crc = crc32(bytes, this.crc);
    return this;
  }

  digest(): string {
    return this.hash ? this.hash.digest('hex') : this.crc.toString(16).padStart(8, '0');
  }
}

export function checksumOfBytes(algorithm: ChecksumAlgorithm, bytes: Uint8Array): string {
  return new ChecksumBuilder(algorithm).update(bytes).digest();
}

/** A local file's checksum (bytes `start` to `end`, end exclusive, when given), read as a stream. */
export async function checksumOfFile(algorithm: ChecksumAlgorithm, file: string, range: { start?: number; end?: number } = {}): Promise<string> {
  const builder = new ChecksumBuilder(algorithm);
  if (range.end !== undefined && range.end <= (range.start ?? 0)) return builder.digest();
  const stream = createReadStream(file, { start: range.start, end: range.end === undefined ? undefined : range.end - 1 });
  for await (const chunk of stream) builder.update(chunk as Buffer);
  return builder.digest();
}
