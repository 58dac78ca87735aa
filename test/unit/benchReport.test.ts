/**
 * The bench report's comparison of big-file throughput: runs made in turn are compared pair by
 * pair, so a machine that slows down for a while slows both sides of the pairs it touches.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { operationOf } from '../../bench/src/job';
import { afterBefore, throughputRatio, writeReport, type BenchResults, type Row } from '../../bench/src/report';

function row(tool: Row['tool'], times: number[], error?: string, at: Partial<Row> = {}): Row {
  return { group: 'loopback', scenario: 'download', security: 'plain', mode: 'passive', tool, times, maxRssKb: 1, error, ...at };
}

const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

describe('bench report: throughput against curl', () => {
  it('takes the median of the run-by-run ratios, not the ratio of the medians', () => {
    // The machine was twice as slow for the last three pairs; ours took 10 % longer than curl in each pair.
    const ours = row('ours', [110, 110, 220, 220, 220]);
    const curl = row('curl', [100, 100, 200, 200, 200]);
    const r = throughputRatio(ours, curl);
    assert.ok(r);
    assert.ok(Math.abs(r.median - 100 / 110) < 1e-9);
    assert.ok(Math.abs(r.min - 100 / 110) < 1e-9 && Math.abs(r.max - 100 / 110) < 1e-9);
  });

  it('shows the spread of the pairs, and pairs only the runs both have', () => {
    const r = throughputRatio(row('ours', [100, 50, 200]), row('curl', [90, 100]));
    assert.deepEqual(r, { median: (0.9 + 2) / 2, min: 0.9, max: 2 });
  });

  it('has no ratio when either side failed or has no runs', () => {
    assert.equal(throughputRatio(row('ours', [100]), row('curl', [], 'curl hung')), undefined);
    assert.equal(throughputRatio(row('ours', []), row('curl', [100])), undefined);
    assert.equal(throughputRatio(undefined, row('curl', [100])), undefined);
  });
});

describe('bench scenarios in an editor\'s rhythm', () => {
  it('time the same operation as their back-to-back twins', () => {
    assert.equal(operationOf('read-idle'), 'read');
    assert.equal(operationOf('save-idle'), 'save');
    assert.equal(operationOf('list'), 'list');
  });
});

describe('bench report: after / before against a baseline commit (--baseline)', () => {
  const base = 'ours@5b99475' as const;

  it('big files (runs in turn): the median of the run-by-run time ratios, with their spread', () => {
    // The machine slowed down for the last three pairs; ours took 20 % longer than the baseline in each pair.
    const r = afterBefore(row('ours', [120, 120, 240, 240, 240]), row(base, [100, 100, 200, 200, 200]), true);
    assert.ok(r);
    assert.ok(near(r.ratio, 1.2) && near(r.min, 1.2) && near(r.max, 1.2));
    assert.equal(r.verdict, 'slower');
  });

  it('big files: 20 % slower by the median is within noise when a pair says otherwise', () => {
    const r = afterBefore(row('ours', [120, 120, 120, 95, 120]), row(base, [100, 100, 100, 100, 100]), true);
    assert.ok(r);
    assert.ok(near(r.ratio, 1.2) && near(r.min, 0.95));
    assert.equal(r.verdict, 'same');
  });

  it('a consistent difference of 10 % or less is within noise, either way', () => {
    assert.equal(afterBefore(row('ours', [108, 109, 110]), row(base, [100, 100, 100]), true)?.verdict, 'same');
    assert.equal(afterBefore(row('ours', [92, 91, 90]), row(base, [100, 100, 100]), true)?.verdict, 'same');
  });

  it('differences under 1 ms never count, however large the ratio', () => {
    const r = afterBefore(row('ours', [0.9, 0.9, 0.9]), row(base, [0.3, 0.3, 0.3]), true);
    assert.ok(r && near(r.ratio, 3));
    assert.equal(r.verdict, 'same');
  });

  it('round-trip bound work (runs in blocks): the ratio of the medians, set against each of the baseline\'s runs', () => {
    const at = { group: 'latency', scenario: 'read' } as const;
    // Ours now 150 ms against 100 ms: above the baseline's slowest run (120), so slower beyond noise.
    const slower = afterBefore(row('ours', [150, 140, 160], undefined, at), row(base, [100, 90, 120], undefined, at), false);
    assert.ok(slower);
    assert.ok(near(slower.ratio, 1.5) && near(slower.min, 150 / 120) && near(slower.max, 150 / 90));
    assert.equal(slower.verdict, 'slower');
    // The baseline had one run at 200 ms: 150 is within its spread.
    assert.equal(afterBefore(row('ours', [150, 140, 160], undefined, at), row(base, [100, 90, 200], undefined, at), false)?.verdict, 'same');
    // And faster beyond noise: below the baseline's fastest run by more than 10 %.
    assert.equal(afterBefore(row('ours', [60, 70, 65], undefined, at), row(base, [100, 90, 120], undefined, at), false)?.verdict, 'faster');
  });

  it('gives no verdict with fewer than 3 runs (a smoke run has 1): there is no spread', () => {
    const r = afterBefore(row('ours', [300, 300]), row(base, [100, 100]), true);
    assert.ok(r && near(r.ratio, 3));
    assert.equal(r.verdict, 'unknown');
    assert.equal(afterBefore(row('ours', [300]), row(base, [100, 100, 100]), false)?.verdict, 'unknown');
  });

  it('has no comparison when either side failed or has no runs', () => {
    assert.equal(afterBefore(row('ours', [100]), row(base, [100], 'runner failed'), true), undefined);
    assert.equal(afterBefore(row('ours', []), row(base, [100]), false), undefined);
    assert.equal(afterBefore(row('ours', [100]), undefined, false), undefined);
  });

  describe('results.md', () => {
    let dir: string;
    beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-bench-report-')); });
    afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

    const results = (rows: Row[], baseline?: BenchResults['baseline']): BenchResults => ({
      date: '2025-01-01T00:00:00.000Z', options: { rttMs: 50, runs: 3, treeRuns: 1, parallel: 4 },
      sizes: { listEntries: 20, treeDirs: 6, treeFiles: 30, treeFileBytes: 500, indexEntries: 2000, syncDirs: 6, syncFiles: 30, bigBytes: 2 << 20, mediumBytes: 512 << 10 },
      versions: {}, measuredRttMs: 50, rows, baseline,
    });
    const report = (r: BenchResults): string => {
      writeReport(r, dir);
      return fs.readFileSync(path.join(dir, 'results.md'), 'utf8');
    };
    const read = { group: 'latency', scenario: 'read', mode: 'passive' } as const;

    it('gets a section with the after / before figures per scenario and security, and names what is slower', () => {
      const md = report(results([
        row('ours', [100, 100, 100], undefined, { ...read }),
        row(base, [100, 101, 99], undefined, { ...read }),
        row('ours', [150, 150, 150], undefined, { ...read, security: 'tls' }),
        row(base, [100, 100, 100], undefined, { ...read, security: 'tls' }),
        row('ours', [10, 11, 10]),
        row(base, [10, 10, 11]),
      ], { ref: '5b99475', commit: '5b99475'.padEnd(40, '0'), tool: base }));
      assert.match(md, /--baseline 5b99475`/);
      assert.match(md, /## After \/ before: ours now against ours@5b99475/);
      assert.match(md, /\| read \| plain \| passive \| 100 ms \(2\.0\) \| 100 ms \(2\.0\) \| 1\.00 \| vs before's runs 0\.99–1\.01 \| within noise \|/);
      assert.match(md, /\| read \| tls \| passive \| 150 ms \(3\.0\) \| 100 ms \(2\.0\) \| 1\.50 \| vs before's runs 1\.50–1\.50 \| \*\*slower beyond noise\*\* \|/);
      assert.match(md, /\| download 2 MiB \| plain \| passive \| 10\.0 ms \| 10\.0 ms \| 1\.00 \| runs 0\.91–1\.10 \| within noise \|/);
      assert.match(md, /Slower than ours@5b99475 beyond noise: read tls passive\./);
    });

    it('says so when nothing is slower', () => {
      const md = report(results([row('ours', [100, 100, 100], undefined, { ...read }), row(base, [100, 100, 100], undefined, { ...read })], { ref: 'v1', commit: 'a'.repeat(40), tool: base }));
      assert.match(md, /Nothing is slower than ours@5b99475 beyond noise\./);
    });

    it('does not judge a run with too few runs', () => {
      const md = report(results([row('ours', [300], undefined, { ...read }), row(base, [100], undefined, { ...read })], { ref: 'v1', commit: 'a'.repeat(40), tool: base }));
      assert.match(md, /\| 3\.00 \| vs before's runs 3\.00–3\.00 \| too few runs \(< 3\) \|/);
      assert.match(md, /Too few runs to judge against ours@5b99475\./);
    });

    it('has no such section without a baseline', () => {
      const md = report(results([row('ours', [100, 100, 100], undefined, { ...read })]));
      assert.doesNotMatch(md, /After \/ before/);
      assert.doesNotMatch(md, /--baseline/);
    });
  });
});

describe('bench report: issue #16 search targets', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-bench-search-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  const search = { group: 'latency', security: 'plain', mode: 'passive' } as const;
  const rows = (): Row[] => [
    row('ours', [8000, 9500, 9000], undefined, { ...search, scenario: 'goto-file', phases: { first: [300, 400, 350], disk: [50, 250, 60] }, counts: { dirs: 201, files: 2000 } }),
    row('lftp', [72000], undefined, { ...search, scenario: 'goto-file' }),
    row('ours', [31000, 29000, 40000], undefined, { ...search, scenario: 'find-in-files', phases: { first: [1500, 1400, 1600], again: [2500, 2600, 2400] }, matches: 200 }),
    row('lftp', [90000], undefined, { ...search, scenario: 'find-in-files', phases: { mirror: [88000], grep: [2000] }, matches: 200 }),
    row('ours', [900, 1000, 800], undefined, { ...search, scenario: 'index-memory', heapBytes: [40e6, 42e6, 41e6] }),
  ];
  const report = (sizes: Partial<BenchResults['sizes']>): string => {
    writeReport({
      date: '2025-01-01T00:00:00.000Z', options: { rttMs: 50, runs: 3, treeRuns: 1, parallel: 4 },
      sizes: { listEntries: 1000, treeDirs: 200, treeFiles: 2000, treeFileBytes: 10_000, indexEntries: 100_000, syncDirs: 200, syncFiles: 2000, bigBytes: 100 << 20, mediumBytes: 10 << 20, ...sizes },
      versions: {}, measuredRttMs: 50, rows: rows(),
    }, dir);
    return fs.readFileSync(path.join(dir, 'results.md'), 'utf8');
  };

  it('judges the medians of the full tree against the issue\'s limits', () => {
    const md = report({});
    assert.match(md, /\| Go to File: first results, cold index \| plain passive, 200 folders \/ 2000 files \| 350 ms \| 1\.0 s \| met \|/);
    assert.match(md, /\| Go to File: whole index, cold \| [^|]+ \| 9\.0 s \| 9\.0 s \| met \|/);
    assert.match(md, /\| Go to File: from the on-disk index \(window reload\) \| [^|]+ \| 60 ms \| 200 ms \| met \|/);
    assert.match(md, /\| Find in Files: first match, cold \| [^|]+ \| 1\.5 s \| 2\.0 s \| met \|/);
    assert.match(md, /\| Find in Files: whole search, cold \| [^|]+ \| 31\.0 s \| 30\.0 s \| \*\*missed\*\* \|/);
    assert.match(md, /\| Find in Files: the same search again \(content cache\) \| [^|]+ \| 2\.5 s \| 2\.0 s \| \*\*missed\*\* \|/);
    assert.match(md, /\| memory: search index of 100,000 entries < 50 MB \| [^|]+ \| 41\.0 MB \| 50 MB \| met \|/);
    // The comparison with the reference tools: ours / theirs.
    assert.match(md, /\| Go to File: whole index, cold \(2000 files in 201 folders\) \| 9\.0 s \| 72\.0 s \| lftp `find` \| 0\.13 \|/);
    assert.match(md, /\| Find in Files: whole search, cold \| 31\.0 s \| 90\.0 s \(mirror 88\.0 s \+ grep 2\.0 s\) \| [^|]+ \| 0\.34 \|/);
    assert.match(md, /\| Find in Files: matching lines found \| 200 \| 200 \|/);
  });

  it('does not judge a smaller tree or index against them', () => {
    const md = report({ treeDirs: 6, treeFiles: 30, indexEntries: 2000 });
    assert.match(md, /\| Go to File: first results, cold index \| plain passive, 6 folders \/ 30 files \(not the full tree: not judged\) \| 350 ms \| 1\.0 s \| n\/a \|/);
    assert.match(md, /\| memory: search index of 100,000 entries < 50 MB \| 2,000 files, heap growth \(not 100,000: not judged\) \| 41\.0 MB \| 50 MB \| n\/a \|/);
  });
});
