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
