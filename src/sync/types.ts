/** Shared shapes of the sync logic. No `vscode` import anywhere under src/sync. */
import type { Checksum } from '../ftp/checksum';
import type { FileEntry, TransferOptions, UploadSource } from '../ftp/types';

/** Path relative to a link's root: POSIX separators, no leading slash, never `.` or `..`. */
export type RelPath = string;

/** What a file looked like on one side at one moment: enough to tell that it changed since. */
export interface Signature {
  size: number;
  /** ms since the epoch; undefined when the server does not tell. */
  mtime?: number;
}

export interface TreeEntry extends Signature {
  type: 'file' | 'directory';
  /** A LIST time, shown to this precision (see FileEntry.mtimePrecision); unset: exact. */
  mtimePrecision?: 'second' | 'minute' | 'day';
  /** A symbolic link followed as its target (the link's `symlinks: "follow"`): removing it removes the link only. */
  symlink?: boolean;
  /** Below a followed link to a folder: that link's path. A sync never deletes through a link. */
  viaLink?: RelPath;
}

/** What a link does with symbolic links on either side: follow them as their targets, or leave them out. */
export type SymlinkMode = 'follow' | 'skip';
export const SYMLINK_MODES: readonly SymlinkMode[] = ['follow', 'skip'];
/** rsync's default too: a link is not copied unless asked, so a sync neither duplicates a tree nor loops. */
export const DEFAULT_SYMLINKS: SymlinkMode = 'skip';

/** Links left out of a walk (skipped, broken, looping), by relative path, with the reason in words. */
export type SkippedLinks = Map<RelPath, string>;

/** Everything under a link's root on one side, by relative path (folders included). */
export type Tree = Map<RelPath, TreeEntry>;

/**
 * The remote file operations sync needs. RemoteFs (src/remote/remoteFs.ts) has them all, so syncs
 * use the same pool, listing cache and safe save (temporary upload + rename) as the editor.
 */
export interface SyncRemote {
  list(path: string): Promise<FileEntry[]>;
  /** Downloads into a local file, written as it arrives; resolves with the bytes received. */
  downloadToFile(path: string, localPath: string, opts?: TransferOptions & { expectedSize?: number }): Promise<number>;
  writeFile(path: string, data: UploadSource, opts: TransferOptions & { create: boolean; overwrite: boolean }): Promise<FileEntry & { created: boolean }>;
  /** Stores a file known to be absent straight under its name (no safe save, no stat); resolves with the bytes sent. */
  createFile(path: string, data: UploadSource, opts?: TransferOptions): Promise<number>;
  createDirectory(path: string): Promise<void>;
  delete(path: string, opts: { recursive: boolean }): Promise<void>;
  /** DELE or RMD of an entry a fresh listing just showed as that type (no second look). */
  removeListed(path: string, type: 'file' | 'directory'): Promise<void>;
  /** RNFR/RNTO; with `overwrite: false` an existing target is refused before anything is sent. */
  rename(from: string, to: string, opts: { overwrite: boolean }): Promise<void>;
  readonly cache: { invalidate(path: string): void };
  /**
   * What is at a path, asked of the server through a symbolic link (its target's type, size and
   * time; `broken` when it points nowhere). Without it, a sync leaves the server's links out.
   */
  statFromServer?(path: string): Promise<FileEntry & { broken?: boolean }>;
  /** Minutes east of UTC the server's LIST times are moved by now (0 where unknown); see SyncState.reconcileZone. */
  listTimeZone?(): Promise<number>;
  /** The server's checksum of a file; undefined where it offers none. */
  checksum?(path: string): Promise<Checksum | undefined>;
}

export function sameSignature(a: Signature | undefined, b: Signature | undefined): boolean {
  if (!a || !b) return a === b;
  return a.size === b.size && a.mtime === b.mtime;
}
