/** Making sure a remote folder exists before a file is uploaded into it. */
import { isFtpError } from '../ftp/errors';
import { dirname } from '../ftp/remotePath';
import type { SyncRemote } from './types';

/**
 * Creates remote folders on demand, parents first, each at most once even when many uploads
 * into the same new folder start together.
 */
export class RemoteDirs {
  private readonly known = new Set<string>(['/']);
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly remote: SyncRemote,
    existing: Iterable<string> = [],
  ) {
    for (const dir of existing) this.known.add(dir);
  }

  ensure(dir: string): Promise<void> {
    if (this.known.has(dir)) return Promise.resolve();
    let pending = this.inFlight.get(dir);
    if (!pending) {
      pending = this.create(dir).finally(() => this.inFlight.delete(dir));
      this.inFlight.set(dir, pending);
    }
    return pending;
  }

  private async create(dir: string): Promise<void> {
    try {
      await this.remote.createDirectory(dir);
    } catch (err) {
      if (!isFtpError(err, 'exists')) {
        // Most likely the parent is missing too (MKD is not recursive): make it, then try again.
        const parent = dirname(dir);
        if (parent === dir || this.known.has(parent)) throw err;
        await this.ensure(parent);
        try {
          await this.remote.createDirectory(dir);
        } catch (again) {
          if (!isFtpError(again, 'exists')) throw again;
        }
      }
    }
    this.known.add(dir);
  }
}
