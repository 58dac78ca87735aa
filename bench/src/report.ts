/** bench/results.json (everything measured) and bench/results.md (tables, targets, traces). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EDITOR_PAUSE_MS, SEARCH_SCENARIOS, type Mode, type Scenario, type Security, type Tool, type TraceLine } from './job';
import type { Sizes } from './fixtures';

export interface Row {
  group: 'latency' | 'loopback';
  scenario: Scenario;
  security: Security;
  mode: Mode;
  tool: Tool;
  /** ms per run */
  times: number[];
  maxRssKb: number;
  sizeBytes?: number;
  error?: string;
  trace?: TraceLine[];
  loginMs?: number[];
  counts?: { dirs: number; files: number };
  /** Further times per run by name (see JobResult.phases). */
  phases?: Record<string, number[]>;
  heapBytes?: number[];
  matches?: number;
  /** tls-resume: which server, TLS version and whether the added connection could resume. */
  variant?: { server: string; tlsVersion: string; resumption: boolean };
  /** tls-resume: runs whose connection did resume. */
  resumedRuns?: number;
  openedTogether?: { opened: number; resumed: number };
}

export interface BenchResults {
  date: string;
  options: Record<string, unknown>;
  sizes: Sizes;
  versions: Record<string, string>;
  measuredRttMs?: number;
  elapsedS?: number;
  /** 1, 5, 15 minute load averages of the machine at start and end (other work adds noise). */
  loadAverage?: number[];
  loadAverageAtEnd?: number[];
  rows: Row[];
  targets?: TargetResult[];
  /** `--baseline REF`: our client as of that commit ran as one more tool, `tool`. */
  baseline?: { ref: string; commit: string; tool: Tool };
}

export interface TargetResult {
  target: string;
  variant: string;
  value: string;
  limit: string;
  met: boolean | undefined;
}

const OTHERS: Tool[] = ['basic-ftp', 'curl', 'lftp'];
const SCENARIO_TITLES: Record<Scenario, string> = {
  connect: 'connect + login (cold)',
  list: 'list a folder of 1,000 entries',
  stat: 'stat a file',
  read: 'read a 10 KB file (warm, back to back)',
  save: 'save (upload) a 10 KB file (warm, back to back)',
  'read-idle': `read a 10 KB file (warm, ${EDITOR_PAUSE_MS / 1000} s after the last operation, as in an editor)`,
  'save-idle': `save (upload) a 10 KB file (warm, ${EDITOR_PAUSE_MS / 1000} s after the last operation, as in an editor)`,
  tree: 'walk the tree',
  sync: 'sync a tree to an empty folder',
  download: 'download',
  upload: 'upload',
  'goto-file': 'Go to File',
  'find-in-files': 'Find in Files',
  'index-memory': 'memory of the search index',
  'tls-resume': 'one more FTPS control connection beside an open one',
  'editor-open': 'open a folder as VS Code does (cold, to the root listing)',
  'editor-open-window': 'open a folder in a new window (as editor-open, nothing of the process\'s TLS memory)',
  'editor-save': 'save from the editor as VS Code does (stat, writeFile, stat), 0.5 s after the last save',
  'editor-save-later': 'save from the editor as VS Code does, past the listing cache\'s lifetime after the last save',
  'cli-get': 'cold one-shot get of the small file (whole process)',
  'cli-ls': 'cold one-shot ls of the 1,000-entry folder (whole process)',
};

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function writeReport(results: BenchResults, outDir: string): void {
  results.targets = evaluateTargets(results);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(results, null, 1) + '\n');
  fs.writeFileSync(path.join(outDir, 'results.md'), markdown(results, outDir));
}

function find(r: BenchResults, where: Partial<Row>): Row | undefined {
  return r.rows.find((row) => Object.entries(where).every(([k, v]) => (row as unknown as Record<string, unknown>)[k] === v));
}

function big(r: BenchResults, row: Row): boolean {
  return row.sizeBytes === undefined || row.sizeBytes === r.sizes.bigBytes;
}

/** Median of a row, undefined when it failed or has no runs. */
function med(row: Row | undefined): number | undefined {
  return row && !row.error ? median(row.times) : undefined;
}

/** vsftpd's own time for checking the password, from our connect traces: PASS→230 minus one round trip. */
export function serverLoginMs(r: BenchResults, security: Security): number | undefined {
  const rtt = r.measuredRttMs ?? 0;
  const samples = r.rows.filter((x) => x.tool === 'ours' && x.scenario === 'connect' && x.security === security).flatMap((x) => x.loginMs ?? []);
  const m = median(samples);
  return m === undefined ? undefined : Math.max(0, m - rtt);
}

function evaluateTargets(r: BenchResults): TargetResult[] {
  const rtt = r.measuredRttMs;
  const out: TargetResult[] = [];
  const rtts = (ms: number | undefined): string => (ms === undefined || !rtt ? 'n/a' : `${(ms / rtt).toFixed(2)} RTT (${ms.toFixed(0)} ms)`);
  const usable = rtt !== undefined && rtt >= 1;
  for (const security of ['plain', 'tls'] as Security[]) {
    // Both ways of being warm: in an editor's rhythm, and in a loop with no pause at all.
    for (const [scenario, limit] of [['read-idle', 3], ['read', 3], ['save-idle', 4], ['save', 4]] as const) {
      const m = med(find(r, { group: 'latency', tool: 'ours', scenario, security, mode: 'passive' }));
      if (m === undefined && !find(r, { scenario })) continue;
      const what = scenario.startsWith('read') ? 'read of a 10 KB file' : 'save of a 10 KB file';
      const when = scenario.endsWith('idle') ? `after ${EDITOR_PAUSE_MS / 1000} s (editor)` : 'back to back';
      out.push({ target: `warm ${what} ≤ ${limit} RTT (passive)`, variant: `${security}, ${when}`, value: rtts(m), limit: `${limit} RTT`, met: m === undefined || !usable ? undefined : m / (rtt as number) <= limit });
    }
  }
  for (const security of ['plain', 'tls'] as Security[]) {
    // A run of other scenarios only (--only) has no connect or tree target to show.
    if (!find(r, { scenario: 'connect' })) break;
    const limit = security === 'plain' ? 5 : 7;
    const m = med(find(r, { group: 'latency', tool: 'ours', scenario: 'connect', security, mode: 'passive' }));
    const login = serverLoginMs(r, security) ?? 0;
    out.push({ target: `cold connect + login ≤ ${limit} RTT`, variant: `${security}, as measured`, value: rtts(m), limit: `${limit} RTT`, met: m === undefined || !usable ? undefined : m / (rtt as number) <= limit });
    out.push({ target: `cold connect + login ≤ ${limit} RTT`, variant: `${security}, without vsftpd's ${login.toFixed(0)} ms password check`, value: rtts(m === undefined ? undefined : m - login), limit: `${limit} RTT`, met: m === undefined || !usable ? undefined : (m - login) / (rtt as number) <= limit });
  }
  for (const security of ['plain', 'tls'] as Security[]) {
    if (!find(r, { scenario: 'tree' })) break;
    for (const mode of ['passive', 'active'] as Mode[]) {
      const ours = med(find(r, { group: 'latency', tool: 'ours', scenario: 'tree', security, mode }));
      const theirs = med(find(r, { group: 'latency', tool: 'lftp', scenario: 'tree', security, mode }));
      const speedup = ours && theirs ? theirs / ours : undefined;
      out.push({ target: 'tree walk ≥ 2× faster than lftp find', variant: `${security} ${mode}`, value: speedup === undefined ? 'n/a' : `${speedup.toFixed(1)}× (${(ours as number / 1000).toFixed(1)} s vs ${(theirs as number / 1000).toFixed(1)} s)`, limit: '2×', met: speedup === undefined ? undefined : speedup >= 2 });
    }
  }
  out.push(...searchTargets(r));
  for (const scenario of ['download', 'upload'] as Scenario[]) {
    for (const security of ['plain', 'tls'] as Security[]) {
      for (const mode of ['passive', 'active'] as Mode[]) {
        const oursRow = r.rows.find((x) => x.group === 'loopback' && x.tool === 'ours' && x.scenario === scenario && x.security === security && x.mode === mode && big(r, x));
        const curlRow = find(r, { group: 'loopback', tool: 'curl', scenario, security, mode });
        const ours = med(oursRow);
        const theirs = med(curlRow);
        if (ours === undefined && theirs === undefined) continue;
        const ratio = throughputRatio(oursRow, curlRow);
        out.push({
          target: `${scenario} of ${mib(r.sizes.bigBytes)} ≥ 90% of curl's throughput`, variant: `${security} ${mode}`,
          value: ratio === undefined ? (curlRow?.error ? `curl failed: ${curlRow.error}` : 'n/a') : `${pct(ratio.median)} (runs ${pct(ratio.min)}–${pct(ratio.max)}; medians ${mbps(r.sizes.bigBytes, ours)} vs ${mbps(r.sizes.bigBytes, theirs)})`,
          limit: '90%', met: ratio === undefined ? undefined : ratio.median >= 0.9,
        });
        const medium = r.rows.find((x) => x.group === 'loopback' && x.tool === 'ours' && x.scenario === scenario && x.security === security && x.mode === mode && x.sizeBytes === r.sizes.mediumBytes);
        if (oursRow && medium && !oursRow.error && !medium.error) {
          const growth = (oursRow.maxRssKb - medium.maxRssKb) / 1024;
          out.push({
            target: `${scenario}: memory does not grow with file size`, variant: `${security} ${mode}`,
            value: `${mib(medium.sizeBytes as number)}: ${(medium.maxRssKb / 1024).toFixed(0)} MiB, ${mib(r.sizes.bigBytes)}: ${(oursRow.maxRssKb / 1024).toFixed(0)} MiB peak RSS`,
            limit: '< 16 MiB more', met: growth < 16,
          });
        }
      }
    }
  }
  return out;
}

/** The median of a row's phase, undefined when the row failed or lacks it. */
function phase(row: Row | undefined, name: string): number | undefined {
  return row && !row.error ? median(row.phases?.[name] ?? []) : undefined;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? 'n/a' : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Issue #16's limits, judged on the full tree (200 folders / 2,000 files) and a 100,000-entry index only. */
export const SEARCH_LIMITS = { gotoFirstMs: 1000, gotoWholeMs: 9000, gotoDiskMs: 200, grepFirstMs: 2000, grepWholeMs: 30_000, grepAgainMs: 2000, indexBytes: 50e6, indexEntries: 100_000, treeFiles: 2000 };

function searchTargets(r: BenchResults): TargetResult[] {
  const out: TargetResult[] = [];
  const full = r.sizes.treeFiles >= SEARCH_LIMITS.treeFiles;
  const variant = `plain passive, ${r.sizes.treeDirs} folders / ${r.sizes.treeFiles} files${full ? '' : ' (not the full tree: not judged)'}`;
  const time = (target: string, ms: number | undefined, limit: number): void => {
    out.push({ target, variant, value: seconds(ms), limit: `${seconds(limit)}`, met: ms === undefined || !full ? undefined : ms <= limit });
  };
  const goto = find(r, { scenario: 'goto-file', tool: 'ours' });
  if (goto) {
    time('Go to File: first results, cold index', phase(goto, 'first'), SEARCH_LIMITS.gotoFirstMs);
    time('Go to File: whole index, cold', med(goto), SEARCH_LIMITS.gotoWholeMs);
    time('Go to File: from the on-disk index (window reload)', phase(goto, 'disk'), SEARCH_LIMITS.gotoDiskMs);
  }
  const grep = find(r, { scenario: 'find-in-files', tool: 'ours' });
  if (grep) {
    time('Find in Files: first match, cold', phase(grep, 'first'), SEARCH_LIMITS.grepFirstMs);
    time('Find in Files: whole search, cold', med(grep), SEARCH_LIMITS.grepWholeMs);
    time('Find in Files: the same search again (content cache)', phase(grep, 'again'), SEARCH_LIMITS.grepAgainMs);
  }
  const memory = find(r, { scenario: 'index-memory', tool: 'ours' });
  if (memory) {
    const bytes = memory.error ? undefined : median(memory.heapBytes ?? []);
    const judged = r.sizes.indexEntries >= SEARCH_LIMITS.indexEntries;
    out.push({
      target: 'memory: search index of 100,000 entries < 50 MB', variant: `${r.sizes.indexEntries.toLocaleString('en')} files, heap growth${judged ? '' : ' (not 100,000: not judged)'}`,
      value: bytes === undefined ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`, limit: '50 MB', met: bytes === undefined || !judged ? undefined : bytes < SEARCH_LIMITS.indexBytes,
    });
  }
  return out;
}

/** Issue #16's table: ours against the reference tools, each measurement on its own line. */
function searchSection(r: BenchResults): string[] {
  const goto = find(r, { scenario: 'goto-file', tool: 'ours' });
  const gotoRef = find(r, { scenario: 'goto-file', tool: 'lftp' });
  const grep = find(r, { scenario: 'find-in-files', tool: 'ours' });
  const grepRef = find(r, { scenario: 'find-in-files', tool: 'lftp' });
  const memory = find(r, { scenario: 'index-memory', tool: 'ours' });
  if (!goto && !grep && !memory) return [];
  const L: string[] = [];
  const x = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b <= 0 ? '—' : (a / b).toFixed(2));
  const err = (row: Row | undefined): string => (row?.error ? ' (failed¹)' : '');
  L.push(`## Search (issue #16): Go to File and Find in Files, plain FTP, passive`, '');
  L.push(`Tree: ${r.sizes.treeDirs} folders / ${r.sizes.treeFiles} files of about ${(r.sizes.treeFileBytes / 1000).toFixed(1)} KB of text each (${((r.sizes.treeFiles * r.sizes.treeFileBytes) / 1e6).toFixed(1)} MB); every tenth file holds the text searched for once. Ours runs the search core (\`src/search\`) as \`ftp-workspace find\`/\`grep\` do: its own pool of ${String(r.options.searchParallel ?? r.options.parallel ?? 4)} connections (connects included), the index walking 16 folders at once, files read as their folder is listed. Medians of runs (ours: ${String(r.options.runs)}, lftp: ${String(r.options.treeRuns)}, \`--tree-runs\`); every run of ours starts cold: new pool, no index on disk, empty content cache. Ratios ours / lftp: below 1 means we are faster.`, '');
  L.push('| Measurement | ours | reference | reference tool | ours / reference |');
  L.push('|---|---|---|---|---|');
  if (goto || gotoRef) {
    const ref = med(gotoRef);
    L.push(`| Go to File: first results, cold index (first folder's files handed over) | ${seconds(phase(goto, 'first'))}${err(goto)} | ${seconds(ref)}${err(gotoRef)} | lftp \`find\` (all names) | ${x(phase(goto, 'first'), ref)} |`);
    L.push(`| Go to File: whole index, cold (${goto?.counts ? `${goto.counts.files} files in ${goto.counts.dirs} folders` : 'n/a'}) | ${seconds(med(goto))}${err(goto)} | ${seconds(ref)}${err(gotoRef)} | lftp \`find\` | ${x(med(goto), ref)} |`);
    L.push(`| Go to File: from the on-disk index after a window reload (load + first query) | ${seconds(phase(goto, 'disk'))}${err(goto)} | — | — | — |`);
  }
  if (grep || grepRef) {
    const ref = med(grepRef);
    const refDetail = grepRef && !grepRef.error ? ` (mirror ${seconds(phase(grepRef, 'mirror'))} + grep ${seconds(phase(grepRef, 'grep'))})` : '';
    L.push(`| Find in Files: first match, cold | ${seconds(phase(grep, 'first'))}${err(grep)} | ${seconds(ref)}${err(grepRef)} | lftp \`mirror\` + \`grep -rn\` (first result only at the end) | ${x(phase(grep, 'first'), ref)} |`);
    L.push(`| Find in Files: whole search, cold | ${seconds(med(grep))}${err(grep)} | ${seconds(ref)}${refDetail}${err(grepRef)} | lftp \`mirror --parallel=${String(r.options.searchParallel ?? r.options.parallel ?? 4)}\` + \`grep -rn\` | ${x(med(grep), ref)} |`);
    L.push(`| Find in Files: the same search again (content cache, the index's listings from the cold search) | ${seconds(phase(grep, 'again'))}${err(grep)} | ${seconds(phase(grepRef, 'grep'))}${err(grepRef)} | \`grep -rn\` on the local copy | ${x(phase(grep, 'again'), phase(grepRef, 'grep'))} |`);
    L.push(`| Find in Files: matching lines found | ${grep?.matches ?? '—'} | ${grepRef?.matches ?? '—'} | \`grep -rn\` | — |`);
  }
  if (memory) {
    const bytes = memory.error ? undefined : median(memory.heapBytes ?? []);
    L.push(`| Memory: search index of ${r.sizes.indexEntries.toLocaleString('en')} files (heap growth after a full GC; built in ${seconds(med(memory))}) | ${bytes === undefined ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`}${err(memory)} | — | — | — |`);
  }
  L.push('', 'Memory: the listings are made up in the runner process as the walk asks for them (100 files per folder), so only the index itself is measured: `heapUsed` after a full GC with the index held, minus before it was made.', '');
  return L;
}

/**
 * Issue #21: what TLS session resumption saves per connection a pool adds — wall time to the login
 * (in RTTs) and CPU, ours and the server's — per server and TLS version.
 */
function tlsResumeSection(r: BenchResults, rtt: number | undefined): string[] {
  const rows = r.rows.filter((x) => x.scenario === 'tls-resume' && x.variant);
  if (rows.length === 0) return [];
  const L: string[] = [];
  const ms = (x: number | undefined): string => (x === undefined ? '—' : `${x.toFixed(1)} ms`);
  const inRtt = (x: number | undefined): string => (x === undefined || !rtt ? '—' : (x / rtt).toFixed(2));
  L.push('## TLS session resumption (issue #21): one more FTPS control connection beside an open one', '');
  L.push(`Explicit FTPS over the latency link, our client only. A first connection (unmeasured) stays open, as in a pool; each run opens one more and closes it — with resumption offering the session the connection before it left (tickets), without it after every remembered session was forgotten (\`forgetTlsSessions\`), so it makes a full handshake. Handshake: from AUTH TLS's 234 to the handshake done and the certificate checked (greeting and login cost the same either way, and proftpd's greeting alone swings by hundreds of milliseconds); connect to login: from the call to the 230. CPU in the handshake's window: our process (\`process.cpuUsage\`) and every thread of the server's processes (\`/proc/*/task/*/schedstat\`: the listener and its session processes); neither side does other work then (USER and PASS go out after it). TLS version forced on our side: our \`minVersion\`, and Node's \`--tls-max-v1.2\` for 1.2. Medians of ${String(r.options.runs)} runs; "resumed" counts the runs whose control connection did resume; "opened together": a cold pool given ${String(r.options.parallel ?? 4)} requests at once, whose connections all begin their handshakes before any has a session to offer.`, '');
  L.push('| Server | TLS | Resumed | Handshake, resumed | Handshake, full | Saved (RTT) | Connect to login, resumed / full | Our CPU in the handshake, resumed / full | Server CPU in the handshake, resumed / full |');
  L.push('|---|---|---|---|---|---|---|---|---|');
  const servers = [...new Set(rows.map((x) => x.variant?.server as string))];
  for (const server of servers) {
    for (const version of ['TLSv1.2', 'TLSv1.3']) {
      const get = (resumption: boolean) => rows.find((x) => x.variant?.server === server && x.variant.tlsVersion === version && x.variant.resumption === resumption);
      const on = get(true);
      const off = get(false);
      if (!on && !off) continue;
      const failed = (row: Row | undefined) => (row?.error ? ' (failed¹)' : '');
      const hsOn = phase(on, 'handshake');
      const hsOff = phase(off, 'handshake');
      const saved = hsOn !== undefined && hsOff !== undefined ? hsOff - hsOn : undefined;
      const together = on?.openedTogether;
      L.push(`| ${server} | ${version.replace('TLSv', '')} | ${on?.resumedRuns ?? 0}/${on?.times.length ?? 0} (full: ${off?.resumedRuns ?? 0}/${off?.times.length ?? 0}; opened together: ${together ? `${together.resumed}/${together.opened}` : '—'}) | ${ms(hsOn)} (${inRtt(hsOn)} RTT)${failed(on)} | ${ms(hsOff)} (${inRtt(hsOff)} RTT)${failed(off)} | ${saved === undefined ? '—' : `${ms(saved)} (${inRtt(saved)})`} | ${ms(med(on))} / ${ms(med(off))} | ${ms(phase(on, 'clientCpu'))} / ${ms(phase(off, 'clientCpu'))} | ${ms(phase(on, 'serverCpu'))} / ${ms(phase(off, 'serverCpu'))} |`);
    }
  }
  L.push('');
  return L;
}

/**
 * Our throughput over theirs, run by run, for runs made in turn (see runAll in main.ts): each
 * pair saw the same machine, so the median of the pairs' ratios holds still where a ratio of two
 * medians taken minutes apart would swing with the machine.
 */
export function throughputRatio(ours: Row | undefined, theirs: Row | undefined): { median: number; min: number; max: number } | undefined {
  if (!ours || !theirs || ours.error || theirs.error) return undefined;
  const n = Math.min(ours.times.length, theirs.times.length);
  const ratios = Array.from({ length: n }, (_, i) => theirs.times[i] / ours.times[i]).filter((x) => Number.isFinite(x) && x > 0);
  const m = median(ratios);
  return m === undefined ? undefined : { median: m, min: Math.min(...ratios), max: Math.max(...ratios) };
}

/**
 * When a difference between ours now (after) and ours as of the baseline (before) counts: more
 * than 10 % and more than 1 ms apart (timer and scheduling granularity), and outside the spread,
 * which takes at least 3 runs (pairs) to have.
 */
export const NOISE = { ratio: 0.1, ms: 1, minRuns: 3 };

export interface AfterBefore {
  /** Time after ÷ time before (above 1: slower now). Runs made in turn: the median of the run-by-run ratios; otherwise the ratio of the medians. */
  ratio: number;
  /** Runs made in turn: the lowest and highest run-by-run ratio; otherwise after's median over before's slowest and fastest run. */
  min: number;
  max: number;
  paired: boolean;
  /** `unknown`: fewer than NOISE.minRuns runs (pairs), no spread to judge by. */
  verdict: 'slower' | 'faster' | 'same' | 'unknown';
}

/**
 * Ours now against ours as of the baseline. `paired`: the runs were made in turn (big files, see
 * runAll in main.ts), so run i of one saw the same machine as run i of the other. Elsewhere each
 * tool's runs come in one block, and after's median is set against each run of before.
 * Slower beyond noise: the ratio is above 1 + NOISE.ratio, the medians are more than NOISE.ms
 * apart, and the whole spread is above 1 (every pair was slower; or after's median is above
 * before's slowest run). Faster beyond noise likewise the other way. Fewer than NOISE.minRuns
 * runs (pairs): no verdict.
 */
export function afterBefore(after: Row | undefined, before: Row | undefined, paired: boolean): AfterBefore | undefined {
  const a = med(after);
  const b = med(before);
  if (a === undefined || b === undefined || !after || !before || a <= 0 || b <= 0) return undefined;
  let ratios: number[];
  if (paired) {
    const n = Math.min(after.times.length, before.times.length);
    ratios = Array.from({ length: n }, (_, i) => after.times[i] / before.times[i]).filter((x) => Number.isFinite(x) && x > 0);
  } else {
    ratios = before.times.filter((t) => t > 0).map((t) => a / t);
  }
  if (ratios.length === 0) return undefined;
  const ratio = paired ? (median(ratios) as number) : a / b;
  const min = Math.min(...ratios);
  const max = Math.max(...ratios);
  const apart = Math.abs(a - b) > NOISE.ms;
  const runs = paired ? ratios.length : Math.min(after.times.length, ratios.length);
  const verdict = runs < NOISE.minRuns ? 'unknown' : ratio > 1 + NOISE.ratio && min > 1 && apart ? 'slower' : ratio < 1 - NOISE.ratio && max < 1 && apart ? 'faster' : 'same';
  return { ratio, min, max, paired, verdict };
}

function afterBeforeSection(r: BenchResults, rtt: number | undefined): string[] {
  const base = r.baseline;
  if (!base) return [];
  const L: string[] = [];
  const name = base.tool;
  L.push(`## After / before: ours now against ${name}`, '');
  L.push(`\`${name}\` is our client as of \`${base.ref}\` (${base.commit}): that commit's \`bench/src/runner.ts\`, bundled with its own \`src/\`, run as one more tool right after ours, with the same runs and order (big files: the tools take turns, run by run). "after / before" is time now ÷ time then, so above 1 means slower now: for round-trip bound work the ratio of the medians, for big files the median of the run-by-run ratios. Spread: big files, the lowest and highest run-by-run ratio; otherwise our median now over the baseline's slowest and fastest run. **Slower beyond noise** when the ratio is above ${(1 + NOISE.ratio).toFixed(2)}, the medians are more than ${NOISE.ms} ms apart, and the whole spread is above 1 (every pair of runs was slower; or our median now is above the baseline's slowest run); faster beyond noise likewise the other way; anything else is within noise. With fewer than ${NOISE.minRuns} runs there is no spread, and no verdict.`, '');
  L.push(`| Scenario | Security | Mode | ours (after) | ${name} (before) | after / before | spread | verdict |`);
  L.push('|---|---|---|---|---|---|---|---|');
  const slower: string[] = [];
  const order: Scenario[] = ['connect', 'editor-open', 'editor-open-window', 'editor-save', 'editor-save-later', 'list', 'stat', 'read-idle', 'read', 'save-idle', 'save', 'tree', 'sync', 'download', 'upload'];
  for (const group of ['latency', 'loopback'] as Row['group'][]) {
    for (const security of ['plain', 'tls'] as Security[]) {
      for (const scenario of order) {
        for (const mode of ['passive', 'active'] as Mode[]) {
          const get = (tool: Tool) => r.rows.find((x) => x.group === group && x.scenario === scenario && x.security === security && x.mode === mode && x.tool === tool && (group === 'latency' || big(r, x)));
          const after = get('ours');
          const before = get(name);
          if (!after || !before) continue;
          const c = afterBefore(after, before, group === 'loopback');
          const title = group === 'loopback' ? `${scenario} ${mib(r.sizes.bigBytes)}` : scenario;
          const verdict = !c ? 'n/a' : { slower: '**slower beyond noise**', faster: 'faster beyond noise', same: 'within noise', unknown: `too few runs (< ${NOISE.minRuns})` }[c.verdict];
          if (c?.verdict === 'slower') slower.push(`${title} ${security} ${mode}`);
          const spread = !c ? '—' : `${c.paired ? 'runs' : "vs before's runs"} ${c.min.toFixed(2)}–${c.max.toFixed(2)}`;
          L.push(`| ${title} | ${security} | ${mode} | ${cell(after, group === 'latency' ? rtt : undefined)} | ${cell(before, group === 'latency' ? rtt : undefined)} | ${c ? c.ratio.toFixed(2) : '—'} | ${spread} | ${verdict} |`);
        }
      }
    }
  }
  const judged = r.rows.some((x) => x.tool === name && x.times.length >= NOISE.minRuns);
  L.push('', slower.length > 0 ? `Slower than ${name} beyond noise: ${slower.join('; ')}.` : judged ? `Nothing is slower than ${name} beyond noise.` : `Too few runs to judge against ${name}.`, '');
  return L;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}

function mib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / 1048576).toFixed(0)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

function mbps(bytes: number, ms: number | undefined): string {
  return ms ? `${(bytes / ms / 1000).toFixed(0)} MB/s` : '—';
}

function cell(row: Row | undefined, rtt: number | undefined): string {
  if (!row) return '—';
  if (row.error) return `failed¹`;
  const m = median(row.times);
  if (m === undefined) return '—';
  return rtt && rtt >= 1 ? `${m.toFixed(0)} ms (${(m / rtt).toFixed(1)})` : `${m.toFixed(1)} ms`;
}

function ratio(ours: Row | undefined, theirs: Row | undefined): string {
  const a = med(ours);
  const b = med(theirs);
  return a && b ? (a / b).toFixed(2) : '—';
}

function markdown(r: BenchResults, outDir: string): string {
  const rtt = r.measuredRttMs;
  const L: string[] = [];
  const o = r.options;
  L.push('# FTP Workspace — benchmark results', '');
  L.push(`Run ${r.date} (${r.elapsedS ?? '?'} s), \`npm run bench -- --rtt ${o.rttMs} --runs ${o.runs}${o.quick ? ' --quick' : ''}${o.smoke ? ' --smoke' : ''}${o.only ? ` --only ${(o.only as string[]).join(',')}` : ''}${r.baseline ? ` --baseline ${r.baseline.ref}` : ''}\`.`);
  L.push(`Medians of ${o.runs} runs (tree walk and sync: ${o.treeRuns}). Link RTT set to ${o.rttMs} ms, ${rtt !== undefined ? `measured ${rtt.toFixed(2)} ms with ping (the unit of "RTT" below)` : 'not measured'}.`);
  L.push(`Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  L.push(`Machine load average (1/5/15 min) at start ${r.loadAverage?.join(' / ') ?? '?'}, at end ${r.loadAverageAtEnd?.join(' / ') ?? '?'} on ${os.cpus().length} CPUs: other work shared the machine, so single numbers carry noise; the link forwarder runs with real-time priority, servers and clients at nice -10.`, '');
  L.push('## How it is measured', '');
  L.push(
    '- **Latency link**: vsftpd runs in one network namespace, every client in another; the namespaces are joined only by a TUN device in each and `bench/link/delay.py`, which holds every packet for RTT/2 (this kernel has no `sch_netem`). No default route, only 198.18.0.1 ↔ 198.18.0.2.',
    '- **Loopback**: big files, vsftpd on 127.0.0.1, downloads written to a file in /dev/shm.',
    '- **Ours and basic-ftp** run in a child process of their own (so its peak RSS is theirs alone); the time is taken around the call (`FtpClient.connect`, `list`, `stat`, `readFile`, `upload`, `download`; basic-ftp `access`, `list`, `size`+`lastMod`, `downloadTo`, `uploadFrom`). Our big transfers (loopback) are timed from the moment the data starts to flow — the server\'s 150, or our first bytes sent if earlier (ours sends an upload\'s data as soon as the data connection is open) — to the end of the call, as curl\'s total − pre-transfer is (curl sends nothing before the 150); the commands before, EPSV and STOR or RETR with the server opening the file, are kept in the results as the `setup` phase. basic-ftp and lftp are timed with theirs. Warm operations use one connection that already did the operation once; "back to back" runs them with no pause between, "as in an editor" with ' + `${EDITOR_PAUSE_MS / 1000} s between (untimed; curl: \`--rate\`, lftp: \`!sleep\`), as a person opening or saving files does.`,
    '- **curl** (`--ftp-method nocwd`): its own per-transfer timer (`-w %{time_total}`) with several URLs in one invocation, so every measured transfer reuses the connection; connect + login from its `--trace-time` log (first "Trying" to the reply to PWD, the last step of its login); big files: total minus pre-transfer time. **lftp**: `!date` stamps between commands of one script (`cache:enable no`); connect + login is `quote NOOP` on a fresh connection minus one RTT; stat is `cls -l`, read is `cat`, tree is `find`.',
    `- Tree walk: ${r.sizes.treeDirs} folders below the root, ${r.sizes.treeFiles} files; ours uses the connection pool with ${o.parallel} connections (listings in parallel, as the Explorer or a search would), basic-ftp ${o.parallel} clients taking the next folder from a queue, lftp \`find\` one connection. Connects are included.`,
    `- Sync (plain FTP only): a local tree of ${r.sizes.syncFiles} small files in ${r.sizes.syncDirs} folders uploaded to a new, empty server folder per run. Ours: the extension's "Sync local → remote" without its UI — both trees read, \`planSync\`, \`executePlan\` through RemoteFs on a fresh pool of ${o.parallel} connections (new files into folders the sync made go straight to their names, replacements through the safe save; one listing per folder afterwards, in parallel, checks sizes and gives the sync record), pool closed. lftp: \`mirror -R --parallel=${o.parallel} LOCAL REMOTE\` then \`close -a\` in one script (its defaults: it also sets each file's permissions). Connects are included; every run's folder is counted on the server's disk afterwards, a short count is a failure.`,
    "- The test user's password is re-hashed with SHA-512 for the run: with Debian's default yescrypt, vsftpd spends 0.3–1 s of CPU on every login here, which would drown the round trips of connect + login.",
    '- Cells: median ms (RTTs). Ratios are ours / theirs: below 1 means we are faster.',
    '',
  );

  for (const security of ['plain', 'tls'] as Security[]) {
    const rows = r.rows.filter((x) => x.group === 'latency' && x.security === security && !SEARCH_SCENARIOS.includes(x.scenario));
    if (rows.length === 0) continue;
    L.push(`## Round-trip bound work, ${security === 'plain' ? 'plain FTP' : 'explicit FTPS (TLS 1.3, session reuse required)'}`, '');
    L.push('| Scenario | Mode | ours | basic-ftp | curl | lftp | ours/basic-ftp | ours/curl | ours/lftp | ours peak RSS |');
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const scenario of ['connect', 'cli-get', 'cli-ls', 'editor-open', 'editor-open-window', 'editor-save', 'editor-save-later', 'list', 'stat', 'read-idle', 'read', 'save-idle', 'save', 'tree', 'sync'] as Scenario[]) {
      for (const mode of ['passive', 'active'] as Mode[]) {
        const get = (tool: Tool) => rows.find((x) => x.scenario === scenario && x.mode === mode && x.tool === tool);
        const ours = get('ours');
        if (!ours && OTHERS.every((t) => !get(t))) continue;
        const title = scenario === 'list' ? `list a folder of ${r.sizes.listEntries} entries`
          : scenario === 'tree' ? `walk ${r.sizes.treeDirs} folders / ${r.sizes.treeFiles} files`
            : scenario === 'sync' ? `sync ${r.sizes.syncFiles} files / ${r.sizes.syncDirs} folders to an empty folder`
              : SCENARIO_TITLES[scenario];
        L.push(`| ${title} | ${mode} | ${cell(ours, rtt)} | ${cell(get('basic-ftp'), rtt)} | ${cell(get('curl'), rtt)} | ${cell(get('lftp'), rtt)} | ${ratio(ours, get('basic-ftp'))} | ${ratio(ours, get('curl'))} | ${ratio(ours, get('lftp'))} | ${ours ? `${(ours.maxRssKb / 1024).toFixed(0)} MiB` : '—'} |`);
      }
    }
    const login = serverLoginMs(r, security);
    if (login !== undefined) L.push('', `vsftpd needs ${login.toFixed(0)} ms of its own to check the password (PASS → 230 minus one RTT, from our traces): that is in every client's connect time.`);
    L.push('');
  }

  const loop = r.rows.filter((x) => x.group === 'loopback');
  if (loop.length > 0) {
    L.push(`## Big files on loopback (${mib(r.sizes.bigBytes)})`, '');
    L.push(`Throughput = bytes / time of the transfer itself (after login), median of ${o.runs} runs. The tools take turns, one run each (ours, basic-ftp, curl, lftp, then again; ours and basic-ftp in a process that moved the file twice before, unmeasured), and "ours/curl" is the median of the ${o.runs} run-by-run ratios. RSS = peak of the whole process.`, '');
    L.push('| Transfer | Security | Mode | ours | curl | lftp | basic-ftp | ours/curl throughput | ours RSS (' + mib(r.sizes.mediumBytes) + ' → ' + mib(r.sizes.bigBytes) + ') | curl RSS | lftp RSS | basic-ftp RSS |');
    L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const scenario of ['download', 'upload'] as Scenario[]) {
      for (const security of ['plain', 'tls'] as Security[]) {
        for (const mode of ['passive', 'active'] as Mode[]) {
          const get = (tool: Tool) => loop.find((x) => x.scenario === scenario && x.security === security && x.mode === mode && x.tool === tool && big(r, x));
          const medium = loop.find((x) => x.scenario === scenario && x.security === security && x.mode === mode && x.tool === 'ours' && x.sizeBytes === r.sizes.mediumBytes);
          const ours = get('ours');
          if (!ours) continue;
          const tp = (row: Row | undefined) => (!row ? '—' : row.error ? 'failed¹' : mbps(r.sizes.bigBytes, med(row)));
          const rss = (row: Row | undefined) => (!row || row.error ? '—' : `${(row.maxRssKb / 1024).toFixed(0)} MiB`);
          const vsCurl = throughputRatio(ours, get('curl'));
          L.push(`| ${scenario} | ${security} | ${mode} | ${tp(ours)} | ${tp(get('curl'))} | ${tp(get('lftp'))} | ${tp(get('basic-ftp'))} | ${vsCurl ? pct(vsCurl.median) : '—'} | ${rss(medium)} → ${rss(ours)} | ${rss(get('curl'))} | ${rss(get('lftp'))} | ${rss(get('basic-ftp'))} |`);
        }
      }
    }
    L.push('');
  }

  L.push(...searchSection(r));
  L.push(...tlsResumeSection(r, rtt));
  L.push(...afterBeforeSection(r, rtt));

  const failures = r.rows.filter((x) => x.error);
  if (failures.length > 0) {
    L.push('¹ Failures:', '');
    for (const f of failures) L.push(`- ${f.tool}, ${f.group} ${f.security} ${f.mode} ${f.scenario}: ${f.error}`);
    L.push('');
  }

  if (r.targets && r.targets.length > 0) {
    L.push('## Targets', '');
    L.push('| Target | Variant | Measured | Limit | Met |');
    L.push('|---|---|---|---|---|');
    for (const t of r.targets) L.push(`| ${t.target} | ${t.variant} | ${t.value} | ${t.limit} | ${t.met === undefined ? 'n/a' : t.met ? 'met' : '**missed**'} |`);
    L.push('');
  }

  const traced = r.rows.filter((x) => x.trace && x.trace.length > 0 && (x.tool === 'ours' || (x.tool === 'basic-ftp' && x.security === 'plain')) && ['connect', 'read', 'save', 'read-idle', 'save-idle', 'stat', 'list'].includes(x.scenario));
  if (traced.length > 0 && rtt) {
    L.push('## Protocol traces (last run; time since the call began, in RTTs)', '');
    L.push('Where the round trips go. `>` sent, `<` received, `*` local event.', '');
    for (const row of traced) {
      L.push(`<details><summary>${row.tool}, ${row.scenario}, ${row.security} ${row.mode}: ${(median(row.times) ?? 0).toFixed(0)} ms</summary>`, '', '```');
      for (const t of row.trace as TraceLine[]) L.push(`${(t.t / rtt).toFixed(2).padStart(6)}  ${t.line.replace(/^> PASS .*/, '> PASS ****')}`);
      L.push('```', '', '</details>', '');
    }
  }

  const notes = path.join(outDir, 'findings.md');
  if (fs.existsSync(notes)) {
    L.push(fs.readFileSync(notes, 'utf8').trim(), '');
  }
  return L.join('\n');
}
