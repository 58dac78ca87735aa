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
  phases?: Record<string, number[]>;
  heapBytes?: number[];
  matches?: number;
  variant?: { server: string; tlsVersion: string; resumption: boolean };
  resumedRuns?: number;
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
      it(`our client: ${scenario}, ${security}, ${mode} — a time${LOOPBACK.includes(scenario) ? " from the data's start" : ""} and a peak RSS`, () => {
        const row = rows.find((x) => x.tool === 'ours' && x.scenario === scenario && x.security === security && x.mode === mode);
        assert.ok(row, 'no row');
        assert.equal(row.error, undefined);
        assert.ok(row.times.length >= 1 && row.times.every((t) => t > 0), `times: ${row.times}`);
        assert.ok(row.maxRssKb > 10_000, `RSS ${row.maxRssKb} KiB`);
        // A big transfer is timed as curl's is, from the moment its data flows; the commands before are its setup.
        if (LOOPBACK.includes(scenario)) assert.ok(row.phases?.setup?.length === row.times.length && row.phases.setup.every((t) => t >= 0), `setup: ${row.phases?.setup}`);
      });
    }
  }

  // Issue #21: an added FTPS connection with and without resumption, per server and TLS version.
  // pure-ftpd resumes TLS 1.2 sessions but no TLS 1.3 one.
  for (const server of ['vsftpd', 'proftpd', 'pure-ftpd']) {
    for (const tlsVersion of ['TLSv1.2', 'TLSv1.3']) {
      it(`tls-resume: ${server}, ${tlsVersion} — resumed where the server allows, a full handshake when told not to, and the handshake's phases`, () => {
        const get = (resumption: boolean) => rows.find((x) => x.scenario === 'tls-resume' && x.variant?.server === server && x.variant.tlsVersion === tlsVersion && x.variant.resumption === resumption);
        const on = get(true);
        const off = get(false);
        assert.ok(on && off, 'no rows');
        for (const row of [on, off]) {
          assert.equal(row.error, undefined);
          assert.ok(row.times.length >= 1 && row.times.every((t) => t > 0), `times: ${row.times}`);
          for (const name of ['handshake', 'clientCpu', 'serverCpu']) assert.equal(row.phases?.[name]?.length, row.times.length, `phase ${name}`);
        }
        const resumes = server !== 'pure-ftpd' || tlsVersion === 'TLSv1.2';
        assert.equal(on.resumedRuns, resumes ? on.times.length : 0);
        assert.equal(off.resumedRuns, 0);
      });
    }
  }
  it('tls-resume has its section in the report', () => {
    assert.match(markdown, /## TLS session resumption \(issue #21\)/);
  });

  // Issue #21's: VS Code's recorded requests through RemoteFs, and the one-shot CLI beside curl.
  for (const { security, mode } of variants) {
    for (const scenario of ['editor-open', 'editor-open-window', 'editor-save', 'cli-get', 'cli-ls']) {
      it(`our client: ${scenario}, ${security}, ${mode} — a time${scenario.startsWith('cli') ? ', and curl\'s' : ''}`, () => {
        const tools = scenario.startsWith('cli') ? ['ours', 'curl'] : ['ours'];
        for (const tool of tools) {
          const row = rows.find((x) => x.tool === tool && x.scenario === scenario && x.security === security && x.mode === mode);
          assert.ok(row, `no ${tool} row`);
          assert.equal(row.error, undefined, row.error);
          assert.ok(row.times.length > 0 && row.times.every((t) => t > 0), `times: ${row.times}`);
        }
      });
    }
  }

  // Issue #16's search scenarios run on plain FTP in passive mode only.
  for (const scenario of ['goto-file', 'find-in-files', 'index-memory']) {
    it(`our client: ${scenario}, plain, passive — a time, its phases and a peak RSS`, () => {
      const row = rows.find((x) => x.tool === 'ours' && x.scenario === scenario);
      assert.ok(row, 'no row');
      assert.equal(row.error, undefined);
      assert.deepEqual([row.security, row.mode], ['plain', 'passive']);
      assert.ok(row.times.length >= 1 && row.times.every((t) => t > 0), `times: ${row.times}`);
      const phases = { 'goto-file': ['first', 'disk'], 'find-in-files': ['first', 'again'], 'index-memory': [] }[scenario] as string[];
      for (const p of phases) assert.ok(row.phases?.[p]?.length === row.times.length && row.phases[p].every((t) => t > 0), `${p}: ${row.phases?.[p]}`);
      if (scenario === 'index-memory') assert.ok(row.heapBytes?.length === row.times.length && row.heapBytes.every((b) => b > 0), `heap: ${row.heapBytes}`);
    });
  }

  it('Go to File indexes the whole tree, and Find in Files finds what grep -rn finds in lftp\'s mirror of it', () => {
    assert.deepEqual(rows.find((x) => x.tool === 'ours' && x.scenario === 'goto-file')?.counts, { dirs: 7, files: 30 });
    const ours = rows.find((x) => x.tool === 'ours' && x.scenario === 'find-in-files');
    const lftp = rows.find((x) => x.tool === 'lftp' && x.scenario === 'find-in-files');
    assert.equal(lftp?.error, undefined);
    // Every tenth file of 30 holds the text once.
    assert.equal(ours?.matches, 3);
    assert.equal(lftp?.matches, 3);
    assert.ok(rows.some((x) => x.tool === 'lftp' && x.scenario === 'goto-file' && x.times.length > 0 && !x.error), 'lftp find ran');
    assert.match(markdown, /## Search \(issue #16\)/);
    assert.match(markdown, /\| Find in Files: whole search, cold \| [\d.]+ m?s \|/);
    assert.match(markdown, /\| memory: search index of 100,000 entries < 50 MB \|/);
  });

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

