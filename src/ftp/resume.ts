/**
 * Resumable transfers of big files: a download or upload cut off (a dropped connection, a data
 * connection reset, a timeout) goes on from where the other side's copy ends — REST + RETR, REST +
 * STOR, or APPE where REST + STOR is refused — and so does one that an earlier run left behind.
 * Never a corrupt result: a partial copy is continued only when it is a true prefix of the file,
 * checked by the server's checksum of that byte range where it has one (XSHA256 path 0 n…),
 * otherwise by reading back the last OVERLAP bytes before the offset and comparing; anything else
 * is transferred whole. The finished copy is checked by size, and by checksum where offered.
 */
import { open as openFile, stat as statFile, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { checksumOfFile } from './checksum';
import type { FtpClient } from './client';

/** The part of a session a resumable transfer uses (FtpClient has it). */
export type ResumableClient = Pick<FtpClient, 'stat' | 'checksumMethod' | 'checksum' | 'download' | 'downloadToFile' | 'uploadFromFile' | 'remove'>;
import * as defaults from './defaults';
import { FtpError, isFtpError } from './errors';
import type { TransferOptions } from './types';

/** Bytes read back before the offset when the server has no checksum of a range. */
export const OVERLAP = 64 * 1024;

/** What a resumable transfer did, for a log or a `--json` line. */
export interface ResumeReport {
  bytes: number;
  /** Offsets it went on from (a partial copy found, or one left by a cut). */
  resumedAt: number[];
  /** Partial copies that were not a prefix of the file, so were transferred whole. */
  restarted: number;
  /** How the continued prefixes were checked. */
  prefixCheck: 'checksum' | 'overlap' | 'none';
  /** How the result was checked: the server's checksum, or the size alone. */
  verified: 'checksum' | 'size';
}

export interface ResumeOptions extends TransferOptions {
  /** Files smaller than this are transferred whole, every time (default defaults.resumeThresholdBytes). */
  thresholdBytes?: number;
  /** Times to go on after a cut (default defaults.resumeRetries). */
  retries?: number;
  /** Told each time the transfer goes on from an offset, or starts over. */
  onResume?: (what: { offset: number; how: 'checksum' | 'overlap' } | { restart: string }) => void;
}

/** Failures after which the same transfer can go on: the copy on the other side is partial. */
const CUT = new Set(['connection-lost', 'data-channel', 'timeout']);

/** The server's file size; undefined when it is not there. */
async function remoteSize(client: ResumableClient, path: string): Promise<number | undefined> {
  try {
    const entry = await client.stat(path);
    return entry.type === 'directory' ? undefined : entry.size;
  } catch (err) {
    if (isFtpError(err, 'not-found')) return undefined;
    throw err;
  }
}

async function localSize(path: string): Promise<number | undefined> {
  try {
    const st = await statFile(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** Reads `length` bytes of a local file at `at`. */
async function readLocal(path: string, at: number, length: number): Promise<Buffer> {
  const file = await openFile(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await file.read(buf, 0, length, at);
    return buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * Is the first `n` bytes of the server's file the first `n` of the local one? By the server's
 * checksum of that range where it has one; else 'unknown' (the caller reads back an overlap).
 */
async function samePrefixByChecksum(client: ResumableClient, remotePath: string, localPath: string, n: number): Promise<boolean | 'unknown'> {
  if (!client.checksumMethod({ ranged: true })) return 'unknown';
  const remote = await client.checksum(remotePath, { start: 0, end: n });
  if (!remote) return 'unknown';
  return remote.hex === (await checksumOfFile(remote.algorithm, localPath, { start: 0, end: n }));
}

/** The server's bytes `at` to `at + length` (REST + RETR, read to the end: `at + length` is the server's size). */
async function readRemote(client: ResumableClient, path: string, at: number, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { chunks.push(chunk); done(); } });
  await client.download(path, sink, { offset: at, signal });
  return Buffer.concat(chunks);
}

/** The whole file's check at the end: the server's checksum where offered, else its size. */
async function verifyWhole(client: ResumableClient, remotePath: string, localPath: string, size: number): Promise<'checksum' | 'size' | string> {
  const remote = await remoteSize(client, remotePath);
  const local = await localSize(localPath);
  if (remote !== size || local !== size) return `sizes differ: ${local ?? 'no'} bytes here, ${remote ?? 'no'} on the server, ${size} expected`;
  const sum = await client.checksum(remotePath);
  if (!sum) return 'size';
  const mine = await checksumOfFile(sum.algorithm, localPath);
  return mine === sum.hex ? 'checksum' : `${sum.algorithm} differs: ${sum.hex} on the server, ${mine} here`;
}

/**
 * Downloads `remotePath` into `localPath`, going on from a partial local copy that is a prefix of
 * the server's file, and after each cut, up to `retries` times.
 */
export async function downloadResumable(client: ResumableClient, remotePath: string, localPath: string, opts: ResumeOptions = {}): Promise<ResumeReport> {
  const threshold = opts.thresholdBytes ?? defaults.resumeThresholdBytes;
  const report: ResumeReport = { bytes: 0, resumedAt: [], restarted: 0, prefixCheck: 'none', verified: 'size' };
  let retries = opts.retries ?? defaults.resumeRetries;
  let restartedAfterCheck = false;
  for (;;) {
    const size = await remoteSize(client, remotePath);
    if (size === undefined) throw new FtpError('not-found', `${remotePath}: not found on the server.`);
    const have = size >= threshold ? (await localSize(localPath)) ?? 0 : 0;
    try {
      let offset = 0;
      if (have > 0 && have <= size) {
        offset = await continuedDownload(client, remotePath, localPath, have, size, report, opts);
      } else if (have > size) {
        report.restarted++;
        opts.onResume?.({ restart: `the local copy (${have} bytes) is longer than the server's file (${size})` });
      }
      if (offset < 0) {
        // Checked and continued in the same transfer (the overlap read-back).
      } else {
        report.bytes += await client.downloadToFile(remotePath, localPath, { offset, signal: opts.signal, onProgress: opts.onProgress && ((n) => opts.onProgress!(offset + n)) });
      }
      const verified = await verifyWhole(client, remotePath, localPath, size);
      if (verified === 'checksum' || verified === 'size') {
        report.verified = verified;
        return report;
      }
      // A continued copy that turns out wrong is fetched whole, once: never kept.
      if (restartedAfterCheck) throw new FtpError('server', `The download of ${remotePath} is not the server's file (${verified}).`);
      restartedAfterCheck = true;
      report.restarted++;
      opts.onResume?.({ restart: verified });
      await truncateLocal(localPath);
    } catch (err) {
      if (!isFtpError(err) || !CUT.has(err.kind) || retries-- <= 0 || size < threshold || opts.signal?.aborted) throw err;
    }
  }
}

/**
 * A local partial copy of `have` bytes: where it is the server's prefix, the offset to go on from
 * (or -1 when the overlap read-back already brought the rest); 0 to start over.
 */
async function continuedDownload(client: ResumableClient, remotePath: string, localPath: string, have: number, size: number, report: ResumeReport, opts: ResumeOptions): Promise<number> {
  const byChecksum = await samePrefixByChecksum(client, remotePath, localPath, have);
  if (byChecksum === true) {
    report.prefixCheck = 'checksum';
    report.resumedAt.push(have);
    opts.onResume?.({ offset: have, how: 'checksum' });
    return have;
  }
  if (byChecksum === false) {
    report.restarted++;
    opts.onResume?.({ restart: `the local copy's first ${have} bytes are not the server's` });
    return 0;
  }
  // No checksum: read back from `have - overlap`; the first bytes must equal the local tail, the
  // rest is written on from `have`, in the same transfer.
  const overlap = Math.min(OVERLAP, have);
  const tail = await readLocal(localPath, have - overlap, overlap);
  const file = await openFile(localPath, 'r+');
  const sink = new OverlapSink(file, tail, have);
  try {
    report.bytes += Math.max(0, (await client.download(remotePath, sink, { offset: have - overlap, signal: opts.signal, onProgress: opts.onProgress && ((n) => opts.onProgress!(have - overlap + n)) })) - overlap);
    await sink.flushed();
  } catch (err) {
    await sink.flushed().catch(() => undefined);
    if (!sink.mismatch) throw err;
  } finally {
    await file.close();
  }
  if (sink.mismatch) {
    report.restarted++;
    opts.onResume?.({ restart: `the ${overlap} bytes before byte ${have} differ from the server's` });
    return 0;
  }
  report.prefixCheck = 'overlap';
  report.resumedAt.push(have);
  opts.onResume?.({ offset: have, how: 'overlap' });
  await truncateLocal(localPath, Math.max(size, have));
  return -1;
}

/**
 * Compares the first bytes it gets with `expected` (the local copy's tail), then writes the rest
 * into the file from `at`. A difference fails the stream (and so the transfer) at once.
 */
class OverlapSink extends Writable {
  mismatch = false;
  private compared = 0;
  private position: number;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: FileHandle, private readonly expected: Buffer, at: number) {
    super();
    this.position = at;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    let rest = chunk;
    if (this.compared < this.expected.length) {
      const n = Math.min(rest.length, this.expected.length - this.compared);
      if (!rest.subarray(0, n).equals(this.expected.subarray(this.compared, this.compared + n))) {
        this.mismatch = true;
        done(new FtpError('server', 'the partial copy is not a prefix of the file'));
        return;
      }
      this.compared += n;
      rest = rest.subarray(n);
    }
    if (rest.length === 0) {
      done();
      return;
    }
    const at = this.position;
    this.position += rest.length;
    const write = this.file.write(rest, 0, rest.length, at);
    this.pending = write;
    write.then(() => done(), (e: Error) => done(e));
  }

  /** Ends the stream and resolves once every chunk it took is in the file. */
  flushed(): Promise<unknown> {
    if (this.destroyed) return this.pending;
    return new Promise<void>((resolve, reject) => {
      this.once('error', reject);
      this.end(() => resolve());
    });
  }
}

async function truncateLocal(path: string, length = 0): Promise<void> {
  const file = await openFile(path, 'r+');
  try {
    const st = await file.stat();
    if (st.size > length || length === 0) await file.truncate(length);
  } finally {
    await file.close();
  }
}

/**
 * Uploads `localPath` to `remotePath`, going on from a partial copy on the server that is a prefix
 * of the local file (REST + STOR, else APPE), and after each cut, up to `retries` times.
 */
export async function uploadResumable(client: ResumableClient, localPath: string, remotePath: string, opts: ResumeOptions = {}): Promise<ResumeReport> {
  const threshold = opts.thresholdBytes ?? defaults.resumeThresholdBytes;
  const report: ResumeReport = { bytes: 0, resumedAt: [], restarted: 0, prefixCheck: 'none', verified: 'size' };
  const size = await localSize(localPath);
  if (size === undefined) throw new FtpError('not-found', `${localPath}: no such local file.`);
  let retries = opts.retries ?? defaults.resumeRetries;
  let restartedAfterCheck = false;
  let restUnsupported = false;
  for (;;) {
    try {
      const have = size >= threshold ? (await remoteSize(client, remotePath)) ?? 0 : 0;
      let offset = 0;
      if (have > 0 && have <= size) offset = await continuedUpload(client, remotePath, localPath, have, report, opts);
      else if (have > size) {
        report.restarted++;
        opts.onResume?.({ restart: `the server's copy (${have} bytes) is longer than the local file (${size})` });
      }
      const onProgress = opts.onProgress && ((n: number) => opts.onProgress!(offset + n));
      if (offset === 0) {
        report.bytes += await client.uploadFromFile(remotePath, localPath, { signal: opts.signal, onProgress });
      } else if (offset < size) {
        const sent = await continueUpload(client, remotePath, localPath, offset, () => restUnsupported, () => { restUnsupported = true; }, { signal: opts.signal, onProgress });
        report.bytes += sent.bytes;
        if (sent.whole) {
          report.resumedAt.pop();
          report.restarted++;
          opts.onResume?.({ restart: 'the server refuses both REST + STOR and APPE' });
        }
      }
      const verified = await verifyWhole(client, remotePath, localPath, size);
      if (verified === 'checksum' || verified === 'size') {
        report.verified = verified;
        return report;
      }
      if (restartedAfterCheck) throw new FtpError('server', `The upload of ${localPath} did not arrive as it is (${verified}).`);
      restartedAfterCheck = true;
      report.restarted++;
      opts.onResume?.({ restart: verified });
      await client.remove(remotePath);
    } catch (err) {
      if (!isFtpError(err) || !CUT.has(err.kind) || retries-- <= 0 || size < threshold || opts.signal?.aborted) throw err;
    }
  }
}

/**
 * REST + STOR from `offset`; where refused, APPE (a server may allow one and not the other: proftpd
 * refuses both without AllowStoreRestart); where that is refused too, the whole file with STOR.
 */
async function continueUpload(client: ResumableClient, remotePath: string, localPath: string, offset: number, restRefused: () => boolean, refuseRest: () => void, opts: TransferOptions): Promise<{ bytes: number; whole: boolean }> {
  const refusal = (err: unknown) => isFtpError(err) && !CUT.has(err.kind) && err.kind !== 'cancelled';
  if (!restRefused()) {
    try {
      return { bytes: await client.uploadFromFile(remotePath, localPath, { ...opts, offset }), whole: false };
    } catch (err) {
      if (!refusal(err)) throw err;
      refuseRest();
    }
  }
  try {
    return { bytes: await client.uploadFromFile(remotePath, localPath, { ...opts, offset, append: true }), whole: false };
  } catch (err) {
    if (!refusal(err)) throw err;
  }
  return { bytes: await client.uploadFromFile(remotePath, localPath, { ...opts, onProgress: opts.onProgress && ((n) => opts.onProgress!(n - offset)) }), whole: true };
}

/** The server holds `have` bytes: the offset to go on from when they are the local file's prefix, else 0. */
async function continuedUpload(client: ResumableClient, remotePath: string, localPath: string, have: number, report: ResumeReport, opts: ResumeOptions): Promise<number> {
  let same = await samePrefixByChecksum(client, remotePath, localPath, have);
  let how: 'checksum' | 'overlap' = 'checksum';
  if (same === 'unknown') {
    const overlap = Math.min(OVERLAP, have);
    const [theirs, mine] = await Promise.all([readRemote(client, remotePath, have - overlap, opts.signal), readLocal(localPath, have - overlap, overlap)]);
    same = theirs.equals(mine);
    how = 'overlap';
  }
  if (!same) {
    report.restarted++;
    opts.onResume?.({ restart: `the server's first ${have} bytes are not the local file's` });
    return 0;
  }
  report.prefixCheck = how;
  report.resumedAt.push(have);
  opts.onResume?.({ offset: have, how });
  return have;
}
