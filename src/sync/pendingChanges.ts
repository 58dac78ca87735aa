/**
 * A link's local deletes, renames and new paths that have not reached a settled outcome with the
 * server yet: collected in a batch, waiting for their question, or kept because the server could not
 * be reached. Kept in a small JSON file beside the link's sync record, so neither a window closed in
 * the seconds after a `git checkout` nor a server that is down loses them: the next activation (or
 * the server coming back) hands them over again, and the plan is made anew from what is on disk then.
 * A change leaves once its batch is settled (done, kept by the user or the settings, or refused).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LocalChange } from './localChanges';

interface Stored {
  version: 1;
  changes: LocalChange[];
}

export class PendingChanges {
  private changes: LocalChange[] = [];
  private saveTimer?: NodeJS.Timeout;

  private constructor(readonly file: string) {}

  /** Reads the file (small, and needed before the first event is handled); missing or damaged: nothing pending. */
  static loadSync(file: string): PendingChanges {
    const pending = new PendingChanges(file);
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Stored>;
      if (parsed.version === 1 && Array.isArray(parsed.changes)) pending.changes = parsed.changes.filter(isChange);
    } catch {
      // Nothing kept yet.
    }
    return pending;
  }

  /** In the order they came. */
  get all(): readonly LocalChange[] {
    return this.changes;
  }

  add(changes: readonly LocalChange[]): void {
    if (changes.length === 0) return;
    this.changes.push(...changes);
    this.saveSoon();
  }

  /** These changes (the same objects) reached their outcome. */
  settle(changes: readonly LocalChange[]): void {
    const done = new Set(changes);
    const before = this.changes.length;
    this.changes = this.changes.filter((c) => !done.has(c));
    if (this.changes.length !== before) this.saveSoon();
  }

  /** Written a moment later, so a burst of events is one write. */
  saveSoon(delayMs = 300): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      try {
        this.saveNow();
      } catch {
        // A full or read-only disk: kept in memory; the next change tries again.
      }
    }, delayMs);
  }

  /**
   * Written now, synchronously: on deactivation there may be no turn of the event loop left.
   * Temporary file and rename: never half a file. No file at all when nothing is pending.
   */
  saveNow(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (this.changes.length === 0) {
      fs.rmSync(this.file, { force: true });
      return;
    }
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify({ version: 1, changes: this.changes } satisfies Stored));
    fs.renameSync(temp, this.file);
  }
}

function isChange(c: unknown): c is LocalChange {
  const v = c as Record<string, unknown>;
  if (!v || typeof v !== 'object') return false;
  if (v.kind === 'deleted' || v.kind === 'created') return typeof v.path === 'string';
  return v.kind === 'renamed' && typeof v.from === 'string' && typeof v.to === 'string';
}
