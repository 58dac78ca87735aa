/**
 * Runs the chosen actions of a plan: folders first (parents before children), then the file
 * copies in parallel through the pool, then deletions (files, then folders deepest first). Reports
 * files and bytes as they move; an abort stops new work and cancels transfers in flight. The
 * record of the last sync is updated for every action that completed, even when others failed,
 * from one listing per folder uploaded into (in parallel); a listing that shows another size than
 * was sent turns the action into a failure.
 *
 * A file created where nothing can be (a folder this run made, or one whose fresh listing lacks the
 * name) is stored straight under its name: one transfer, no stat, no rename. Anything else that
 * goes up — updates, and creates where a file appeared after the plan — uses the safe save.
 */
import * as fs from 'node:fs/promises';
import { isFtpError } from '../ftp/errors';
import { RemoteDirs } from './remoteDirs';
import { runParallel } from './parallel';
import type { SyncAction, SyncPlan } from './planner';
import type { SyncState } from './state';
import { localPathOf, remotePathOf } from './trees';
import { downloadFile, recordUploads, signatureOf, uploadFile, type LinkSide, type Uploaded } from './transfer';
import type { SyncRemote } from './types';

export interface SyncProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** The action that just finished or started. */
  current?: SyncAction;
}

export interface ExecuteOptions {
  localRoot: string;
  remoteRoot: string;
  remote: SyncRemote;
  state: SyncState;
  /** Files copied at once (default 4); the pool may run fewer connections and queue the rest. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: SyncProgress) => void;
}

export interface ExecuteResult {
  done: SyncAction[];
  failed: { action: SyncAction; error: Error }[];
  /** Not run because the user cancelled. */
  skipped: SyncAction[];
  cancelled: boolean;
}

function depth(rel: string): number {
  return rel.split('/').length;
}

export async function executePlan(plan: SyncPlan, actions: readonly SyncAction[], options: ExecuteOptions): Promise<ExecuteResult> {
  const { signal } = options;
  const link: LinkSide = {
    localRoot: options.localRoot,
    remoteRoot: options.remoteRoot,
    remote: options.remote,
    state: options.state,
    dirs: new RemoteDirs(options.remote, plan.direction === 'toRemote' ? plan.targetDirs.map((d) => remotePathOf(options.remoteRoot, d)) : []),
  };
  const result: ExecuteResult = { done: [], failed: [], skipped: [], cancelled: false };
  const progress: SyncProgress = { filesDone: 0, filesTotal: actions.length, bytesDone: 0, bytesTotal: actions.reduce((n, a) => n + a.bytes, 0) };
  const report = (current?: SyncAction) => options.onProgress?.({ ...progress, current });
  const started = new Set<SyncAction>();
  const uploads: Uploaded[] = [];

  for (const a of plan.adopt) options.state.set(a.path, { local: a.local, remote: a.remote });
  for (const path of plan.forget) options.state.delete(path);

  const run = async (action: SyncAction, work: (onBytes: (n: number) => void) => Promise<void>): Promise<void> => {
    if (signal?.aborted) return;
    started.add(action);
    let moved = 0;
    const onBytes = (n: number) => {
      progress.bytesDone += n - moved;
      moved = n;
      report(action);
    };
    try {
      await work(onBytes);
      progress.bytesDone += action.bytes - moved;
      result.done.push(action);
    } catch (err) {
      progress.bytesDone -= moved;
      if (signal?.aborted || isFtpError(err, 'cancelled')) result.skipped.push(action);
      else result.failed.push({ action, error: err instanceof Error ? err : new Error(String(err)) });
    }
    progress.filesDone++;
    report(action);
  };

  const mkdirs = actions.filter((a) => a.type === 'directory' && a.kind === 'create');
  const copies = actions.filter((a) => a.type === 'file' && a.kind !== 'delete');
  const fileDeletes = actions.filter((a) => a.type === 'file' && a.kind === 'delete');
  const dirDeletes = actions.filter((a) => a.type === 'directory' && a.kind === 'delete').sort((a, b) => depth(b.path) - depth(a.path));
  const concurrency = options.concurrency ?? 4;

  try {
    report();
    // Parents before children: one depth level at a time, each level in parallel.
    for (const level of [...new Set(mkdirs.map((a) => depth(a.path)))].sort((a, b) => a - b)) {
      await runParallel(mkdirs.filter((a) => depth(a.path) === level), concurrency, (a) => run(a, () => makeDirectory(link, a)), signal);
    }
    await runParallel(copies, concurrency, (a) => run(a, (onBytes) => copy(link, a, uploads, { signal, onProgress: onBytes })), signal);
    await runParallel(fileDeletes, concurrency, (a) => run(a, () => deleteFile(link, a)), signal);
    for (const a of dirDeletes) await run(a, () => deleteDirectory(link, a));
  } finally {
    if (uploads.length > 0) {
      // One listing per folder, in parallel; an upload the listing contradicts did not succeed.
      for (const { path, error } of await recordUploads(link, uploads, concurrency)) {
        const i = result.done.findIndex((a) => a.path === path && a.type === 'file' && a.target === 'remote');
        if (i >= 0) result.failed.push({ action: result.done.splice(i, 1)[0], error });
      }
    }
    result.skipped.push(...actions.filter((a) => !started.has(a)));
    result.cancelled = !!signal?.aborted;
    await options.state.save();
  }
  return result;
}

async function makeDirectory(link: LinkSide, action: SyncAction): Promise<void> {
  if (action.target === 'local') await fs.mkdir(localPathOf(link.localRoot, action.path), { recursive: true });
  else await link.dirs.ensure(remotePathOf(link.remoteRoot, action.path));
}

async function copy(link: LinkSide, action: SyncAction, uploads: Uploaded[], opts: { signal?: AbortSignal; onProgress: (n: number) => void }): Promise<void> {
  if (action.target === 'remote') {
    uploads.push(await uploadFile(link, action.path, { ...opts, expectAbsent: action.kind === 'create' }));
  } else {
    if (!action.source) throw new Error(`${action.path}: nothing to download`);
    await downloadFile(link, action.path, signatureOf(action.source), opts);
  }
}

/** Already gone on the server is as good as deleted. */
async function deleteRemoteIfPresent(link: LinkSide, path: string): Promise<void> {
  try {
    await link.remote.delete(remotePathOf(link.remoteRoot, path), { recursive: false });
  } catch (err) {
    if (!isFtpError(err, 'not-found')) throw err;
  }
}

async function deleteFile(link: LinkSide, action: SyncAction): Promise<void> {
  if (action.target === 'local' && action.link) {
    await unlinkLocal(localPathOf(link.localRoot, action.path));
  } else if (action.target === 'local') {
    await fs.rm(localPathOf(link.localRoot, action.path), { force: true });
  } else {
    await deleteRemoteIfPresent(link, action.path);
  }
  link.state.delete(action.path);
}

/**
 * Not recursive: files the plan did not delete (ignored ones, unticked ones) keep their folder. A
 * link to a folder is removed as a link (unlink here, DELE on the server: RemoteFs.delete tells a
 * link by a fresh listing), never emptied.
 */
async function deleteDirectory(link: LinkSide, action: SyncAction): Promise<void> {
  if (action.target === 'local' && action.link) {
    await unlinkLocal(localPathOf(link.localRoot, action.path));
  } else if (action.target === 'local') {
    try {
      await fs.rmdir(localPathOf(link.localRoot, action.path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  } else {
    await deleteRemoteIfPresent(link, action.path);
  }
  link.state.deleteTree(action.path);
}

/** Removes a symbolic link itself; refuses anything that is no longer one (it may have become a real folder since the plan). */
async function unlinkLocal(file: string): Promise<void> {
  const st = await fs.lstat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return;
  if (!st.isSymbolicLink()) throw new Error(`${file} is no longer a symbolic link; left as it is`);
  await fs.unlink(file);
}
