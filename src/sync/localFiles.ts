/** Writing downloaded files on this computer without ever leaving half a file under the real name. */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Signature } from './types';

/**
 * Lets `write` fill a temporary sibling of `file`, then renames it over `file` (creating parent
 * folders): a failed or cancelled download leaves the old file as it was. A symbolic link to a
 * file is written through: the temporary file goes next to its target and replaces the target,
 * so the link stays a link (a link's `symlinks: "follow"`).
 */
export async function writeLocalFile(link: string, write: (temp: string) => Promise<unknown>): Promise<Signature> {
  const file = await linkTarget(link);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.ftpw-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await write(temp);
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  return localSignature(file);
}

/** Where a write to `file` should land: the file itself, or the target of the link it is. */
async function linkTarget(file: string): Promise<string> {
  const st = await fs.lstat(file).catch(() => undefined);
  if (!st?.isSymbolicLink()) return file;
  return fs.realpath(file).catch(() => file);
}

export async function localSignature(file: string): Promise<Signature> {
  const st = await fs.stat(file);
  return { size: st.size, mtime: st.mtimeMs };
}
