/**
 * `npm run bench`: our FTP client against curl, lftp and basic-ftp on the same vsftpd, over a
 * delayed link between two network namespaces (round-trip-bound work) and over loopback (big
 * files). Writes bench/results.md and bench/results.json.
 *
 *   npm run bench -- [--rtt 50] [--runs 5] [--quick] [--only read,save] [--out DIR] [--baseline REF]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { searchCliConnections } from '../../src/ftp/defaults';
import { startServer, stopAllServers, type RunningServer, type ServerKind } from '../../test/support/realServers';
import { countFiles, MEDIUM_PATH, PATHS, SEARCH_NEEDLE, writeBigFixtures, writeLatencyFixtures, writeLarge, writeTree, type Sizes } from './fixtures';
import { CLI_SCENARIOS, EDITOR_SCENARIOS, SEARCH_SCENARIOS, type Job, type TlsResumeJob, type JobResult, type Mode, type Scenario, type Security, type ServerRef, type Tool } from './job';
import { openLink, SERVER_ADDRESS, type Link } from './link';
import { killAllChildren, runProcess } from './proc';
import { writeReport, type BenchResults, type Row } from './report';
import { curl, lftp, ourCli, type ToolContext, type ToolRunner } from './tools';

interface Options {
  rttMs: number;
  runs: number;
  treeRuns: number;
  quick: boolean;
  smoke: boolean;
  only?: Set<string>;
  outDir: string;
  parallel: number;
  /** Connections of the search scenarios: `--parallel` when given, else the product's default (ftp-workspace find/grep). */
  searchParallel: number;
  /** `--baseline REF`: that commit's runner (built by scripts/bench.mjs) runs as one more tool. */
  baseline?: Baseline;
  /** `--tools ours,baseline,lftp,curl,basic-ftp`: only these tools (default: all that apply). */
  tools?: string[];
}

interface Baseline {
  ref: string;
  commit: string;
  tool: Tool;
  runnerJs: string;
}

const LATENCY_SCENARIOS: Scenario[] = ['connect', 'list', 'stat', 'read', 'save', 'read-idle', 'save-idle', 'tree', 'sync', ...SEARCH_SCENARIOS, ...EDITOR_SCENARIOS, ...CLI_SCENARIOS];
/** A sync of 2,000 files takes minutes per client and mode: plain FTP only keeps the full run bearable. */
const SYNC_SECURITIES: Security[] = ['plain'];
const LOOPBACK_SCENARIOS: Scenario[] = ['download', 'upload'];
/** Issue #21: what TLS session resumption saves per added pool connection, on each server, TLS 1.2 and 1.3. */
const RESUME_SERVERS: ServerKind[] = ['vsftpd', 'proftpd', 'pure-ftpd'];
const TLS_VERSIONS: TlsResumeJob['version'][] = ['TLSv1.2', 'TLSv1.3'];
const SECURITIES: Security[] = ['plain', 'tls'];
const MODES: Mode[] = ['passive', 'active'];

const benchDir = process.env.FTPW_BENCH_DIR ?? path.resolve(__dirname, '..', '..', 'bench');
const runnerJs = process.env.FTPW_BENCH_RUNNER ?? path.join(__dirname, 'runner.js');

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  for (const a of argv) {
    if (a.startsWith('--') && !['--rtt', '--runs', '--tree-runs', '--quick', '--smoke', '--only', '--out', '--parallel', '--baseline', '--tools'].includes(a)) throw new Error(`unknown option ${a}`);
  }
  const smoke = argv.includes('--smoke');
  const quick = argv.includes('--quick') || smoke;
  const runs = Number(value('runs') ?? (smoke ? 1 : quick ? 3 : 5));
  const only = value('only');
  const known = new Set<string>([...LATENCY_SCENARIOS, ...LOOPBACK_SCENARIOS, 'tls-resume']);
  for (const s of only?.split(',') ?? []) if (!known.has(s)) throw new Error(`--only: unknown scenario ${s} (${[...known].join(', ')})`);
  const baselineRef = value('baseline');
  let baseline: Baseline | undefined;
  if (baselineRef) {
    const { FTPW_BENCH_BASELINE_RUNNER: runner, FTPW_BENCH_BASELINE_COMMIT: commit, FTPW_BENCH_BASELINE_SHORT: short } = process.env;
    if (!runner || !commit || !short) throw new Error('--baseline: the baseline runner is built by scripts/bench.mjs (npm run bench)');
    baseline = { ref: baselineRef, commit, tool: `ours@${short}`, runnerJs: runner };
  }
  return {
    rttMs: Number(value('rtt') ?? (smoke ? 0 : 50)),
    runs,
    treeRuns: Number(value('tree-runs') ?? 1),
    quick,
    smoke,
    only: only ? new Set(only.split(',')) : undefined,
    outDir: path.resolve(value('out') ?? benchDir),
    parallel: Number(value('parallel') ?? 4),
    searchParallel: Number(value('parallel') ?? searchCliConnections),
    baseline,
    tools: value('tools')?.split(','),
  };
}

function sizesFor(o: Options): Sizes {
  // The tree's files carry text for Find in Files: 2,000 × 10 KB ≈ 20 MB in the full run.
  if (o.smoke) return { listEntries: 20, treeDirs: 6, treeFiles: 30, treeFileBytes: 500, indexEntries: 2_000, syncDirs: 6, syncFiles: 30, bigBytes: 2 << 20, mediumBytes: 512 << 10 };
  if (o.quick) return { listEntries: 1000, treeDirs: 40, treeFiles: 400, treeFileBytes: 10_000, indexEntries: 100_000, syncDirs: 20, syncFiles: 200, bigBytes: 20 << 20, mediumBytes: 4 << 20 };
  return { listEntries: 1000, treeDirs: 200, treeFiles: 2000, treeFileBytes: 10_000, indexEntries: 100_000, syncDirs: 200, syncFiles: 2000, bigBytes: 100 << 20, mediumBytes: 10 << 20 };
}

const log = (msg: string): void => { process.stderr.write(`${msg}\n`); };

let link: Link | undefined;
let workDir: string | undefined;

function cleanUp(): void {
  killAllChildren();
  link?.close();
  link = undefined;
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
}

async function main(): Promise<void> {
  if (process.argv.includes('--report-only')) {
    // Rewrites results.md from results.json, e.g. after editing findings.md.
    const dir = path.resolve(process.argv[process.argv.indexOf('--report-only') + 1] ?? benchDir);
    writeReport(JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as BenchResults, dir);
    return;
  }
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (network namespaces, FTP servers)');
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      log(`\n${signal}: cleaning up`);
      cleanUp();
      void stopAllServers().finally(() => process.exit(130));
    });
  }
  const sizes = sizesFor(o);
  const want = (s: Scenario): boolean => !o.only || o.only.has(s);
  const started = Date.now();
  workDir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'ftpwb-'));
  const localSmall = path.join(workDir, 'small.bin');
  fs.writeFileSync(localSmall, Buffer.alloc(10 * 1024, 0x62));
  const syncLocal = path.join(workDir, 'sync-local');
  if (want('sync') && !o.smoke) writeTree(syncLocal, sizes.syncDirs, sizes.syncFiles);

  const results: BenchResults = {
    date: new Date().toISOString(),
    options: { rttMs: o.rttMs, runs: o.runs, treeRuns: o.treeRuns, quick: o.quick, smoke: o.smoke, parallel: o.parallel, searchParallel: o.searchParallel, only: o.only ? [...o.only] : undefined },
    baseline: o.baseline ? { ref: o.baseline.ref, commit: o.baseline.commit, tool: o.baseline.tool } : undefined,
    sizes,
    versions: versions(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10),
    rows: [],
  };
  try {
    if (want('tls-resume') || LATENCY_SCENARIOS.some((s) => want(s) && SECURITIES.some((security) => runsScenario(o, s, security)))) {
      log(`latency link: RTT ${o.rttMs} ms between two namespaces…`);
      link = await openLink(o.rttMs, benchDir);
      results.measuredRttMs = link.measuredRttMs;
      log(`ping across the link: ${link.measuredRttMs.toFixed(2)} ms average`);
      for (const security of SECURITIES) {
        if (!LATENCY_SCENARIOS.some((s) => want(s) && runsScenario(o, s, security))) continue;
        const server = await startServer('vsftpd', { listenAddress: SERVER_ADDRESS, netns: link.serverNs, tls: security === 'tls' ? 'explicit' : undefined });
        prepare(server, () => writeLatencyFixtures(server.root, sizes));
        for (const mode of modesFor(o, security)) {
          for (const scenario of LATENCY_SCENARIOS.filter(want)) {
            if (!runsScenario(o, scenario, security, mode)) continue;
            if (scenario === 'connect') cheapPassword(server);
            await runAll(results, o, 'latency', scenario, security, mode, server, {
              ns: link.clientNs, rttMs: link.measuredRttMs, localSmall, localSource: localSmall, localTarget: path.join(workDir, 'target.bin'), syncLocal,
            });
          }
        }
        await server.stop();
      }
      if (want('tls-resume')) await runTlsResume(results, o, link);
      link.close();
      link = undefined;
    }
    if (LOOPBACK_SCENARIOS.some(want)) {
      log('loopback: big files…');
      const localSource = path.join(workDir, 'source-big.bin');
      const localMedium = path.join(workDir, 'source-medium.bin');
      writeLarge(localSource, sizes.bigBytes);
      writeLarge(localMedium, sizes.mediumBytes);
      for (const security of SECURITIES) {
        const server = await startServer('vsftpd', { tls: security === 'tls' ? 'explicit' : undefined });
        prepare(server, () => writeBigFixtures(server.root, sizes));
        for (const mode of modesFor(o, security)) {
          for (const scenario of LOOPBACK_SCENARIOS.filter(want)) {
            const ctx = { rttMs: 0, localSmall, localSource, localTarget: path.join(workDir, 'target.bin') };
            await runAll(results, o, 'loopback', scenario, security, mode, server, ctx);
            // The same transfer with a tenth of the bytes: does our memory grow with the file?
            if (!o.smoke) await runOne(results, o, 'loopback', scenario, security, mode, server, 'ours', { ...ctx, localSource: localMedium }, { big: MEDIUM_PATH }, sizes.mediumBytes);
          }
        }
        await server.stop();
      }
    }
  } finally {
    cleanUp();
    await stopAllServers();
  }
  results.elapsedS = Math.round((Date.now() - started) / 1000);
  results.loadAverageAtEnd = os.loadavg().map((x) => Math.round(x * 10) / 10);
  writeReport(results, o.outDir);
  log(`done in ${results.elapsedS} s: ${path.join(o.outDir, 'results.md')}`);
}

/**
 * tls-resume: on each server in the link's namespace, FTPS, one added control connection with and
 * without resumption, TLS 1.2 and 1.3 (ours only: the question is what resumption saves us and the
 * server, not how we compare).
 */
async function runTlsResume(results: BenchResults, o: Options, at: Link): Promise<void> {
  for (const kind of RESUME_SERVERS) {
    const server = await startServer(kind, { listenAddress: SERVER_ADDRESS, netns: at.serverNs, tls: 'explicit' });
    prepare(server, () => undefined);
    const ctx: RunContext = { ns: at.clientNs, rttMs: at.measuredRttMs, localSmall: '', localSource: '', localTarget: '' };
    for (const version of TLS_VERSIONS) {
      for (const resumption of [true, false]) {
        const row = await measure(results, o, 'latency', 'tls-resume', 'tls', 'passive', server, 'ours', ctx, o.runs, {}, undefined, undefined, { version, resumption, serverPid: server.pid });
        if (!row) continue;
        row.variant = { server: kind, tlsVersion: version, resumption };
        record(results, row);
      }
    }
    await server.stop();
  }
}

/**
 * The smoke run leaves out sync (minutes at real sizes; the sync itself has integration tests).
 * The search scenarios run on plain FTP in passive mode only: issue #16's targets are for one
 * setup, and the walk and the reads are the same round trips the other scenarios compare by mode.
 */
function runsScenario(o: Options, scenario: Scenario, security: Security, mode?: Mode): boolean {
  if (scenario === 'sync') return !o.smoke && SYNC_SECURITIES.includes(security);
  // Its pauses outlast the listing cache (5.5 s a run): editor-save checks the same path quicker.
  if (scenario === 'editor-save-later') return !o.smoke;
  if (SEARCH_SCENARIOS.includes(scenario)) return security === 'plain' && (mode === undefined || mode === 'passive');
  return true;
}

/** The smoke run leaves out FTPS in active mode (the slowest variant) to stay short. */
function modesFor(o: Options, security: Security): Mode[] {
  return o.smoke && security === 'tls' ? ['passive'] : MODES;
}

function prepare(server: RunningServer, write: () => void): void {
  write();
  server.giveToUser();
  cheapPassword(server);
  // Same raised priority as the clients; its per-session processes inherit it.
  execFileSync('renice', ['-n', '-10', '-p', String(server.pid)], { stdio: 'ignore' });
}

/**
 * The test user's password is hashed with yescrypt (Debian's default), which costs vsftpd 0.3–1 s
 * of CPU per login on this machine, more than all the round trips of a login together. The same
 * password hashed with SHA-512 (5,000 rounds) takes milliseconds, so connect times show the
 * protocol rather than the hash. Re-applied per server, as other test runs may set it back.
 */
function cheapPassword(server: RunningServer): void {
  execFileSync('chpasswd', ['-c', 'SHA512'], { input: `${server.user}:${server.password}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
}

interface RunContext {
  ns?: string;
  rttMs: number;
  localSmall: string;
  localSource: string;
  localTarget: string;
  /** The local tree the sync scenario uploads. */
  syncLocal?: string;
}

async function runAll(results: BenchResults, o: Options, group: Row['group'], scenario: Scenario, security: Security, mode: Mode, server: RunningServer, ctx: RunContext): Promise<void> {
  // The baseline runs wherever ours does, right after it, by the same rules.
  const tools = (['ours', ...(o.baseline ? [o.baseline.tool] : []), 'basic-ftp', 'curl', 'lftp'] as Tool[]).filter((tool) => {
    if (tool === 'basic-ftp' && mode === 'active') return false; // it has no active mode
    if (scenario === 'sync' && (tool === 'basic-ftp' || tool === 'curl')) return false; // neither can upload a tree
    // References for search: lftp find (Go to File), lftp mirror + grep -rn (Find in Files); memory is ours alone.
    if (SEARCH_SCENARIOS.includes(scenario)) return tool === 'ours' || tool === o.baseline?.tool || (tool === 'lftp' && scenario !== 'index-memory');
    // VS Code's requests through RemoteFs: no other client has them (a baseline needs a runner that knows them).
    // (A baseline from before editor-open-window has no runner for it.)
    if (scenario === 'editor-open-window') return tool === 'ours';
    if (EDITOR_SCENARIOS.includes(scenario)) return tool === 'ours' || tool.startsWith('ours@');
    // Whole processes: our command line (this checkout's dist/cli.js) against curl's.
    if (CLI_SCENARIOS.includes(scenario)) return tool === 'ours' || tool === 'curl';
    // The smoke run checks the harness, not curl's known active-FTPS hang (15 s per scenario).
    return !(o.smoke && tool === 'curl' && security === 'tls' && mode === 'active');
  }).filter((tool) => !o.tools || o.tools.includes(tool.startsWith('ours@') ? 'baseline' : tool));
  if (group !== 'loopback') {
    for (const tool of tools) await runOne(results, o, group, scenario, security, mode, server, tool, ctx);
    return;
  }
  // Big files take a fraction of a second each, and the machine's speed swings by ±15 % over a
  // minute (two cores shared with the server and whatever else runs): one run of each tool in
  // turn lets those swings hit every tool alike, and the report compares them run by run. Ours and
  // basic-ftp get a process per run that first moves the file twice unmeasured: the first transfers
  // of a Node process compile its code and grow its heap, and an extension host is long warm.
  // Each round starts with the next tool, so that every tool takes every place in turn: whatever
  // a place brings (the previous upload's file still being written back, which process ran last)
  // falls on each alike.
  const rows = new Map<Tool, Row>();
  for (let i = 0; i < o.runs; i++) {
    for (const tool of tools.map((_, k) => tools[(k + i) % tools.length])) {
      const soFar = rows.get(tool);
      if (soFar?.error) continue;
      const row = await measure(results, o, group, scenario, security, mode, server, tool, ctx, 1, {}, undefined, 2);
      if (!row) continue;
      if (!soFar) rows.set(tool, row);
      else {
        soFar.times.push(...row.times);
        soFar.maxRssKb = Math.max(soFar.maxRssKb, row.maxRssKb);
        soFar.error = row.error;
      }
    }
  }
  for (const row of rows.values()) record(results, row);
}

async function runOne(
  results: BenchResults, o: Options, group: Row['group'], scenario: Scenario, security: Security, mode: Mode,
  server: RunningServer, tool: Tool, ctx: RunContext, pathOverride: Partial<typeof PATHS> = {}, sizeBytes?: number,
): Promise<void> {
  // lftp's references for search take minutes per run (find: ~70 s, mirror: more): as many runs as the tree walk's.
  const runs = scenario === 'tree' || scenario === 'sync' || (tool === 'lftp' && SEARCH_SCENARIOS.includes(scenario)) ? o.treeRuns : o.runs;
  const row = await measure(results, o, group, scenario, security, mode, server, tool, ctx, runs, pathOverride, sizeBytes);
  if (row) record(results, row);
}

function record(results: BenchResults, row: Row): void {
  results.rows.push(row);
  const med = median(row.times);
  const rtt = row.group === 'latency' ? results.measuredRttMs ?? 0 : 0;
  const size = row.sizeBytes;
  const extra = [
    ...Object.entries(row.phases ?? {}).map(([k, v]) => `${k} ${median(v)?.toFixed(1)} ms`),
    ...(row.heapBytes ? [`heap +${((median(row.heapBytes) ?? 0) / 1e6).toFixed(1)} MB`] : []),
    ...(row.matches !== undefined ? [`${row.matches} matching lines`] : []),
  ].join(', ');
  const detail = med === undefined ? 'no result' : `${med.toFixed(1)} ms${rtt >= 1 ? ` (${(med / rtt).toFixed(1)} RTT)` : ''}${size && med ? `, ${(size / med / 1000).toFixed(0)} MB/s` : ''}${row.scenario === 'sync' && row.counts ? `, server has ${row.counts.files} files in ${row.counts.dirs} folders` : ''}${extra ? ` (${extra})` : ''}`;
  const variant = row.variant ? ` ${row.variant.server} ${row.variant.tlsVersion} ${row.variant.resumption ? 'resumption' : 'full handshake'} (${row.resumedRuns ?? 0}/${row.times.length} resumed)` : '';
  const sized = row.group === 'loopback' && size !== results.sizes.bigBytes && size ? ` ${(size / 1048576).toFixed(1)} MiB` : '';
  log(`  ${row.group} ${row.security} ${row.mode} ${row.scenario}${variant}${sized} ${row.tool}: ${detail}, RSS ${(row.maxRssKb / 1024).toFixed(0)} MiB${row.error ? ` — ${row.error}` : ''}`);
}

/** `runs` runs of one tool in one scenario, as a row (not yet recorded). */
async function measure(
  results: BenchResults, o: Options, group: Row['group'], scenario: Scenario, security: Security, mode: Mode,
  server: RunningServer, tool: Tool, ctx: RunContext, runs: number, pathOverride: Partial<typeof PATHS> = {}, sizeBytes?: number, warmUps?: number,
  tlsResume?: TlsResumeJob,
): Promise<Row | undefined> {
  const ref: ServerRef = {
    host: server.host, port: server.port, user: server.user, password: server.password, tls: security === 'tls', fingerprint: server.certFingerprint256,
  };
  const paths = { ...PATHS, ...pathOverride };
  const size = sizeBytes ?? (group === 'loopback' ? results.sizes.bigBytes : undefined);
  const syncTargets = scenario === 'sync' ? emptySyncFolders(server, paths.syncDir, `${tool.replace(/\W/g, '-')}-${security}-${mode}`, runs) : [];
  let result: JobResult | undefined;
  const baseline = o.baseline?.tool === tool ? o.baseline : undefined;
  const parallel = SEARCH_SCENARIOS.includes(scenario) ? o.searchParallel : o.parallel;
  const toolContext = (): ToolContext => ({
    server: ref, mode, runs, paths, ns: ctx.ns, rttMs: ctx.rttMs, benchDir, workDir: workDir as string, localSmall: ctx.localSmall, localSource: ctx.localSource, localTarget: ctx.localTarget,
    parallel, syncLocal: ctx.syncLocal, syncTargets, needle: SEARCH_NEEDLE,
  });
  if (CLI_SCENARIOS.includes(scenario) && tool === 'ours') {
    result = await ourCli(scenario, toolContext(), path.join(benchDir, '..', 'dist', 'cli.js'));
  } else if (tool === 'ours' || tool === 'basic-ftp' || baseline) {
    const job: Job = {
      // The baseline's runner is ours of another commit: to it, the job is one for 'ours'.
      tool: tool === 'basic-ftp' ? tool : 'ours', scenario, server: ref, mode, runs, warmUps, paths, parallel,
      localSource: ctx.localSource, localTarget: ctx.localTarget, trace: group === 'latency' && scenario !== 'tree' && scenario !== 'sync',
      sync: scenario === 'sync' ? { localRoot: ctx.syncLocal as string, remoteRoots: syncTargets, stateDir: path.join(workDir as string, 'sync-state') } : undefined,
      search: SEARCH_SCENARIOS.includes(scenario) ? { needle: SEARCH_NEEDLE, dir: path.join(workDir as string, 'search'), indexEntries: results.sizes.indexEntries } : undefined,
      tlsResume,
    };
    result = await runJob(job, ctx.ns, scenario, baseline?.runnerJs ?? runnerJs, tool);
  } else {
    const runner: ToolRunner = tool === 'curl' ? curl : lftp;
    result = await runner(scenario, toolContext());
  }
  if (!result) return undefined;
  if (scenario === 'sync') checkSynced(result, server, syncTargets, results.sizes);
  const round = (ts: number[]) => ts.map((t) => Math.round(t * 10) / 10);
  const phases = result.phases ? Object.fromEntries(Object.entries(result.phases).map(([k, v]) => [k, round(v)])) : undefined;
  return {
    group, scenario, security, mode, tool, times: round(result.times), maxRssKb: result.maxRssKb, sizeBytes: size, error: result.error, trace: result.trace, loginMs: result.loginMs, counts: result.counts,
    phases, heapBytes: result.heapBytes, matches: result.matches, resumedRuns: result.resumedRuns, openedTogether: result.openedTogether,
  };
}

/** One new, empty server folder per run (on the server's disk, owned by the FTP user). */
function emptySyncFolders(server: RunningServer, syncDir: string, prefix: string, runs: number): string[] {
  const targets = Array.from({ length: runs }, (_, i) => `${syncDir}/${prefix}-${i + 1}`);
  for (const t of targets) {
    const dir = path.join(server.root, t);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
  }
  server.giveToUser(syncDir.replace(/^\//, ''));
  return targets;
}

/**
 * A sync counts only if the server really has the whole tree: every run's folder is counted on
 * the server's disk (not through FTP), then removed so the next client starts from the same state.
 */
function checkSynced(result: JobResult, server: RunningServer, targets: string[], sizes: Sizes): void {
  for (const t of targets.slice(0, result.times.length)) {
    const dir = path.join(server.root, t);
    const counts = countFiles(dir);
    result.counts = counts;
    if (counts.files !== sizes.syncFiles || counts.dirs !== sizes.syncDirs) {
      result.error ??= `the server has ${counts.files} files in ${counts.dirs} folders under ${t}, expected ${sizes.syncFiles} in ${sizes.syncDirs}`;
    }
  }
  for (const t of targets) fs.rmSync(path.join(server.root, t), { recursive: true, force: true });
}

async function runJob(job: Job, ns: string | undefined, scenario: Scenario, runner: string, tool: Tool): Promise<JobResult> {
  const file = path.join(workDir as string, 'job.json');
  fs.writeFileSync(file, JSON.stringify(job), { mode: 0o600 });
  const timeoutMs = scenario === 'tree' || scenario === 'sync' || SEARCH_SCENARIOS.includes(scenario) ? 900_000 * Math.max(1, job.runs) : 60_000 + 60_000 * job.runs;
  // TLS 1.2 only: Node's ceiling for the whole runner process (our options set only the floor).
  const env = job.tlsResume?.version === 'TLSv1.2' ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --tls-max-v1.2`.trim() } : undefined;
  const r = await runProcess(process.execPath, [runner, file], { ns, timeoutMs, env });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const result = JSON.parse(line) as JobResult;
    if (r.timedOut) result.error = `${tool} did not finish in time`;
    return result;
  } catch {
    return { times: [], maxRssKb: 0, error: `${tool} runner failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}): ${r.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 300)}` };
  }
}

export function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function versions(): Record<string, string> {
  const first = (cmd: string, args: string[]): string => {
    try { return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0].trim(); } catch { return 'missing'; }
  };
  let basicFtp = 'missing';
  try { basicFtp = JSON.parse(fs.readFileSync(path.join(benchDir, '..', 'node_modules', 'basic-ftp', 'package.json'), 'utf8')).version; } catch { /* missing */ }
  return {
    node: process.version,
    curl: first('curl', ['--version']).split(' ').slice(0, 2).join(' '),
    lftp: first('lftp', ['--version']).replace(/^LFTP \| Version ([\d.]+).*/, 'lftp $1'),
    'basic-ftp': basicFtp,
    vsftpd: first('dpkg-query', ['-W', '-f', '${Version}', 'vsftpd']),
    kernel: os.release(),
  };
}

main().catch((e) => {
  log(`bench failed: ${(e as Error).stack ?? e}`);
  cleanUp();
  void stopAllServers().finally(() => process.exit(1));
});
