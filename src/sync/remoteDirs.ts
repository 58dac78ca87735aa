/** Making sure a remote folder exists before a file is uploaded into it, and what is known to be absent. */
import { isFtpError } from '../ftp/errors';
import { basename, dirname } from '../ftp/remotePath';
import { listFresh } from './trees';
import type { SyncRemote } from './types';

/** How long a folder's listing answers "is this name absent?" before it is taken again. */
const NAMES_MAX_AGE_MS = 5000;

/**
 * Creates remote folders on demand, parents first, each at most once even when many uploads
 * into the same new folder start together. Lives for one operation (a sync run, an upload): what
 * it learned — folders that exist, folders it made — is trusted for that long.
 */
export class RemoteDirs {
  private readonly known = new Set<string>(['/']);
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Folders this instance made (MKD succeeded): nothing was in them then. */
  private readonly made = new Set<string>();
  private readonly names = new Map<string, { at: number; names: Promise<Set<string> | undefined> }>();

  constructor(
    private readonly remote: SyncRemote,
    existing: Iterable<string> = [],
    private readonly now: () => number = Date.now,
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

  /**
   * Whether the server surely has nothing at `path`, so a file may be stored straight under that
   * name instead of through a temporary one: its folder was made by this instance, or a listing
   * of the folder from the last few seconds (one per folder, shared by the files going into it)
   * does not have the name. A folder that cannot be listed counts as "maybe there".
   */
  async isAbsent(path: string): Promise<boolean> {
    const dir = dirname(path);
    if (this.made.has(dir)) return true;
    let memo = this.names.get(dir);
    if (!memo || this.now() - memo.at >= NAMES_MAX_AGE_MS) {
      const names = listFresh(this.remote, dir).then(
        (entries) => (entries ? new Set(entries.map((e) => e.name)) : undefined),
        () => undefined,
      );
      memo = { at: this.now(), names };
      this.names.set(dir, memo);
    }
    const names = await memo.names;
    return names !== undefined && !names.has(basename(path));
  }

  private async create(dir: string): Promise<void> {
    try {
      await this.remote.createDirectory(dir);
      this.made.add(dir);
    } catch (err) {
      if (!isFtpError(err, 'exists')) {
        // Most likely the parent is missing too (MKD is not recursive): make it, then try again.
        // Also when the parent is known by now: a sibling's MKD may have made it after the server
        // judged this one.
        const parent = dirname(dir);
        if (parent === dir) throw err;
        await this.ensure(parent);
        try {
          await this.remote.createDirectory(dir);
          this.made.add(dir);
        } catch (again) {
          if (!isFtpError(again, 'exists')) throw again;
        }
      }
    }
    this.known.add(dir);
  }
}
