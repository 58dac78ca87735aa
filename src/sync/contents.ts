/**
 * Same size, never synced: the same bytes? The server's checksum of each candidate (HASH,
 * XSHA256…) against ours of the local file, in parallel through the pool — for the planner's
 * `sameContent`. Where the server has no checksum, the answer is empty and size and time decide.
 */
import { checksumOfFile } from '../ftp/checksum';
import { isFtpError } from '../ftp/errors';
import { join } from '../ftp/remotePath';
import { runParallel } from './parallel';
import { localPathOf } from './trees';
import type { RelPath, SyncRemote } from './types';

export async function compareContents(
  candidates: readonly RelPath[],
  side: { localRoot: string; remoteRoot: string; remote: SyncRemote },
  opts: { concurrency: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<Map<RelPath, boolean>> {
  const same = new Map<RelPath, boolean>();
  const checksum = side.remote.checksum?.bind(side.remote);
  if (!checksum || candidates.length === 0) return same;
  let offered = true;
  let done = 0;
  await runParallel(candidates, opts.concurrency, async (rel) => {
    if (!offered) return;
    let remote;
    try {
      remote = await checksum(join(side.remoteRoot, rel));
    } catch (err) {
      // Gone since the walk, or not ours to read: that file is judged by size and time.
      if (isFtpError(err, 'not-found') || isFtpError(err, 'permission')) return;
      throw err;
    }
    if (!remote) {
      offered = false;
      return;
    }
    const local = await checksumOfFile(remote.algorithm, localPathOf(side.localRoot, rel)).catch(() => undefined);
    if (local !== undefined) same.set(rel, local === remote.hex);
    opts.onProgress?.(++done, candidates.length);
  }, opts.signal);
  return same;
}
