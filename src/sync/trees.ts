/**
 * The two sides of a link as trees of relative paths: the local folder read from disk, the remote
 * folder listed through the pool (folders in parallel). Ignored paths are never entered, so an
 * ignored `node_modules/` costs nothing on either side.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { FtpError, isFtpError } from '../ftp/errors';
import { dirname } from '../ftp/remotePath';
import { joinRel, remotePathOf, walkFolders } from '../remote/walk';
import type { FileEntry } from '../ftp/types';
import type { IgnoreMatcher } from './ignore';
import type { RelPath, SyncRemote, Tree, TreeEntry } from './types';

export { remotePathOf };

export interface WalkOptions {
  /** Walk only this file or folder of the link (relative path; '' = the whole link). */
  start?: RelPath;
  signal?: AbortSignal;
}

/** The local path of a relative path under `root`. */
export function localPathOf(root: string, rel: RelPath): string {
  return rel === '' ? root : path.join(root, ...rel.split('/'));
}


/** Relative path of `child` under `root` (local paths), or undefined when it is not inside. */
export function relativeLocal(root: string, child: string): RelPath | undefined {
  const rel = path.relative(root, child);
  if (rel === '') return '';
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new FtpError('cancelled', 'Cancelled');
}

/**
 * Reads the local side. A missing start is an empty tree (nothing there yet). Links to folders are
 * not followed (they can loop); links to files are read as the files they point to.
 */
export async function walkLocal(root: string, ignore: IgnoreMatcher, options: WalkOptions = {}): Promise<Tree> {
  const tree: Tree = new Map();
  const start = options.start ?? '';
  const first = await statOrUndefined(localPathOf(root, start));
  if (!first) return tree;
  if (!first.isDirectory()) {
    if (first.isFile() && !ignore.ignores(start, false)) tree.set(start, { type: 'file', size: first.size, mtime: first.mtimeMs });
    return tree;
  }
  if (start !== '') {
    if (ignore.ignores(start, true)) return tree;
    tree.set(start, { type: 'directory', size: 0, mtime: first.mtimeMs });
  }
  const queue: RelPath[] = [start];
  while (queue.length > 0) {
    checkAbort(options.signal);
    const dir = queue.shift()!;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(localPathOf(root, dir), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const entry of entries) {
      const rel = joinRel(dir, entry.name);
      const full = localPathOf(root, rel);
      if (entry.isDirectory()) {
        if (ignore.ignores(rel, true)) continue;
        const st = await statOrUndefined(full);
        tree.set(rel, { type: 'directory', size: 0, mtime: st?.mtimeMs });
        queue.push(rel);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        if (ignore.ignores(rel, false)) continue;
        const st = await statOrUndefined(full);
        if (st?.isFile()) tree.set(rel, { type: 'file', size: st.size, mtime: st.mtimeMs });
      }
    }
  }
  return tree;
}

async function statOrUndefined(p: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fs.stat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Lists the remote side, always from the server (the listing cache is dropped first: a plan made
 * from a stale listing could overwrite someone's change). Folders are listed `concurrency` at a
 * time; the pool decides how many connections that really takes. Links and entries the listing
 * could not classify are left out: whether they are files or folders is unknown.
 */
export async function walkRemote(remote: SyncRemote, root: string, ignore: IgnoreMatcher, options: WalkOptions & { concurrency?: number } = {}): Promise<Tree> {
  const tree: Tree = new Map();
  const start = options.start ?? '';
  let folders: RelPath[];
  if (start === '') {
    folders = [''];
  } else {
    const parentRemote = dirname(remotePathOf(root, start));
    const entry = (await listFresh(remote, parentRemote))?.find((e) => e.name === path.posix.basename(start));
    if (!entry) return tree;
    if (entry.type === 'file') {
      if (!ignore.ignores(start, false)) tree.set(start, toTreeEntry(entry));
      return tree;
    }
    if (entry.type !== 'directory' || ignore.ignores(start, true)) return tree;
    tree.set(start, toTreeEntry(entry));
    folders = [start];
  }
  remote.cache.invalidate(remotePathOf(root, start));

  await walkFolders((dir) => listFresh(remote, dir), root, folders, {
    concurrency: options.concurrency,
    signal: options.signal,
    descend: (rel) => !ignore.ignores(rel, true),
    onFolder: (dir, entries) => {
      for (const e of entries ?? []) {
        const rel = joinRel(dir, e.name);
        if (e.type === 'directory') {
          if (!ignore.ignores(rel, true)) tree.set(rel, toTreeEntry(e));
        } else if (e.type === 'file' && !ignore.ignores(rel, false)) {
          tree.set(rel, toTreeEntry(e));
        }
      }
    },
  });
  return tree;
}

/** A folder's entries straight from the server; undefined when the folder does not exist. */
export async function listFresh(remote: SyncRemote, dir: string): Promise<FileEntry[] | undefined> {
  remote.cache.invalidate(dir);
  try {
    return await remote.list(dir);
  } catch (err) {
    if (isFtpError(err, 'not-found')) return undefined;
    throw err;
  }
}

function toTreeEntry(e: FileEntry): TreeEntry {
  const entry: TreeEntry = { type: e.type === 'directory' ? 'directory' : 'file', size: e.type === 'directory' ? 0 : e.size, mtime: e.mtime };
  if (e.mtimePrecision) entry.mtimePrecision = e.mtimePrecision;
  return entry;
}
