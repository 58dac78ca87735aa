/**
 * Keeps every thread of libuv's pool busy until released: each waits in open() on a FIFO that has
 * no writer yet. Work that still finishes meanwhile (a file read in the calling thread) shows it
 * needs no pool thread; work that needs one waits until `release`. A test should release the pool
 * after a deadline of its own too: a test that fails by waiting would otherwise hold every later
 * test's file system work.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface BusyThreadPool {
  /** Lets the pool's threads go (opens each FIFO's other end) and removes the FIFOs; once. */
  release(): Promise<void>;
}

export function occupyThreadPool(): BusyThreadPool {
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-pool-'));
  const fifos = Array.from({ length: threads }, (_, i) => path.join(dir, `fifo-${i}`));
  for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
  // Each open waits in a pool thread until the FIFO has a writer.
  const opens = fifos.map((fifo) => fs.promises.open(fifo, 'r'));
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= (async () => {
        for (const fifo of fifos) fs.closeSync(fs.openSync(fifo, 'w'));
        for (const handle of await Promise.all(opens)) await handle.close();
        fs.rmSync(dir, { recursive: true, force: true });
      })();
      return released;
    },
  };
}
