/**
 * Our record of the last sync of each file of a link: what the file looked like on both sides
 * right after it was transferred (or found equal). The planner compares each side with it to tell
 * "changed here", "changed there", "changed on both" and "deleted since". Kept as one JSON file per
 * link in the extension's workspace storage; never holds a password or any file content.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { RelPath, Signature } from './types';

export interface SyncRecordEntry {
  local: Signature;
  remote: Signature;
}

interface StoredState {
  version: 1;
  /** What the record is about, so a file can be recognised by a person. */
  link: string;
  files: Record<RelPath, SyncRecordEntry>;
}

/** The read side the planner needs. */
export interface SyncRecord {
  get(rel: RelPath): SyncRecordEntry | undefined;
}

export class SyncState implements SyncRecord {
  private readonly files = new Map<RelPath, SyncRecordEntry>();
  private saving: Promise<void> = Promise.resolve();
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
      if (parsed.version === 1 && parsed.files && typeof parsed.files === 'object') {
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
    const data: StoredState = { version: 1, link: this.link, files: Object.fromEntries([...this.files].sort(([a], [b]) => (a < b ? -1 : 1))) };
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
