/** Writing downloaded files on this computer without ever leaving half a file under the real name. */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Signature } from './types';

/** Writes to a temporary sibling, then renames it over `file` (creating parent folders). */
export async function writeLocalFile(file: string, data: Uint8Array): Promise<Signature> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.ftpw-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.writeFile(temp, data);
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
