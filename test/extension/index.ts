/**
 * Entry point the VS Code extension host calls (`--extensionTestsPath`): runs every compiled
 * `*.test.js` next to this file with mocha (BDD), prints mocha's spec output and a summary line,
 * and rejects when a test failed — the host then exits non-zero.
 *
 * Environment (set by test/vscode/runExtensionTests.ts, passed through to the extension host):
 *   FTPW_EXT_GREP     only run tests whose full title matches this pattern
 *   FTPW_EXT_TIMEOUT  per-test timeout in ms (default 20000)
 *   FTPW_COUNTS       write {passed, failed, pending} here as JSON (for `npm test`'s total)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
// mocha 12 is an ES module: Node 20.19+ require()s it and the default import is the Mocha class.
import Mocha from 'mocha';

function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.js'))
    .map((name) => path.join(dir, name))
    .sort();
}

export async function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false,
    timeout: Number(process.env.FTPW_EXT_TIMEOUT ?? 20_000),
  });
  if (process.env.FTPW_EXT_GREP) mocha.grep(process.env.FTPW_EXT_GREP);
  for (const file of testFiles(__dirname)) mocha.addFile(file);

  const stats = await new Promise<{ passes: number; failures: number; pending: number }>((resolve, reject) => {
    try {
      const runner = mocha.run(() => resolve({ passes: runner.stats?.passes ?? 0, failures: runner.stats?.failures ?? 0, pending: runner.stats?.pending ?? 0 }));
    } catch (error) {
      reject(error);
    }
  });
  if (process.env.FTPW_COUNTS) {
    fs.writeFileSync(process.env.FTPW_COUNTS, JSON.stringify({ passed: stats.passes, failed: stats.failures, pending: stats.pending }));
  }
  console.log(`${stats.passes} passed, ${stats.failures} failed${stats.pending ? `, ${stats.pending} pending` : ''}`);
  if (stats.failures > 0) throw new Error(`${stats.failures} extension test(s) failed`);
  if (stats.passes === 0) throw new Error('no extension tests ran');
}
