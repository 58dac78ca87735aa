/**
 * A private temporary file for a transfer that must be able to go on after a cut: the resumable
 * transfers (src/ftp/resume.ts) continue from a file's prefix, so bytes VS Code hands over or
 * wants back in memory (an Explorer copy, a save of a big file) pass through one. The folder is
 * made for it alone (mode 0700) and removed afterwards, whatever happened.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'ftpw-spool-';
/** Older than any transfer still under way (a window can hold one for hours at most). */
const STALE_MS = 24 * 60 * 60 * 1000;

/** Runs `work` with the path of a file that does not exist yet, in a folder of its own. */
export async function withSpoolFile<T>(work: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), PREFIX));
  try {
    return await work(join(dir, 'data'));
  } finally {
    // The transfer's own outcome is what counts (Windows may still hold the file for a moment).
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Runs `work` with `data` written to such a file. */
export function withSpooledBytes<T>(data: Uint8Array, work: (source: { file: string; size: number }) => Promise<T>): Promise<T> {
  return withSpoolFile(async (file) => {
    await writeFile(file, data, { mode: 0o600 });
    return work({ file, size: data.byteLength });
  });
}

/**
 * Removes spool folders a window left behind when it ended mid-transfer (a crash, a kill): each may
 * hold a whole file. Only those older than a day, so another window's transfer is never touched.
 * Returns how many went.
 */
export async function removeStaleSpools(dir = tmpdir(), now = Date.now()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(PREFIX)) continue;
    const full = join(dir, name);
    const st = await stat(full).catch(() => undefined);
    if (!st?.isDirectory() || now - st.mtimeMs < STALE_MS) continue;
    await rm(full, { recursive: true, force: true }).then(() => removed++, () => undefined);
  }
  return removed;
}
