/**
 * Deletes and renames made in a linked folder, turned into what the server should get. Events come
 * from the editor (Explorer delete/rename: exact) and from the folder watcher (other programs: a
 * delete and a create, nothing more). A burst — a `git checkout`, a build cleaning its output, a
 * folder dragged elsewhere — is collected until the folder is quiet, so it becomes one batch and the
 * user is asked once. `planLocalChanges` then works out, from the events in order, the record of the
 * last sync and what is on disk now, which server paths to rename, which to delete and which local
 * paths are new there. Pure: no disk, no server, no timers but the batcher's.
 */
import { relativeLocal } from './trees';
import type { IgnoreMatcher } from './ignore';
import type { RelPath, Signature } from './types';

/** One event, with absolute local paths (either may lie outside the link: moved in or out). */
export type LocalChange = { kind: 'deleted'; path: string } | { kind: 'created'; path: string } | { kind: 'renamed'; from: string; to: string };

export interface ChangeBatcherOptions {
  /** The batch is handed over once no event came for this long (default 1000 ms)… */
  quietMs?: number;
  /**
   * …or, in a long burst, for a tenth of the time it has lasted, up to this (default 5 s): a
   * `git checkout` that pauses a second between two groups of files is still one batch, one question.
   */
  maxQuietMs?: number;
  /** …or this long after its first event, however busy the folder stays (default 60 s). */
  maxWaitMs?: number;
  onBatch: (changes: LocalChange[]) => void;
}

/** Collects events until the folder is quiet; then hands them over in the order they came. */
export class ChangeBatcher {
  private pending: LocalChange[] = [];
  private quietTimer?: NodeJS.Timeout;
  private maxTimer?: NodeJS.Timeout;
  /** When the first event of the pending batch came. */
  private startedAt = 0;
  private readonly quietMs: number;
  private readonly maxQuietMs: number;
  private readonly maxWaitMs: number;

  constructor(private readonly options: ChangeBatcherOptions) {
    this.quietMs = options.quietMs ?? 1000;
    this.maxQuietMs = Math.max(this.quietMs, options.maxQuietMs ?? 5000);
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
  }

  add(change: LocalChange): void {
    if (this.pending.length === 0) this.startedAt = Date.now();
    this.pending.push(change);
    clearTimeout(this.quietTimer);
    const quiet = Math.min(this.maxQuietMs, Math.max(this.quietMs, (Date.now() - this.startedAt) / 10));
    this.quietTimer = setTimeout(() => this.flush(), quiet);
    this.maxTimer ??= setTimeout(() => this.flush(), this.maxWaitMs);
  }

  /** The events collected and not handed over yet (for keeping them across a window reload). */
  get changes(): readonly LocalChange[] {
    return this.pending;
  }

  get size(): number {
    return this.pending.length;
  }

  /** Hands over what is collected now (nothing if empty). */
  flush(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.options.onBatch(batch);
  }

  dispose(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.pending = [];
  }
}

export interface LocalEntry extends Signature {
  type: 'file' | 'directory';
}

export interface LocalChangesInput {
  localRoot: string;
  ignore: IgnoreMatcher;
  changes: readonly LocalChange[];
  /**
   * What is on disk now, by relative path, for every path the events name and everything under
   * the folders among them (absent: not there any more).
   */
  now: ReadonlyMap<RelPath, LocalEntry>;
  /** The record of the last sync: local signatures (to recognise a moved file) and which paths the server had. */
  record: { get(rel: RelPath): { local: Signature } | undefined; keys(): RelPath[] };
}

export interface LocalChangesPlan {
  /** Server paths whose local file or folder is gone (deleted, or moved out of the link or into an ignored path). */
  deletes: RelPath[];
  /** Server path → its new local path. */
  renames: { from: RelPath; to: RelPath }[];
  /** New local paths with nothing on the server to rename (moved in from outside, or made by another program). */
  uploads: RelPath[];
}

const isUnder = (p: RelPath, folder: RelPath) => p.startsWith(`${folder}/`);

/**
 * Follows each local path back to the server path it came from. An Explorer rename is taken as
 * it is; for a program's delete + create, a new file with the very size and modification time the
 * record holds for a deleted one (a move keeps both) is that file renamed, and a new folder holding
 * every recorded file of a deleted one, unchanged, is that folder renamed. Anything else new is an
 * upload; a path deleted and made again (an editor's or git's replace-by-rename) is not deleted.
 */
export function planLocalChanges(input: LocalChangesInput): LocalChangesPlan {
  const { ignore, now, record } = input;
  /**
   * In the link and not ignored, as a relative path; undefined otherwise. A path that is gone has
   * no type to ask about: ignored as a file or as a folder, it is left alone.
   */
  const inLink = (file: string): RelPath | undefined => {
    const rel = relativeLocal(input.localRoot, file);
    if (!rel) return undefined;
    const type = now.get(rel)?.type;
    const ignored = type ? ignore.ignores(rel, type === 'directory') : ignore.ignores(rel, false) || ignore.ignores(rel, true);
    return ignored ? undefined : rel;
  };
  /** Local path → the server path it stands for (null: new here). Others stand for their nearest listed folder's, or for themselves. */
  const origin = new Map<RelPath, RelPath | null>();
  const gone = new Set<RelPath>();
  /** Folders the record has files in: the server has them. */
  const recordedDirs = new Set<RelPath>();
  for (const k of record.keys()) for (let q = parentOf(k); q !== '' && !recordedDirs.has(q); q = parentOf(q)) recordedDirs.add(q);
  const known = (p: RelPath) => !!record.get(p) || recordedDirs.has(p);
  const originOf = (p: RelPath): RelPath | null => {
    if (origin.has(p)) return origin.get(p)!;
    for (let q = parentOf(p); q !== ''; q = parentOf(q)) {
      if (!origin.has(q)) continue;
      const o = origin.get(q)!;
      return o === null ? null : `${o}${p.slice(q.length)}`;
    }
    return p;
  };
  /**
   * Takes `p` and what lies under it out of `origin`: (path, origin) pairs, the descendants only
   * where they do not simply go with `p` (new ones, or ones that came from elsewhere).
   */
  const take = (p: RelPath): [RelPath, RelPath | null][] => {
    const po = originOf(p);
    const out: [RelPath, RelPath | null][] = [[p, po]];
    origin.delete(p);
    for (const [k, o] of [...origin]) {
      if (!isUnder(k, p)) continue;
      origin.delete(k);
      if (o === null || po === null || o !== `${po}${k.slice(p.length)}`) out.push([k, o]);
    }
    return out;
  };

  for (const c of input.changes) {
    if (c.kind === 'deleted') {
      const p = inLink(c.path);
      if (p === undefined) continue;
      for (const [, o] of take(p)) if (o !== null) gone.add(o);
    } else if (c.kind === 'created') {
      const p = inLink(c.path);
      if (p === undefined || origin.has(p)) continue;
      const o = originOf(p);
      // Made again where it was deleted (a replace): the same server path, not a delete.
      if (o === p) origin.set(p, gone.has(p) || known(p) ? p : null);
      // Inside a renamed folder, a file the record does not know there is new.
      else if (o !== null && !known(o)) origin.set(p, null);
    } else {
      const from = inLink(c.from);
      const to = inLink(c.to);
      const moved = from === undefined ? [] : take(from);
      if (to === undefined) {
        for (const [, o] of moved) if (o !== null) gone.add(o);
      } else if (from === undefined) {
        origin.set(to, null);
      } else {
        for (const [p, o] of moved) origin.set(p === from ? to : `${to}${p.slice(from.length)}`, o);
      }
    }
  }

  const exists = (p: RelPath) => now.has(p);
  const renames: { from: RelPath; to: RelPath }[] = [];
  const uploads: RelPath[] = [];
  const created: RelPath[] = [];
  for (const [p, o] of [...origin].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!exists(p)) {
      if (o !== null) gone.add(o);
    } else if (o === null) {
      created.push(p);
    } else if (o !== p) {
      renames.push({ from: o, to: p });
    }
  }
  const renamed = (g: RelPath) => renames.some((r) => r.from === g);
  /**
   * A program's move: a new path that matches a gone one exactly is that one renamed. A new folder
   * that is no match may hold one (moved into a folder made for it): its parts are matched in turn,
   * and what matches nothing is uploaded. Returns whether anything at or under `p` was a rename.
   */
  const place = (p: RelPath, ups: RelPath[]): boolean => {
    const match = [...gone].find((g) => !exists(g) && !renamed(g) && sameContent(g, p, now, record));
    if (match !== undefined) {
      renames.push({ from: match, to: p });
      // Files of the moved folder the record does not know are new there.
      for (const [k, e] of now) if (e.type === 'file' && isUnder(k, p) && !record.get(`${match}${k.slice(p.length)}`)) ups.push(k);
      return true;
    }
    if (now.get(p)?.type !== 'directory' || gone.size === 0) {
      ups.push(p);
      return false;
    }
    const inner: RelPath[] = [];
    let any = false;
    for (const k of [...now.keys()].filter((k) => parentOf(k) === p).sort()) any = place(k, inner) || any;
    ups.push(...(any ? inner : [p]));
    return any;
  };
  const placed: RelPath[] = [];
  for (const p of created) {
    if (placed.some((q) => isUnder(p, q))) continue;
    placed.push(p);
    place(p, uploads);
  }
  const deletes: RelPath[] = [];
  for (const g of [...gone].sort()) {
    if (exists(g) || renamed(g)) continue;
    // Under a folder renamed on the server: it went along, so it is deleted at its new place, if gone there too.
    const r = renames.find((x) => isUnder(g, x.from));
    const at = r ? `${r.to}${g.slice(r.from.length)}` : g;
    if (!exists(at) && !deletes.some((d) => d === at || isUnder(at, d))) deletes.push(at);
  }
  return { deletes, renames: renames.sort((a, b) => (a.to < b.to ? -1 : 1)), uploads: [...new Set(uploads)].sort() };
}

function parentOf(p: RelPath): RelPath {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

/** A file or folder at `p` now is what the record knew at `g`: a move keeps sizes and modification times. */
function sameContent(g: RelPath, p: RelPath, now: ReadonlyMap<RelPath, LocalEntry>, record: LocalChangesInput['record']): boolean {
  const here = now.get(p);
  if (!here) return false;
  if (here.type === 'file') {
    const rec = record.get(g)?.local;
    return !!rec && rec.size === here.size && rec.mtime !== undefined && rec.mtime === here.mtime;
  }
  const files = record.keys().filter((k) => isUnder(k, g));
  if (files.length === 0) return false;
  return files.every((k) => {
    const rec = record.get(k)?.local;
    const moved = now.get(`${p}${k.slice(g.length)}`);
    return !!rec && !!moved && moved.type === 'file' && rec.size === moved.size && rec.mtime !== undefined && rec.mtime === moved.mtime;
  });
}
