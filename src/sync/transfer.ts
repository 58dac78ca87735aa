/**
 * Copying one file of a link either way and recording the result, shared by the sync executor and
 * the upload-on-save queue. Uploads go through RemoteFs.writeFile, the editor's own safe save,
 * except a sync's new files where the server surely has nothing yet: those are stored straight
 * under their names (RemoteFs.createFile), as nothing there could be left half-written.
 *
 * What gets recorded for the server's side is what a listing shows, not what the upload's stat
 * said: plans are made from listings, and servers without MLSD list times to the minute while
 * MDTM has seconds — mixing the two would make every uploaded file look changed on the server.
 */
import * as fs from 'node:fs/promises';
import { FtpError } from '../ftp/errors';
import { basename, dirname } from '../ftp/remotePath';
import { sourceSize, type FileEntry, type TransferOptions, type UploadSource } from '../ftp/types';
import { localSignature, writeLocalFile } from './localFiles';
import type { RemoteDirs } from './remoteDirs';
import { runParallel } from './parallel';
import type { SyncState } from './state';
import { listFresh, localPathOf, remotePathOf } from './trees';
import { sameSignature, type RelPath, type Signature, type SyncRemote } from './types';

/** Files up to this size are read into memory for an upload; bigger ones stream from the disk. */
const IN_MEMORY_MAX = 1024 * 1024;

export interface LinkSide {
  localRoot: string;
  /** Absolute path on the server (remoteRoot of the profile already applied). */
  remoteRoot: string;
  remote: SyncRemote;
  state: SyncState;
  dirs: RemoteDirs;
}

export interface Uploaded {
  path: RelPath;
  local: Signature;
  /** Bytes sent: a listing that shows another size afterwards means the server does not hold them. */
  bytes: number;
  /** From the safe save's own stat, used only if the folder cannot be listed afterwards. */
  written?: Signature;
}

export function signatureOf(e: { size: number; mtime?: number }): Signature {
  return e.mtime === undefined ? { size: e.size } : { size: e.size, mtime: e.mtime };
}

export interface UploadOptions extends TransferOptions {
  /**
   * The plan expects no file at the target (a `create` action). If `link.dirs` confirms it (the
   * folder was made by this run, or a fresh listing lacks the name), the file is stored straight
   * under its name with no stat before or after, and recordUploads checks its size in the
   * listing; otherwise it goes through the safe save like any other upload.
   */
  expectAbsent?: boolean;
}

/** Uploads one local file over (or as) its remote twin; call recordUploads afterwards. */
export async function uploadFile(link: LinkSide, rel: RelPath, opts: UploadOptions = {}): Promise<Uploaded> {
  const file = localPathOf(link.localRoot, rel);
  // Stat before reading: if the file changes while it is read, the record holds the older time
  // and the next sync sees a change — the safe way round.
  const local = await localSignature(file);
  // Small files in one read; big ones are read in blocks as they go, never whole in memory.
  const data: UploadSource = local.size <= IN_MEMORY_MAX ? await fs.readFile(file) : { file, size: local.size };
  const target = remotePathOf(link.remoteRoot, rel);
  const transfer: TransferOptions = { signal: opts.signal, onProgress: opts.onProgress };
  await link.dirs.ensure(dirname(target));
  if (opts.expectAbsent && (await link.dirs.isAbsent(target))) {
    return { path: rel, local, bytes: await link.remote.createFile(target, data, transfer) };
  }
  const written = await link.remote.writeFile(target, data, { create: true, overwrite: true, ...transfer });
  return { path: rel, local, bytes: sourceSize(data), written: signatureOf(written) };
}

/**
 * Records uploaded files with their remote signatures from one fresh listing per folder, folders
 * `concurrency` at a time. Returns the uploads the listing contradicts (another size than was
 * sent): those are recorded with the size sent only, so the next sync or upload sees the server's
 * copy as changed and asks instead of overwriting it. A file the listing does
 * not show (a server hiding dot files) keeps the safe save's own stat, or stays unrecorded.
 */
export async function recordUploads(link: LinkSide, uploads: readonly Uploaded[], concurrency = 4): Promise<{ path: RelPath; error: Error }[]> {
  const byDir = new Map<string, Uploaded[]>();
  for (const u of uploads) {
    const dir = dirname(remotePathOf(link.remoteRoot, u.path));
    byDir.set(dir, [...(byDir.get(dir) ?? []), u]);
  }
  const contradicted: { path: RelPath; error: Error }[] = [];
  await runParallel([...byDir], concurrency, async ([dir, items]) => {
    let entries: FileEntry[] | undefined;
    try {
      entries = await listFresh(link.remote, dir);
    } catch {
      entries = undefined;
    }
    for (const u of items) {
      const target = remotePathOf(link.remoteRoot, u.path);
      const entry = entries?.find((e) => e.name === basename(target) && e.type === 'file');
      if (entry && entry.size >= 0 && entry.size !== u.bytes) {
        // Cut short, or someone changed it in between. Recording the listing as ours would let the
        // next upload overwrite their change unasked; recording what we sent makes it a change to
        // ask about, and a local side that matches no file keeps the next save from being skipped.
        link.state.set(u.path, { local: { size: -1 }, remote: { size: u.bytes } });
        contradicted.push({
          path: u.path,
          error: new FtpError('server', `After the upload of ${target} the server lists ${entry.size} bytes, not the ${u.bytes} sent: the upload was cut short, or someone else changed the file meanwhile`),
        });
      } else if (entry || u.written) {
        link.state.set(u.path, { local: u.local, remote: entry ? signatureOf(entry) : u.written! });
      } else {
        link.state.delete(u.path);
      }
    }
  });
  link.state.saveSoon();
  return contradicted;
}

/** Downloads one remote file over (or as) its local twin and records it. */
export async function downloadFile(link: LinkSide, rel: RelPath, remoteSignature: Signature, opts: TransferOptions = {}): Promise<void> {
  const local = await writeLocalFile(localPathOf(link.localRoot, rel), (temp) => link.remote.downloadToFile(remotePathOf(link.remoteRoot, rel), temp, { ...opts, expectedSize: remoteSignature.size }));
  link.state.set(rel, { local, remote: remoteSignature });
  link.state.saveSoon();
}

/** What the server has at `rel` right now (from a fresh listing of its folder). */
export async function remoteEntry(link: LinkSide, rel: RelPath): Promise<FileEntry | undefined> {
  const target = remotePathOf(link.remoteRoot, rel);
  const entries = await listFresh(link.remote, dirname(target));
  return entries?.find((e) => e.name === basename(target));
}

export type RemoteCheck =
  | { kind: 'clear'; entry?: FileEntry }
  /** The server's copy changed since our last sync of it: uploading would lose that change. */
  | { kind: 'changed'; entry: FileEntry }
  | { kind: 'not-a-file'; entry: FileEntry };

/**
 * Before an upload: has the server's copy changed since we last synced it? A file we never synced
 * has nothing to compare with, so it is clear (the sync preview is where such files are judged).
 */
export async function checkRemote(link: LinkSide, rel: RelPath): Promise<RemoteCheck> {
  const entry = await remoteEntry(link, rel);
  if (!entry) return { kind: 'clear' };
  if (entry.type === 'directory') return { kind: 'not-a-file', entry };
  let rec = link.state.get(rel);
  if (rec && !sameSignature(signatureOf(entry), rec.remote) && entry.mtimePrecision && link.remote.listTimeZone) {
    // Perhaps only recorded in another zone (a record from before zones were detected).
    link.state.reconcileZone([[rel, { type: 'file', size: entry.size, mtime: entry.mtime, mtimePrecision: entry.mtimePrecision }]], await link.remote.listTimeZone(), false);
    rec = link.state.get(rel);
  }
  if (rec && !sameSignature(signatureOf(entry), rec.remote)) return { kind: 'changed', entry };
  return { kind: 'clear', entry };
}

export function cancelled(): FtpError {
  return new FtpError('cancelled', 'Cancelled');
}

/** What to do about a server copy that changed since our last sync of it. */
export type ConflictDecision = 'overwrite' | 'skip' | 'keep-pending';

/** An upload held back because the server's copy changed and the user has not decided yet. */
export class UploadConflictError extends Error {
  constructor(readonly path: RelPath) {
    super(`${path} changed on the server since the last sync — not uploaded. Compare, then upload again to overwrite it.`);
    this.name = 'UploadConflictError';
  }
}

/**
 * One upload as upload-on-save and the Upload command do it: check the server's copy first and
 * let `decide` choose when it changed since our last sync; then upload and record. 'keep-pending'
 * throws UploadConflictError, so a queue keeps the upload pending.
 */
export async function uploadChecked(
  link: LinkSide,
  rel: RelPath,
  decide: (entry: FileEntry) => Promise<ConflictDecision>,
  opts: TransferOptions = {},
): Promise<'uploaded' | 'skipped'> {
  try {
    await fs.stat(localPathOf(link.localRoot, rel));
  } catch (err) {
    // Saved, then deleted or renamed before its turn came: nothing left to upload.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'skipped';
    throw err;
  }
  const check = await checkRemote(link, rel);
  if (check.kind === 'not-a-file') throw new FtpError('exists', `${remotePathOf(link.remoteRoot, rel)} is a folder on the server`);
  if (check.kind === 'changed') {
    const decision = await decide(check.entry);
    if (decision === 'skip') return 'skipped';
    if (decision === 'keep-pending') throw new UploadConflictError(rel);
  }
  const uploaded = await uploadFile(link, rel, opts);
  const [contradicted] = await recordUploads(link, [uploaded]);
  if (contradicted) throw contradicted.error;
  return 'uploaded';
}
