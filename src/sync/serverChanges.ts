/**
 * Local deletes and renames carried out on the server: first a look (what is there, and whether
 * the server's copy changed since our last sync), then a choice by the link's settings — with
 * what must be asked singled out — then the operations. A rename is RNFR/RNTO, never a copy; a
 * folder is deleted file by file and folder by folder (RMD takes only empty ones), from a walk
 * that leaves ignored paths out, so an ignored file keeps its folder on the server. The record of
 * the last sync follows: renamed entries move with their files, deleted ones are dropped.
 */
import { isFtpError } from '../ftp/errors';
import { basename, dirname } from '../ftp/remotePath';
import type { FileEntry } from '../ftp/types';
import type { IgnoreMatcher } from './ignore';
import type { LocalChangesPlan } from './localChanges';
import { runParallel } from './parallel';
import { signatureOf, type LinkSide } from './transfer';
import { listFresh, remotePathOf, walkRemote } from './trees';
import { sameSignature, type RelPath } from './types';

/** What a link does with a local delete or rename: `ask` once per batch, `always`, or `never`. */
export type PropagationMode = 'ask' | 'always' | 'never';
export const PROPAGATION_MODES: readonly PropagationMode[] = ['ask', 'always', 'never'];

export interface ServerDelete {
  kind: 'delete';
  path: RelPath;
  type: 'file' | 'directory';
  /** The files that would go (the file itself, or the folder's files but ignored ones). */
  files: RelPath[];
  /** Files changed on the server since our last sync of them, or never synced: never deleted unasked. */
  changed: RelPath[];
  /** The folder's sub-folders (not ignored), for a folder. */
  dirs: RelPath[];
  /**
   * Set when the path lies in a folder renamed in the same batch: where it is on the server until
   * that rename is done (all paths above are as they will be after it).
   */
  at?: RelPath;
  rename?: { from: RelPath; to: RelPath };
}

export interface ServerRename {
  kind: 'rename';
  from: RelPath;
  to: RelPath;
  type: 'file' | 'directory';
}

export type ServerChange = ServerDelete | ServerRename;

export interface ServerChanges {
  changes: ServerChange[];
  /** Renamed here but not on the server (never uploaded): the new path is an upload, if the link uploads. */
  notOnServer: RelPath[];
  /** Left alone, with why (a rename onto an existing server file, a link on the server). */
  problems: { path: RelPath; message: string }[];
}

/** Looks at the server for each delete and rename of the plan: one fresh listing per folder involved. */
export async function inspectServerChanges(link: LinkSide, ignore: IgnoreMatcher, plan: LocalChangesPlan, concurrency = 4): Promise<ServerChanges> {
  const listings = new Map<string, Promise<FileEntry[] | undefined>>();
  const entryAt = async (rel: RelPath): Promise<FileEntry | undefined> => {
    const target = remotePathOf(link.remoteRoot, rel);
    const dir = dirname(target);
    if (!listings.has(dir)) listings.set(dir, listFresh(link.remote, dir));
    return (await listings.get(dir))?.find((e) => e.name === basename(target));
  };
  const out: ServerChanges = { changes: [], notOnServer: [], problems: [] };
  const changedOnServer = (rel: RelPath, e: { size: number; mtime?: number }) => {
    const rec = link.state.get(rel);
    return !rec || !sameSignature(signatureOf(e), rec.remote);
  };

  const renames: ServerRename[] = [];
  await runParallel(plan.renames, concurrency, async ({ from, to }) => {
    const [source, target] = await Promise.all([entryAt(from), entryAt(to)]);
    if (!source) out.notOnServer.push(to);
    else if (source.type !== 'file' && source.type !== 'directory') out.problems.push({ path: from, message: 'a link or special file on the server: left as it is' });
    else if (target) out.problems.push({ path: to, message: `${remotePathOf(link.remoteRoot, to)} already exists on the server: ${from} was not renamed over it` });
    else renames.push({ kind: 'rename', from, to, type: source.type });
  });
  // Parents before children: a folder moved, then something moved into it.
  renames.sort((a, b) => (a.to < b.to ? -1 : 1));

  const deletes: ServerDelete[] = [];
  await runParallel(plan.deletes, concurrency, async (rel) => {
    // A delete inside a folder renamed in this batch: on the server it is still at the old place.
    const under = plan.renames.find((r) => rel.startsWith(`${r.to}/`));
    const at = under ? `${under.from}${rel.slice(under.to.length)}` : rel;
    const e = await entryAt(at);
    if (!e) return;
    const inRenamed = under ? { at, rename: { from: under.from, to: under.to } } : {};
    if (e.type === 'file') {
      if (ignore.ignores(rel, false)) return;
      deletes.push({ kind: 'delete', path: rel, type: 'file', files: [rel], dirs: [], changed: changedOnServer(at, e) ? [rel] : [], ...inRenamed });
    } else if (e.type === 'directory') {
      if (ignore.ignores(rel, true)) return;
      // Links are never followed here: what a delete takes must not be reached through one.
      const tree = await walkRemote(link.remote, link.remoteRoot, ignore, { start: at, concurrency, symlinks: 'skip' });
      const here = (p: RelPath) => `${rel}${p.slice(at.length)}`;
      const files = [...tree].filter(([, t]) => t.type === 'file');
      deletes.push({
        kind: 'delete',
        path: rel,
        type: 'directory',
        files: files.map(([p]) => here(p)),
        dirs: [...tree].filter(([p, t]) => t.type === 'directory' && p !== at).map(([p]) => here(p)),
        changed: files.filter(([p, t]) => changedOnServer(p, t)).map(([p]) => here(p)),
        ...inRenamed,
      });
    } else {
      out.problems.push({ path: rel, message: 'a link or special file on the server: left as it is' });
    }
  });
  deletes.sort((a, b) => (a.path < b.path ? -1 : 1));
  out.changes = [...renames, ...deletes];
  return out;
}

export interface PropagationChoice {
  /** Done without a question. */
  go: ServerChange[];
  /** Asked about, in one question. */
  ask: ServerChange[];
  /** Left alone by the settings (`never`). */
  kept: ServerChange[];
}

/**
 * Sorts changes by the link's settings. A delete that would take a file changed on the server
 * since our last sync (or never synced by us) is asked about even under `always`.
 */
export function choosePropagation(changes: readonly ServerChange[], modes: { deletes: PropagationMode; renames: PropagationMode }): PropagationChoice {
  const out: PropagationChoice = { go: [], ask: [], kept: [] };
  for (const c of changes) {
    const mode = c.kind === 'delete' ? modes.deletes : modes.renames;
    if (mode === 'never') out.kept.push(c);
    else if (mode === 'ask' || (c.kind === 'delete' && c.changed.length > 0)) out.ask.push(c);
    else out.go.push(c);
  }
  return out;
}

export interface AppliedChanges {
  done: ServerChange[];
  failed: { change: ServerChange; error: Error }[];
  /** Folders left on the server because they still hold something (ignored files). */
  keptFolders: RelPath[];
}

/** Carries out the changes on the server, renames first (deletes are addressed where renames put things). */
export async function applyServerChanges(link: LinkSide, changes: readonly ServerChange[], concurrency = 4): Promise<AppliedChanges> {
  const out: AppliedChanges = { done: [], failed: [], keptFolders: [] };
  const abs = (rel: RelPath) => remotePathOf(link.remoteRoot, rel);
  const attempt = async (change: ServerChange, work: () => Promise<void>) => {
    try {
      await work();
      out.done.push(change);
    } catch (err) {
      out.failed.push({ change, error: err instanceof Error ? err : new Error(String(err)) });
    }
  };
  /** A file the look before found as a plain file: DELE alone. */
  const deleteFile = async (rel: RelPath) => {
    try {
      await link.remote.removeListed(abs(rel), 'file');
    } catch (err) {
      // Already gone is as good as deleted.
      if (!isFtpError(err, 'not-found')) throw err;
    }
    link.state.delete(rel);
  };
  try {
    for (const r of changes.filter((c): c is ServerRename => c.kind === 'rename')) {
      await attempt(r, async () => {
        // Into another folder, which may be new here: made first (RNTO makes no folders).
        if (dirname(abs(r.to)) !== dirname(abs(r.from))) await link.dirs.ensure(dirname(abs(r.to)));
        await link.remote.rename(abs(r.from), abs(r.to), { overwrite: false });
        moveRecord(link, r.from, r.to);
      });
    }
    for (const d of changes.filter((c): c is ServerDelete => c.kind === 'delete')) {
      // Its folder's rename kept (not done, or failed): the delete is made at the old place.
      const renamed = !d.rename || out.done.some((c) => c.kind === 'rename' && c.from === d.rename!.from && c.to === d.rename!.to);
      const where = (p: RelPath) => (renamed || d.at === undefined ? p : `${d.at}${p.slice(d.path.length)}`);
      await attempt(d, async () => {
        if (d.type === 'file') return deleteFile(where(d.path));
        await runParallel(d.files.map(where), concurrency, deleteFile);
        // Deepest first; a folder that still holds something (an ignored file) stays, with its parents.
        const depth = (p: RelPath) => p.split('/').length;
        for (const dir of [...d.dirs, d.path].map(where).sort((a, b) => depth(b) - depth(a))) {
          if (out.keptFolders.some((k) => k.startsWith(`${dir}/`))) {
            out.keptFolders.push(dir);
            continue;
          }
          try {
            await link.remote.removeListed(abs(dir), 'directory');
          } catch (err) {
            if (isFtpError(err, 'not-found')) continue;
            const left = await listFresh(link.remote, abs(dir)).catch(() => undefined);
            if (!left || left.length === 0) throw err;
            out.keptFolders.push(dir);
          }
        }
        if (!out.keptFolders.includes(where(d.path))) link.state.deleteTree(where(d.path));
      });
    }
  } finally {
    link.remote.cache.invalidate(link.remoteRoot);
    await link.state.save();
  }
  return out;
}

/** A rename's record: every entry at or under `from` moves to `to`, unchanged (a rename changes no file). */
function moveRecord(link: LinkSide, from: RelPath, to: RelPath): void {
  for (const key of link.state.keys()) {
    if (key !== from && !key.startsWith(`${from}/`)) continue;
    const entry = link.state.get(key)!;
    link.state.delete(key);
    link.state.set(`${to}${key.slice(from.length)}`, entry);
  }
}
