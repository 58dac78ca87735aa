/** Assertions shared by the integration tests. */
import * as assert from 'node:assert/strict';
import { FtpError } from '../../src/ftp/errors';

/** Awaits `p`, which must reject with an FtpError of `kind`; returns that error for more checks. */
export async function rejectsWith(p: Promise<unknown>, kind: FtpError['kind']): Promise<FtpError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof FtpError, `expected an FtpError, got ${String(e)}`);
    assert.equal(e.kind, kind, `expected kind ${kind}, got ${e.kind}: ${e.message}`);
    return e;
  }
  assert.fail(`expected a rejection of kind ${kind}`);
}

/**
 * Polls `probe` until it returns something truthy, and returns that; fails with `what` after
 * `timeoutMs`. For state that announces itself by no event (a file on a server's disk, a process
 * gone): a bounded poll of a condition, never a fixed sleep.
 */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  { timeoutMs = 10_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits for `promise` (an event, usually), failing with `what` if it has not settled after `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `timed out after ${timeoutMs} ms waiting for ${what}` })), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
