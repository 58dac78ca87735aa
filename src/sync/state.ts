/**
 * Our record of the last sync of each file of a link: what the file looked like on both sides
 * right after it was transferred (or found equal). The planner compares each side with it to tell
 * "changed here", "changed there", "changed on both" and "deleted since". Kept as one JSON file per
 * link in the extension's workspace storage; never holds a password or any file content.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { RelPath, Signature, TreeEntry } from './types';

export interface SyncRecordEntry {
  local: Signature;
  remote: Signature;
}

interface StoredState {
  /** 1: before `remoteZone` (see SyncState.remoteZone); 2: with it. */
  version: 1 | 2;
  /** What the record is about, so a file can be recognised by a person. */
  link: string;
  /** Version 2: minutes east of UTC the server's LIST times in `files` were moved by. */
  remoteZone?: number;
  files: Record<RelPath, SyncRecordEntry>;
}

const MINUTE_MS = 60_000;

/** The read side the planner needs. */
export interface SyncRecord {
  get(rel: RelPath): SyncRecordEntry | undefined;
}

export class SyncState implements SyncRecord {
  private readonly files = new Map<RelPath, SyncRecordEntry>();
  private saving: Promise<void> = Promise.resolve();
  /**
   * The offset (minutes east of UTC) by which the server's LIST times in this record had been moved
   * to UTC when they were taken. Undefined for a record written before it was kept (version 1):
   * its times may be the server's wall clock read as UTC (before zones were detected), or UTC.
   */
  remoteZone?: number;
  private saveTimer?: NodeJS.Timeout;

  private constructor(
    readonly file: string,
    readonly link: string,
  ) {}

  /** Loads the record at `file`; a missing or unreadable file is an empty record (nothing synced yet). */
  static async load(file: string, link: string): Promise<SyncState> {
    const state = new SyncState(file, link);
    try {
      const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<StoredState>;
      if ((parsed.version === 1 || parsed.version === 2) && parsed.files && typeof parsed.files === 'object') {
        if (parsed.version === 2 && typeof parsed.remoteZone === 'number') state.remoteZone = parsed.remoteZone;
        for (const [rel, entry] of Object.entries(parsed.files)) {
          if (isEntry(entry)) state.files.set(rel, entry);
        }
      }
    } catch {
      // No record yet, or a damaged one: the planner then treats every file as never synced,
      // which asks before overwriting rather than guessing.
    }
    return state;
  }

  get(rel: RelPath): SyncRecordEntry | undefined {
    return this.files.get(rel);
  }

  set(rel: RelPath, entry: SyncRecordEntry): void {
    this.files.set(rel, { local: { ...entry.local }, remote: { ...entry.remote } });
  }

  delete(rel: RelPath): void {
    this.files.delete(rel);
  }

  /** Forgets `rel` and everything below it (a folder was deleted). */
  deleteTree(rel: RelPath): void {
    const prefix = `${rel}/`;
    for (const key of [...this.files.keys()]) if (key === rel || key.startsWith(prefix)) this.files.delete(key);
  }

  keys(): RelPath[] {
    return [...this.files.keys()];
  }

  /**
   * Brings the server's times in this record to the zone LIST times are moved by now (`offset`,
   * minutes east of UTC), before they are compared with a listing. A record taken in another zone —
   * an older record (its LIST times the server's wall clock read as UTC), or one from before the
   * profile's timeZoneOffset changed — would otherwise make every file look changed on the server.
   * A recorded time is moved only where the listing shows a LIST time (exact times never moved)
   * of the recorded size that is the recorded time moved by exactly the difference of the zones;
   * anything else stays as it was, a change for the planner to see. With `whole` (the listing
   * covers the whole link) the record takes the new zone. Returns the paths moved.
   */
  reconcileZone(listed: Iterable<[RelPath, TreeEntry]>, offset: number, whole: boolean): RelPath[] {
    const moved: RelPath[] = [];
    // An older record's times were taken as UTC (0) or, if written since zones were detected, in this zone (no move).
    const from = this.remoteZone ?? 0;
    const shift = (offset - from) * MINUTE_MS;
    if (shift !== 0) {
      for (const [rel, entry] of listed) {
        const rec = this.files.get(rel);
        if (!rec || entry.type !== 'file' || entry.mtimePrecision === undefined || entry.mtime === undefined || rec.remote.mtime === undefined) continue;
        if (rec.remote.size !== entry.size || rec.remote.mtime === entry.mtime || rec.remote.mtime - shift !== entry.mtime) continue;
        this.files.set(rel, { local: rec.local, remote: { size: rec.remote.size, mtime: entry.mtime } });
        moved.push(rel);
      }
    }
    if (whole && this.remoteZone !== offset) {
      this.remoteZone = offset;
      this.saveSoon();
    } else if (moved.length > 0) {
      this.saveSoon();
    }
    return moved;
  }

  /** Saves a moment later, so a burst of changes is one write. */
  saveSoon(delayMs = 500): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save().catch(() => undefined);
    }, delayMs);
  }

  /** Writes the record to a temporary file and renames it over the old one: a crash never leaves half a record. */
  save(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    const files = Object.fromEntries([...this.files].sort(([a], [b]) => (a < b ? -1 : 1)));
    // A record that does not know its zone stays version 1 until a whole-link listing tells it.
    const data: StoredState = this.remoteZone === undefined ? { version: 1, link: this.link, files } : { version: 2, link: this.link, remoteZone: this.remoteZone, files };
    const text = JSON.stringify(data, null, 1);
    // Saves run one after the other, so an older snapshot never lands after a newer one.
    this.saving = this.saving.catch(() => undefined).then(async () => {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      await fs.writeFile(temp, text);
      await fs.rename(temp, this.file);
    });
    return this.saving;
  }
}

function isSignature(s: unknown): s is Signature {
  const v = s as Signature;
  return !!v && typeof v === 'object' && typeof v.size === 'number' && (v.mtime === undefined || typeof v.mtime === 'number');
}

function isEntry(e: unknown): e is SyncRecordEntry {
  const v = e as SyncRecordEntry;
  return !!v && typeof v === 'object' && isSignature(v.local) && isSignature(v.remote);
}
