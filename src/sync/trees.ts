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
import { DEFAULT_SYMLINKS, type RelPath, type SkippedLinks, type SymlinkMode, type SyncRemote, type Tree, type TreeEntry } from './types';

export { remotePathOf };

export interface WalkOptions {
  /** Walk only this file or folder of the link (relative path; '' = the whole link). */
  start?: RelPath;
  signal?: AbortSignal;
  /** Symbolic links: followed as their targets, or left out (default DEFAULT_SYMLINKS). */
  symlinks?: SymlinkMode;
  /** Told every link left out, with the reason (skipped by the setting, broken, looping). */
  skippedLinks?: SkippedLinks;
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
 * Reads the local side. A missing start is an empty tree (nothing there yet). Symbolic links as the
 * link's `symlinks` says: skipped (told in `skippedLinks`), or followed as their targets — a link to
 * a folder that contains it (which would loop) and a broken link are skipped either way.
 */
export async function walkLocal(root: string, ignore: IgnoreMatcher, options: WalkOptions = {}): Promise<Tree> {
  const tree: Tree = new Map();
  const symlinks = options.symlinks ?? DEFAULT_SYMLINKS;
  const skip = (rel: RelPath, reason: string) => options.skippedLinks?.set(rel, reason);
  const start = options.start ?? '';
  const first = await statOrUndefined(localPathOf(root, start));
  if (!first) return tree;
  // A walk of a folder below (or of) a link: what is in it is reached through that link.
  let above: RelPath | undefined;
  const parts = start === '' ? [] : start.split('/');
  for (let i = 1; i <= parts.length && above === undefined; i++) {
    const rel = parts.slice(0, i).join('/');
    if ((await fs.lstat(localPathOf(root, rel)).catch(() => undefined))?.isSymbolicLink()) above = rel;
  }
  if (above !== undefined && symlinks === 'skip') {
    skip(above, 'a symbolic link, left out (the link\'s "symlinks" is "skip")');
    return tree;
  }
  const startVia = above !== undefined && above !== start ? { viaLink: above } : {};
  if (!first.isDirectory()) {
    if (first.isFile() && !ignore.ignores(start, false)) tree.set(start, { type: 'file', size: first.size, mtime: first.mtimeMs, ...startVia, ...(above === start ? { symlink: true } : {}) });
    return tree;
  }
  if (start !== '') {
    if (ignore.ignores(start, true)) return tree;
    tree.set(start, { type: 'directory', size: 0, mtime: first.mtimeMs, ...startVia, ...(above === start ? { symlink: true } : {}) });
  }
  // Each folder with the real paths of the folders it is in (a link to one of them would loop)
  // and the followed link it is below, if any.
  const rootReal = await fs.realpath(root);
  const queue: { rel: RelPath; reals: string[]; via?: RelPath }[] = [{ rel: start, reals: [await fs.realpath(localPathOf(root, start))], via: above }];
  while (queue.length > 0) {
    checkAbort(options.signal);
    const dir = queue.shift()!;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(localPathOf(root, dir.rel), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const here = dir.reals[dir.reals.length - 1];
    const via = dir.via ? { viaLink: dir.via } : {};
    for (const entry of entries) {
      const rel = joinRel(dir.rel, entry.name);
      const full = localPathOf(root, rel);
      if (entry.isDirectory()) {
        if (ignore.ignores(rel, true)) continue;
        const st = await statOrUndefined(full);
        tree.set(rel, { type: 'directory', size: 0, mtime: st?.mtimeMs, ...via });
        queue.push({ rel, reals: [...dir.reals, path.join(here, entry.name)], via: dir.via });
      } else if (entry.isFile()) {
        if (ignore.ignores(rel, false)) continue;
        const st = await statOrUndefined(full);
        if (st?.isFile()) tree.set(rel, { type: 'file', size: st.size, mtime: st.mtimeMs, ...via });
      } else if (entry.isSymbolicLink()) {
        // A link to itself (ELOOP) or somewhere unreadable is left out like a broken one, not an end to the compare.
        let unreadable: string | undefined;
        const st = await statOrUndefined(full).catch((err: NodeJS.ErrnoException) => { unreadable = err.code ?? err.message; return undefined; });
        if (ignore.ignores(rel, !!st?.isDirectory())) continue;
        if (unreadable) {
          skip(rel, `a symbolic link that cannot be followed (${unreadable})`);
        } else if (!st) {
          skip(rel, 'a broken symbolic link (what it points to does not exist)');
        } else if (symlinks === 'skip') {
          skip(rel, `a symbolic link${st.isDirectory() ? ' to a folder' : ''}, left out (the link's "symlinks" is "skip")`);
        } else {
          const real = await fs.realpath(full);
          // A link to the root ("/", "C:\\") ends in the separator already.
          const below = real.endsWith(path.sep) ? real : real + path.sep;
          if (st.isDirectory() && dir.reals.some((r) => r === real || r.startsWith(below))) {
            skip(rel, 'a symbolic link to a folder that contains it, not followed (it would loop)');
          } else if (real.startsWith(rootReal + path.sep) && !ignore.ignores(toRel(rootReal, real), st.isDirectory())) {
            // Two names for one file: both would be written at once, and each look like the other's change.
            skip(rel, `a symbolic link to ${toRel(rootReal, real)} in this folder, left out: that is synced under its own name`);
          } else if (st.isDirectory()) {
            tree.set(rel, { type: 'directory', size: 0, mtime: st.mtimeMs, symlink: true, ...via });
            queue.push({ rel, reals: [...dir.reals, real], via: dir.via ?? rel });
          } else if (st.isFile()) {
            tree.set(rel, { type: 'file', size: st.size, mtime: st.mtimeMs, symlink: true, ...via });
          }
        }
      }
    }
  }
  return tree;
}

function toRel(root: string, p: string): RelPath {
  return path.relative(root, p).split(path.sep).join('/');
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
 * time; the pool decides how many connections that really takes. Entries the listing could not
 * classify are left out. Symbolic links as the link's `symlinks` says (see followLinks).
 */
export async function walkRemote(remote: SyncRemote, root: string, ignore: IgnoreMatcher, options: WalkOptions & { concurrency?: number } = {}): Promise<Tree> {
  const tree: Tree = new Map();
  const links = new RemoteLinks(remote, ignore, options);
  const start = options.start ?? '';
  let folders: RelPath[];
  if (start === '') {
    folders = [''];
  } else {
    // A walk of a folder below a link (the whole link has not been walked): deletes in it would go through it.
    const above = await links.linkAbove(root, start);
    if (above === null) return tree;
    const parentRel = parentOf(start);
    const parentRemote = dirname(remotePathOf(root, start));
    const listed = await listFresh(remote, parentRemote);
    if (above !== undefined) links.below(parentRel, above);
    const entry = listed && (await links.resolve(parentRel, parentRemote, listed)).find((e) => e.name === path.posix.basename(start));
    if (!entry) return tree;
    if (entry.type === 'file') {
      if (!ignore.ignores(start, false)) tree.set(start, links.treeEntry(start, entry));
      return tree;
    }
    if (entry.type !== 'directory' || ignore.ignores(start, true)) return tree;
    tree.set(start, links.treeEntry(start, entry));
    folders = [start];
  }
  remote.cache.invalidate(remotePathOf(root, start));

  await walkFolders(async (dir, rel) => {
    const entries = await listFresh(remote, dir);
    return entries && links.resolve(rel, dir, entries);
  }, root, folders, {
    concurrency: options.concurrency,
    signal: options.signal,
    descend: (rel) => !ignore.ignores(rel, true),
    onFolder: (dir, entries) => {
      for (const e of entries ?? []) {
        const rel = joinRel(dir, e.name);
        if (e.type === 'directory') {
          if (!ignore.ignores(rel, true)) tree.set(rel, links.treeEntry(rel, e));
        } else if (e.type === 'file' && !ignore.ignores(rel, false)) {
          tree.set(rel, links.treeEntry(rel, e));
        }
      }
    },
  });
  return tree;
}

/** Followed links nested in one path at most: a chain the loop checks cannot see through ends here. */
const MAX_FOLLOWED_LINKS = 8;

/**
 * The server's symbolic links during one walk. `skip`: each is left out and told. `follow`: each
 * is asked about through the link (RemoteFs.statFromServer: one round trip) and handed on as its
 * target's type — a file with the target's size and time, a folder to be listed through the link.
 * A folder link is not followed when it would loop: its listed target (LIST says `-> ../..`) is a
 * folder it is in, or its listing — or that of a folder below it — is that of a folder above (MLSD
 * tells no target; an absolute one may be outside a chroot), or it is the ninth followed link in
 * one path. Broken links and links the server says nothing about are left
 * out either way.
 */
class RemoteLinks {
  private readonly mode: SymlinkMode;
  /** Listing fingerprints of the folders walked so far, by relative path. */
  private readonly prints = new Map<RelPath, string>();
  /** Followed links, and the folders below a followed folder link (→ that link). */
  private readonly followed = new Set<RelPath>();
  private readonly via = new Map<RelPath, RelPath>();

  constructor(
    private readonly remote: SyncRemote,
    private readonly ignore: IgnoreMatcher,
    private readonly options: WalkOptions,
  ) {
    this.mode = options.symlinks ?? DEFAULT_SYMLINKS;
  }

  /** The entries of the folder `rel` (remote path `dir`) with each link replaced by what it stands for, or left out. */
  async resolve(rel: RelPath, dir: string, entries: FileEntry[]): Promise<FileEntry[]> {
    if (this.mode === 'skip' && !entries.some((e) => e.type === 'symlink')) return entries;
    // Only a followed link can lead back into a folder above: skipping needs no fingerprints.
    const print = this.mode === 'follow' ? fingerprint(entries) : '';
    // A folder below a followed link may be a folder above it again (a link to '/', whose target
    // text says nothing under a chroot): its listing gives it away.
    const via = this.via.get(rel);
    if ((this.followed.has(rel) || via !== undefined) && this.isAncestorListing(rel, print)) {
      this.skip(rel, this.followed.has(rel) ? 'a symbolic link to a folder that contains it, not followed (it would loop)' : `a folder above, reached again through the symbolic link ${via}: not walked (it would loop)`);
      return [];
    }
    this.prints.set(rel, print);
    const out: FileEntry[] = [];
    await Promise.all(entries.map(async (e) => {
      if (e.type !== 'symlink') {
        out.push(e);
        return;
      }
      const child = joinRel(rel, e.name);
      const resolved = await this.follow(child, joinPath(dir, e.name), e);
      if (resolved) out.push(resolved);
    }));
    return out;
  }

  /**
   * For a walk that starts at `start`: the nearest folder above it that is a link on the server
   * (undefined: none; null: one, and links are skipped, so nothing below it is walked).
   */
  async linkAbove(root: string, start: RelPath): Promise<RelPath | null | undefined> {
    const parts = start.split('/');
    const found = await Promise.all(parts.slice(0, -1).map(async (name, i) => {
      const rel = parts.slice(0, i + 1).join('/');
      const entries = await listFresh(this.remote, dirname(remotePathOf(root, rel)));
      return entries?.some((e) => e.name === name && e.type === 'symlink') ? rel : undefined;
    }));
    const link = found.find((rel) => rel !== undefined);
    if (link === undefined) return undefined;
    if (this.mode === 'skip') {
      this.skip(link, 'a symbolic link on the server, left out (the link\'s "symlinks" is "skip")');
      return null;
    }
    return link;
  }

  /** The folder `rel` is below the followed link `link`. */
  below(rel: RelPath, link: RelPath): void {
    this.via.set(rel, link);
  }

  /** The tree entry of an entry `resolve` handed out. */
  treeEntry(rel: RelPath, e: FileEntry): TreeEntry {
    const entry = toTreeEntry(e);
    const via = this.via.get(parentOf(rel));
    if (via) entry.viaLink = via;
    if (this.followed.has(rel)) entry.symlink = true;
    if (e.type === 'directory' && (via || this.followed.has(rel))) this.via.set(rel, via ?? rel);
    return entry;
  }

  private async follow(rel: RelPath, remotePath: string, link: FileEntry): Promise<FileEntry | undefined> {
    // Ignored paths are left out quietly, whatever they point to (the type is not known yet: both asked).
    if (this.ignore.ignores(rel, false) && this.ignore.ignores(rel, true)) return undefined;
    if (this.mode === 'skip') {
      this.skip(rel, `a symbolic link${link.target ? ` to ${link.target}` : ''} on the server, left out (the link's "symlinks" is "skip")`);
      return undefined;
    }
    if (this.remote.statFromServer === undefined) {
      this.skip(rel, 'a symbolic link on the server, left out (what it points to cannot be asked)');
      return undefined;
    }
    const parent = path.posix.dirname(remotePath);
    if (link.target && !link.target.startsWith('/') && isSelfOrAncestor(path.posix.join(parent, link.target), parent)) {
      this.skip(rel, `a symbolic link to a folder that contains it (${link.target}), not followed (it would loop)`);
      return undefined;
    }
    const st = await this.remote.statFromServer(remotePath);
    if (st.broken) {
      this.skip(rel, `a broken symbolic link on the server${link.target ? ` (${link.target} does not exist)` : ''}`);
      return undefined;
    }
    if (st.type === 'directory') {
      if (rel.split('/').filter((_, i, parts) => this.followed.has(parts.slice(0, i + 1).join('/'))).length >= MAX_FOLLOWED_LINKS) {
        this.skip(rel, `a symbolic link below ${MAX_FOLLOWED_LINKS} others in one path, not followed`);
        return undefined;
      }
      this.followed.add(rel);
      return { ...link, type: 'directory', size: -1, mtime: st.mtime ?? link.mtime };
    }
    if (st.type === 'file' && st.size >= 0) {
      this.followed.add(rel);
      const entry: FileEntry = { ...link, type: 'file', size: st.size, mtime: st.mtime };
      if (st.mtimePrecision) entry.mtimePrecision = st.mtimePrecision;
      else delete entry.mtimePrecision;
      return entry;
    }
    this.skip(rel, 'a symbolic link on the server that does not tell what it points to, left out');
    return undefined;
  }

  private isAncestorListing(rel: RelPath, print: string): boolean {
    const parts = rel.split('/');
    for (let i = 0; i < parts.length; i++) {
      if (this.prints.get(parts.slice(0, i).join('/')) === print) return true;
    }
    return false;
  }

  private skip(rel: RelPath, reason: string): void {
    this.options.skippedLinks?.set(rel, reason);
  }
}

/** A folder's listing in one string: two listings alike in every name, type, size and time are taken as one folder. */
function fingerprint(entries: readonly FileEntry[]): string {
  return entries.map((e) => `${e.name}\0${e.type}\0${e.size}\0${e.mtime ?? ''}`).sort().join('\n');
}

function parentOf(rel: RelPath): RelPath {
  return rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
}

function isSelfOrAncestor(candidate: string, of: string): boolean {
  const c = candidate.replace(/\/+$/, '') || '/';
  return of === c || of.startsWith(c === '/' ? '/' : `${c}/`);
}

function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
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
