import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeStaleSpools, withSpooledBytes } from '../../src/remote/spool';

describe('spool folders of transfers', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-spooltest-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('removes those a window left behind more than a day ago, and nothing else', async () => {
    const make = (name: string, ageMs: number) => {
      const p = path.join(dir, name);
      fs.mkdirSync(p);
      fs.writeFileSync(path.join(p, 'data'), 'x'.repeat(1000));
      const t = new Date(Date.now() - ageMs);
      fs.utimesSync(p, t, t);
    };
    make('ftpw-spool-crashed', 2 * 86_400_000);
    make('ftpw-spool-running', 60_000);
    make('unrelated-old', 2 * 86_400_000);
    assert.equal(await removeStaleSpools(dir), 1);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['ftpw-spool-running', 'unrelated-old']);
    assert.equal(await removeStaleSpools(path.join(dir, 'missing')), 0, 'no folder: nothing to do');
  });

  it('leaves nothing behind after a transfer, whatever its outcome', async () => {
    let spooled = '';
    await assert.rejects(withSpooledBytes(Buffer.from('abc'), async ({ file }) => {
      spooled = file;
      assert.equal(fs.readFileSync(file, 'utf8'), 'abc');
      throw new Error('cut');
    }), /cut/);
    assert.equal(fs.existsSync(path.dirname(spooled)), false);
  });
});
