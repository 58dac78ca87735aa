/**
 * Decides what a sync does: from the local tree, the remote tree and our record of the last sync,
 * the files and folders to create, update or delete on the target side, and the conflicts — a
 * file changed on both sides, or changed on one and deleted on the other — that a sync would
 * silently lose one side of. Pure: no I/O, so every case is a unit test.
 *
 * A file "changed" on a side when its size or modification time differs from what the record
 * says that side had after the last sync. Without a record (never synced) only size and time can
 * be compared across the sides, so a file that differs and is not clearly newer on the source is
 * a conflict, not a guess.
 */
import { IgnoreMatcher } from './ignore';
import type { SyncRecord } from './state';
import { sameSignature, type RelPath, type Signature, type Tree, type TreeEntry } from './types';

/** `toRemote`: make the server like this computer ("Sync local → remote"); `toLocal`: the reverse. */
export type Direction = 'toRemote' | 'toLocal';
export type Side = 'local' | 'remote';
export type ActionKind = 'create' | 'update' | 'delete';

export interface SyncAction {
  /** Unique in a plan: `${kind}:${path}`. */
  id: string;
  kind: ActionKind;
  type: 'file' | 'directory';
  path: RelPath;
  /** The side the action changes. */
  target: Side;
  /** Bytes to copy (files created or updated), else 0. */
  bytes: number;
  /** Why, in words for the preview. */
  reason: string;
  /** Doing it would lose a change made on the target side (or keep one the source deleted). */
  conflict: boolean;
  /** Ticked by default in the preview: never deletions nor conflicts. */
  recommended: boolean;
  /** The entry to copy, as the plan saw it. */
  source?: TreeEntry;
  /** A delete of a symbolic link (followed as its target): the link alone is removed, never what it points to. */
  link?: boolean;
}

export interface SyncPlan {
  direction: Direction;
  actions: SyncAction[];
  /** Files found equal on both sides that had no record yet: recorded as in sync. */
  adopt: { path: RelPath; local: Signature; remote: Signature }[];
  /** Record entries of files gone from both sides. */
  forget: RelPath[];
  /**
   * Paths a sync cannot handle or leaves out, with the reason: a file on one side and a folder on
   * the other, a symbolic link skipped (or broken, or looping), files below a followed link that a
   * sync would otherwise delete.
   */
  problems: { path: RelPath; message: string }[];
  /** Folders that exist on the target side (the executor creates only the missing ones). */
  targetDirs: RelPath[];
}

export interface PlanInput {
  direction: Direction;
  local: Tree;
  remote: Tree;
  record: SyncRecord & { keys(): RelPath[] };
  ignore?: IgnoreMatcher;
  /** The file or folder the trees were read for ('' = the whole link): limits which record entries are forgotten. */
  scope?: RelPath;
  /**
   * Never-synced files of the same size on both sides, compared by checksum (see
   * `contentCandidates`): true = the same bytes. Where the times cannot tell, this decides instead
   * of the size alone; a path missing here is judged by size and time as before.
   */
  sameContent?: ReadonlyMap<RelPath, boolean>;
  /**
   * Symbolic links the walks left out (either side), with the reason: each path, and everything
   * below it on the other side too, is out of the plan, and listed among its problems.
   */
  skippedLinks?: ReadonlyMap<RelPath, string>;
}

/**
 * The files whose plan a checksum can settle: on both sides, never synced, of the same size — the
 * ones that size and time would otherwise call equal (or newer) on a guess.
 */
export function contentCandidates(input: Pick<PlanInput, 'local' | 'remote' | 'record' | 'ignore'>): RelPath[] {
  const out: RelPath[] = [];
  for (const [path, l] of input.local) {
    const r = input.remote.get(path);
    if (l.type !== 'file' || r?.type !== 'file' || l.size !== r.size || l.size < 0 || input.record.get(path)) continue;
    if (input.ignore?.ignores(path, false)) continue;
    out.push(path);
  }
  return out.sort();
}

/**
 * How far apart two times may be and still not tell which file is newer. A LIST time (servers
 * without MLSD) is the server's local time cut to the minute, or to the day for files older than
 * about six months, moved to UTC by the server's zone (src/ftp/timeZone.ts): the file's true time
 * is up to a minute, or a day, later than shown. A time on a whole minute from elsewhere may be one
 * too. Two clocks are compared here, so allow some slack in any case.
 */
function tolerance(a: TreeEntry, b: TreeEntry): number {
  const slack = (e: TreeEntry) => {
    if (e.mtimePrecision === 'day') return DAY_MS;
    if (e.mtimePrecision === 'minute' || (e.mtime !== undefined && e.mtime % MINUTE_MS === 0)) return MINUTE_MS;
    return 2_000;
  };
  return Math.max(slack(a), slack(b));
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

const WHERE: Record<Side, string> = { local: 'locally', remote: 'on the server' };
const ONLY: Record<Side, string> = { local: 'only on this computer', remote: 'only on the server' };

function signatureOf(e: TreeEntry): Signature {
  return e.mtime === undefined ? { size: e.size } : { size: e.size, mtime: e.mtime };
}

export function planSync(input: PlanInput): SyncPlan {
  const { direction, local, remote, record } = input;
  const ignore = input.ignore ?? new IgnoreMatcher([], false);
  const sourceSide: Side = direction === 'toRemote' ? 'local' : 'remote';
  const targetSide: Side = direction === 'toRemote' ? 'remote' : 'local';
  const sourceTree = direction === 'toRemote' ? local : remote;
  const targetTree = direction === 'toRemote' ? remote : local;
  const targetDirs = [...targetTree].filter(([, e]) => e.type === 'directory').map(([p]) => p);
  const plan: SyncPlan = { direction, actions: [], adopt: [], forget: [], problems: [], targetDirs };
  const add = (kind: ActionKind, type: 'file' | 'directory', path: RelPath, reason: string, opts: { conflict?: boolean; source?: TreeEntry; link?: boolean } = {}) => {
    const conflict = opts.conflict ?? false;
    plan.actions.push({
      id: `${kind}:${path}`,
      kind,
      type,
      path,
      target: targetSide,
      bytes: kind !== 'delete' && type === 'file' ? Math.max(0, opts.source?.size ?? 0) : 0,
      reason,
      conflict,
      recommended: !conflict && kind !== 'delete',
      source: opts.source,
      ...(opts.link ? { link: true } : {}),
    });
  };

  const skippedLinks = input.skippedLinks ?? new Map<RelPath, string>();
  for (const [path, message] of skippedLinks) plan.problems.push({ path, message });
  const belowSkipped = (path: RelPath) => skippedLinks.size > 0 && path.split('/').some((_, i, parts) => skippedLinks.has(parts.slice(0, i + 1).join('/')));
  const hasSkippedBelow = (path: RelPath) => [...skippedLinks.keys()].some((link) => link.startsWith(`${path}/`));
  /** Files only on the target side below a followed link, by link: never deleted through it. */
  const keptBelowLinks = new Map<RelPath, number>();

  const paths = new Set([...sourceTree.keys(), ...targetTree.keys()]);
  for (const path of paths) {
    const src = sourceTree.get(path);
    const tgt = targetTree.get(path);
    if (ignore.ignores(path, (src ?? tgt)!.type === 'directory')) continue;
    if (belowSkipped(path)) continue;
    if (!src && tgt?.viaLink !== undefined) {
      if (tgt.type === 'file') keptBelowLinks.set(tgt.viaLink, (keptBelowLinks.get(tgt.viaLink) ?? 0) + 1);
      continue;
    }

    if (src && tgt && src.type !== tgt.type) {
      plan.problems.push({ path, message: `a ${src.type === 'file' ? 'file' : 'folder'} ${WHERE[sourceSide]} but a ${tgt.type === 'file' ? 'file' : 'folder'} ${WHERE[targetSide]}` });
      continue;
    }
    if ((src ?? tgt)!.type === 'directory') {
      if (src && !tgt) add('create', 'directory', path, `folder ${ONLY[sourceSide]}`);
      else if (!src && tgt?.symlink) add('delete', 'directory', path, `symbolic link to a folder, ${ONLY[targetSide]}: the link alone is removed, not the folder it points to`, { link: true });
      // A link left out below it stays, so the folder could not be removed (RMD takes only an empty one).
      else if (!src && tgt && !hasSkippedBelow(path)) add('delete', 'directory', path, `folder ${ONLY[targetSide]}`);
      continue;
    }

    const rec = record.get(path);
    const changed = (entry: TreeEntry | undefined, side: Side) => !!entry && (!rec || !sameSignature(signatureOf(entry), rec[side]));
    const srcChanged = changed(src, sourceSide);
    const tgtChanged = changed(tgt, targetSide);

    if (src && !tgt) {
      if (!rec) add('create', 'file', path, `new, ${ONLY[sourceSide]}`, { source: src });
      else if (srcChanged) add('create', 'file', path, `changed ${WHERE[sourceSide]} but deleted ${WHERE[targetSide]} since the last sync`, { conflict: true, source: src });
      else add('create', 'file', path, `deleted ${WHERE[targetSide]} since the last sync — copied again`, { source: src });
    } else if (!src && tgt?.symlink) {
      add('delete', 'file', path, `symbolic link to a file, ${ONLY[targetSide]}: the link alone is removed, not the file it points to`, { link: true, conflict: !!rec && tgtChanged });
    } else if (!src && tgt) {
      if (!rec) add('delete', 'file', path, ONLY[targetSide]);
      else if (tgtChanged) add('delete', 'file', path, `deleted ${WHERE[sourceSide]} but changed ${WHERE[targetSide]} since the last sync`, { conflict: true });
      else add('delete', 'file', path, `deleted ${WHERE[sourceSide]} since the last sync`);
    } else if (src && tgt) {
      if (rec) {
        if (srcChanged && tgtChanged) add('update', 'file', path, 'changed on both sides since the last sync', { conflict: true, source: src });
        else if (srcChanged) add('update', 'file', path, `changed ${WHERE[sourceSide]}`, { source: src });
        else if (tgtChanged) add('update', 'file', path, `changed ${WHERE[targetSide]} since the last sync — the sync would undo that change`, { conflict: true, source: src });
        continue;
      }
      const srcNewer = src.mtime !== undefined && tgt.mtime !== undefined && src.mtime > tgt.mtime + tolerance(src, tgt);
      const same = input.sameContent?.get(path);
      if (same === false) {
        if (srcNewer) add('update', 'file', path, `newer ${WHERE[sourceSide]}, same size but other content by checksum (never synced)`, { source: src });
        else add('update', 'file', path, `same size but other content by checksum, and the copy ${WHERE[targetSide]} is as new or newer (never synced)`, { conflict: true, source: src });
      } else if (same === true || (src.size === tgt.size && !srcNewer)) {
        const [l, r] = direction === 'toRemote' ? [src, tgt] : [tgt, src];
        plan.adopt.push({ path, local: signatureOf(l), remote: signatureOf(r) });
      } else if (srcNewer) {
        add('update', 'file', path, `newer ${WHERE[sourceSide]} (never synced)`, { source: src });
      } else {
        add('update', 'file', path, `differs, and the copy ${WHERE[targetSide]} is as new or newer (never synced)`, { conflict: true, source: src });
      }
    }
  }

  for (const [link, count] of keptBelowLinks) {
    plan.problems.push({ path: link, message: `${count === 1 ? '1 file' : `${count} files`} ${ONLY[targetSide]} below this symbolic link left as they are: a sync never deletes through a link` });
  }

  const scope = input.scope ?? '';
  for (const key of record.keys()) {
    if (scope !== '' && key !== scope && !key.startsWith(`${scope}/`)) continue;
    // Left out of this walk, not gone: with the link followed again they are the synced files they were.
    if (belowSkipped(key)) continue;
    if (local.get(key)?.type !== 'file' && remote.get(key)?.type !== 'file') plan.forget.push(key);
  }
  plan.actions.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return plan;
}

/**
 * The actions the user ticked, made consistent: a folder is deleted only when everything the
 * plan would delete inside it is deleted too (its removal is not recursive, so an unticked file
 * inside keeps the folder).
 */
export function selectActions(plan: SyncPlan, ids: Iterable<string>): SyncAction[] {
  const chosen = new Set(ids);
  return plan.actions.filter((a) => {
    if (!chosen.has(a.id)) return false;
    if (a.kind !== 'delete' || a.type !== 'directory') return true;
    const prefix = `${a.path}/`;
    return plan.actions.every((other) => !(other.kind === 'delete' && other.path.startsWith(prefix)) || chosen.has(other.id));
  });
}

/** Counts for a summary line: "3 to create, 1 to update, 2 to delete, 1 conflict". */
export function summarize(actions: readonly SyncAction[]): { create: number; update: number; delete: number; conflicts: number; bytes: number } {
  const s = { create: 0, update: 0, delete: 0, conflicts: 0, bytes: 0 };
  for (const a of actions) {
    s[a.kind]++;
    if (a.conflict) s.conflicts++;
    s.bytes += a.bytes;
  }
  return s;
}
