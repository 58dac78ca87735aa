/** Writing downloaded files on this computer without ever leaving half a file under the real name. */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Signature } from './types';

/**
 * Lets `write` fill a temporary sibling of `file`, then renames it over `file` (creating parent
 * folders): a failed or cancelled download leaves the old file as it was.
 */
export async function writeLocalFile(file: string, write: (temp: string) => Promise<unknown>): Promise<Signature> {
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

export async function localSignature(file: string): Promise<Signature> {
  const st = await fs.stat(file);
  return { size: st.size, mtime: st.mtimeMs };
}
