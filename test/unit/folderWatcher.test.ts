import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { watchRecursively } from '../../src/sync/folderWatcher';

describe('watching a linked folder outside the workspace (recursive fs.watch)', () => {
  it('sees files written in folders that did not exist when the watch began, and rewrites', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-watch-'));
    const seen = new Set<string>();
    const watcher = watchRecursively(root, (file) => seen.add(file), (err) => assert.fail(err));
    const until = async (file: string) => {
      for (const deadline = Date.now() + 5000; !seen.has(file); ) {
        if (Date.now() > deadline) assert.fail(`no event for ${file}; saw ${JSON.stringify([...seen])}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      const deep = path.join(root, 'build', 'js', 'app.js');
      fs.mkdirSync(path.dirname(deep), { recursive: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
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
