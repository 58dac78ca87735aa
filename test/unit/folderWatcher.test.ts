import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { watchRecursively } from '../../src/sync/folderWatcher';

describe('watching a linked folder outside the workspace (recursive fs.watch)', () => {
  it('sees files written in folders that did not exist when the watch began, and rewrites', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-watch-'));
    const seen = new Set<string>();
    const waiting = new Map<string, () => void>();
    const watcher = watchRecursively(
      root,
      (file) => {
        seen.add(file);
        waiting.get(file)?.();
      },
      (err) => assert.fail(err),
    );
    /** Resolves once the watcher reported `file`; fails after 5 s. */
    const until = (file: string) =>
      new Promise<void>((resolve, reject) => {
        if (seen.has(file)) return resolve();
        const timer = setTimeout(() => {
          waiting.delete(file);
          reject(new Error(`no event for ${file}; saw ${JSON.stringify([...seen])}`));
        }, 5000);
        waiting.set(file, () => {
          clearTimeout(timer);
          waiting.delete(file);
          resolve();
        });
      });
    try {
      const deep = path.join(root, 'build', 'js', 'app.js');
      fs.mkdirSync(path.dirname(deep), { recursive: true });
      await until(path.dirname(deep)); // the watcher has seen the new folders
      fs.writeFileSync(deep, 'built');
      await until(deep);
      seen.clear();
      fs.writeFileSync(deep, 'built again');
      await until(deep);
    } finally {
      watcher.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
