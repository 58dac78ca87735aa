/**
 * A remote tree walked folder by folder, `concurrency` listings at a time through the pool, each
 * folder handed to the caller as soon as it is listed. Linked folders' sync (src/sync/trees.ts)
 * and the search index (src/search/remoteIndex.ts) both walk with it.
 */
import { FtpError } from '../ftp/errors';
import { join } from '../ftp/remotePath';
import type { FileEntry } from '../ftp/types';

/** Path relative to the walk's root: POSIX separators, no leading slash; '' is the root. */
export type RelPath = string;

export interface WalkFoldersOptions {
  /** Listings at once (default 4); the pool decides how many connections that really takes. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Whether to go into a folder found in a listing (default: every one). */
  descend?: (rel: RelPath, entry: FileEntry) => boolean;
  /** Told each folder's entries as soon as it is listed (undefined: the folder is gone). */
  onFolder: (rel: RelPath, entries: FileEntry[] | undefined) => void;
  /**
   * A listing that failed: return true to go on without that folder (e.g. one the user may not
   * read), false to end the walk with the error (the default).
   */
  onError?: (rel: RelPath, err: unknown) => boolean;
}

export function joinRel(parent: RelPath, name: string): RelPath {
  return parent === '' ? name : `${parent}/${name}`;
}

/** The remote path of `rel` under `root`. */
export function remotePathOf(root: string, rel: RelPath): string {
  return rel === '' ? join(root) : join(root, rel);
}

/**
 * Lists `starts` (folders relative to `root`) and every folder below them, breadth first. Only
 * entries typed 'directory' are entered: a link may loop, and what it points at is unknown.
 */
export function walkFolders(list: (dir: string, rel: RelPath) => Promise<FileEntry[] | undefined>, root: string, starts: RelPath[], options: WalkFoldersOptions): Promise<void> {
  const folders = [...starts];
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const { signal, descend, onFolder, onError } = options;
  return new Promise<void>((resolve, reject) => {
    let active = 0;
    let settled = false;
    const fail = (err: unknown) => {
      if (!settled) reject(err);
      settled = true;
    };
    const pump = (): void => {
      if (settled) return;
      if (signal?.aborted) return fail(new FtpError('cancelled', 'Cancelled'));
      if (folders.length === 0 && active === 0) {
        settled = true;
        return resolve();
      }
      while (active < concurrency && folders.length > 0) {
        const dir = folders.shift()!;
        active++;
        list(remotePathOf(root, dir), dir).then(
          (entries) => {
            active--;
            if (settled) return;
            for (const e of entries ?? []) {
              if (e.type === 'directory' && (!descend || descend(joinRel(dir, e.name), e))) folders.push(joinRel(dir, e.name));
            }
            try {
              onFolder(dir, entries);
            } catch (err) {
              return fail(err);
            }
            pump();
          },
          (err: unknown) => {
            active--;
            if (!settled && onError?.(dir, err)) pump();
            else fail(err);
          },
        );
      }
    };
    pump();
  });
}
