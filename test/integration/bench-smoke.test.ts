/**
 * Keeps `npm run bench` from rotting: the whole harness (namespaces and delay forwarder, vsftpd
 * plain and FTPS, our client, basic-ftp, curl, lftp, report) runs once with tiny sizes and no
 * delay, and every scenario must come back with a number.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isAlive } from '../support/realServers';

interface Row {
  group: string;
  scenario: string;
  security: string;
  mode: string;
  tool: string;
  times: number[];
  maxRssKb: number;
  sizeBytes?: number;
  error?: string;
  counts?: { dirs: number; files: number };
}

const ROOT = path.resolve(__dirname, '..', '..', '..');
const LATENCY = ['connect', 'list', 'stat', 'read', 'save', 'read-idle', 'save-idle', 'tree'];
const LOOPBACK = ['download', 'upload'];

describe('benchmark harness (npm run bench -- --smoke)', function () {
  this.timeout(300_000);
  let out: string;
  let rows: Row[];
  let markdown: string;

  before(function () {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-bench-smoke-'));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bench.mjs'), '--smoke', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 290_000 });
    assert.equal(r.status, 0, `bench exited ${r.status ?? r.signal}:\n${r.stderr}`);
    rows = (JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as { rows: Row[] }).rows;
    markdown = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
  });
  after(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  // The smoke run leaves out FTPS in active mode.
  const variants = [{ security: 'plain', mode: 'passive' }, { security: 'plain', mode: 'active' }, { security: 'tls', mode: 'passive' }];

  for (const { security, mode } of variants) {
    for (const scenario of [...LATENCY, ...LOOPBACK]) {
      it(`our client: ${scenario}, ${security}, ${mode} — a time and a peak RSS`, () => {
        const row = rows.find((x) => x.tool === 'ours' && x.scenario === scenario && x.security === security && x.mode === mode);
        assert.ok(row, 'no row');
        assert.equal(row.error, undefined);
        assert.ok(row.times.length >= 1 && row.times.every((t) => t > 0), `times: ${row.times}`);
        assert.ok(row.maxRssKb > 10_000, `RSS ${row.maxRssKb} KiB`);
      });
    }
  }

  it('our tree walk sees every folder and file of the fixture', () => {
    for (const row of rows.filter((x) => x.tool === 'ours' && x.scenario === 'tree')) {
      assert.deepEqual(row.counts, { dirs: 7, files: 30 }, `${row.security} ${row.mode}`);
    }
  });

  it('the other clients ran every scenario they can do (a number, or the failure they reported)', () => {
    const expected: Array<{ tool: string; scenario: string; security: string; mode: string }> = [];
    for (const { security, mode } of variants) {
      for (const scenario of [...LATENCY, ...LOOPBACK]) {
        if (mode === 'passive') expected.push({ tool: 'basic-ftp', scenario, security, mode });
        expected.push({ tool: 'lftp', scenario, security, mode });
        // curl cannot walk a tree.
        if (scenario !== 'tree') expected.push({ tool: 'curl', scenario, security, mode });
      }
    }
    const missing = expected.filter((e) => !rows.some((x) => x.tool === e.tool && x.scenario === e.scenario && x.security === e.security && x.mode === e.mode && (x.times.length > 0 || x.error)));
    assert.deepEqual(missing, []);
    // Plain FTP has no known tool failure: there every tool must produce a number.
    const plainFailures = rows.filter((x) => x.security === 'plain' && (x.error || x.times.length === 0));
    assert.deepEqual(plainFailures.map((x) => `${x.tool} ${x.scenario} ${x.mode}: ${x.error}`), []);
  });

  it('writes the Markdown report with its tables and targets', () => {
    assert.match(markdown, /## Round-trip bound work, plain FTP/);
    assert.match(markdown, /## Round-trip bound work, explicit FTPS/);
    assert.match(markdown, /## Big files on loopback/);
    assert.match(markdown, /## Targets/);
    // Warm reads and saves are judged both in an editor's rhythm and back to back.
    for (const variant of ['after 0.5 s (editor)', 'back to back']) {
      assert.match(markdown, new RegExp(`warm read of a 10 KB file ≤ 3 RTT \\(passive\\) \\| plain, ${variant.replace(/[().]/g, '\\$&')}`));
    }
    assert.match(markdown, /\| walk 6 folders \/ 30 files \| passive \| [\d.]+ ms/);
  });

  it('leaves no network namespace behind', () => {
    // Named after the harness's pid; another bench may be running, so only those of dead processes count.
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    const orphans = [...list.matchAll(/ftpwb-(\d+)-\w+/g)].filter((m) => !isAlive(Number(m[1]))).map((m) => m[0]);
    assert.deepEqual(orphans, []);
  });
});

