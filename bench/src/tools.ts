/**
 * curl and lftp doing the same work as our client, measured as close to the operation as each
 * tool allows:
 * - curl: its own per-transfer timers (`-w`), several URLs in one invocation so that all but the
 *   first run on a warm connection; for connect + login, its `--trace-time` log from "Trying" to
 *   the reply to PWD (the last step of curl's login); for big files, total minus pre-transfer time.
 * - lftp: `!date` shell escapes between the commands of one lftp script (adds ~1–2 ms each).
 * Both run under bench/tools/rusage.py for their peak RSS.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { python } from './link';
import { runProcess, type ProcResult } from './proc';
import { EDITOR_PAUSE_MS, type JobResult, type Mode, type RemotePaths, type Scenario, type ServerRef } from './job';

export interface ToolContext {
  server: ServerRef;
  mode: Mode;
  runs: number;
  paths: RemotePaths;
  /** Client namespace, or undefined on loopback. */
  ns?: string;
  rttMs: number;
  benchDir: string;
  workDir: string;
  localSmall: string;
  localSource: string;
  localTarget: string;
  /** Connections a tool may open at once (lftp mirror --parallel). */
  parallel?: number;
  /** Sync: the local tree and one empty server folder per run. */
  syncLocal?: string;
  syncTargets?: string[];
  /** Find in Files: the literal text looked for. */
  needle?: string;
}

/** undefined: the tool cannot do this scenario. */
export type ToolRunner = (scenario: Scenario, ctx: ToolContext) => Promise<JobResult> | undefined;

/**
 * Generous for work that progresses, short where a tool is known to hang: curl 7.88 never finishes
 * an active-mode FTPS transfer against vsftpd (design notes §4), and waiting minutes for it would
 * only make the run longer.
 */
function timeoutFor(command: string, scenario: Scenario, ctx: ToolContext): number {
  if (command === 'curl' && ctx.server.tls && ctx.mode === 'active') return 15_000;
  if (scenario === 'tree' || scenario === 'sync' || scenario === 'goto-file' || scenario === 'find-in-files') return 900_000 * Math.max(1, ctx.runs);
  if (scenario === 'download' || scenario === 'upload') return 30_000 + 30_000 * ctx.runs;
  return 15_000 + 5_000 * ctx.runs;
}

async function wrapped(command: string, args: string[], ctx: ToolContext, scenario: Scenario): Promise<{ r: ProcResult; maxRssKb: number }> {
  const r = await runProcess(python(), [path.join(ctx.benchDir, 'tools', 'rusage.py'), command, ...args], { ns: ctx.ns, timeoutMs: timeoutFor(command, scenario, ctx) });
  const m = /RUSAGE (\{.*\})\s*$/.exec(r.stderr);
  return { r, maxRssKb: m ? JSON.parse(m[1]).maxRssKb : 0 };
}

function failure(r: ProcResult, tool: string): string | undefined {
  if (r.timedOut) return `${tool} hung (killed after the time limit)`;
  if (r.code === 0) return undefined;
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('RUSAGE') && !/^\d\d:\d\d:\d\d\.\d+ [*<>{}]/.test(l));
  return `${tool} exit ${r.code}: ${lines.slice(-2).join(' ').slice(0, 200)}`;
}

// ------------------------------------------------------------------ curl

function curlUrl(ctx: ToolContext, p: string): string {
  const s = ctx.server;
  return `ftp://${encodeURIComponent(s.user)}:${encodeURIComponent(s.password)}@${s.host}:${s.port}${p}`;
}

function curlBase(ctx: ToolContext): string[] {
  const args = ['-sS', '--ftp-method', 'nocwd', '--connect-timeout', '20'];
  if (ctx.server.tls) args.push('--ssl-reqd', '-k');
  if (ctx.mode === 'active') args.push('-P', '-');
  return args;
}

function clock(line: string): number | undefined {
  const m = /^(\d\d):(\d\d):(\d\d\.\d+) /.exec(line);
  return m ? (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000 : undefined;
}

export const curl: ToolRunner = (scenario, ctx) => {
  const p = ctx.paths;
  switch (scenario) {
    case 'connect': return curlConnect(ctx);
    case 'list': return curlWarm(ctx, scenario, () => ['-o', '/dev/null', curlUrl(ctx, `${p.listDir}/`)]);
    case 'stat': return curlWarm(ctx, scenario, () => ['-I', '-o', '/dev/null', curlUrl(ctx, p.small)]);
    case 'read': return curlWarm(ctx, scenario, () => ['-o', '/dev/null', curlUrl(ctx, p.small)]);
    case 'save': return curlWarm(ctx, scenario, (i) => ['-T', ctx.localSmall, curlUrl(ctx, `${p.upDir}/curl-save-${i + 2}.bin`)]);
    // --rate spaces the starts of serial transfers: each waits ≥ EDITOR_PAUSE_MS after the last ended.
    case 'read-idle': return curlWarm(ctx, scenario, () => ['-o', '/dev/null', curlUrl(ctx, p.small)], curlPause(ctx));
    case 'save-idle': return curlWarm(ctx, scenario, (i) => ['-T', ctx.localSmall, curlUrl(ctx, `${p.upDir}/curl-save-idle-${i + 2}.bin`)], curlPause(ctx));
    case 'download': return curlBig(ctx, scenario, ['-o', ctx.localTarget, curlUrl(ctx, p.big)]);
    case 'upload': return curlBig(ctx, scenario, ['-T', ctx.localSource, curlUrl(ctx, `${p.upDir}/big-upload.bin`)]);
    case 'tree': return undefined; // curl cannot walk a tree
    case 'sync': return undefined; // nor upload one
    case 'goto-file': case 'find-in-files': case 'index-memory': return undefined; // nor search one
    case 'editor-open': case 'editor-save': case 'editor-save-later': return undefined;
    case 'cli-get': return processTimes(ctx, scenario, 'curl', [...curlBase(ctx), '-o', ctx.localTarget, curlUrl(ctx, p.small)]);
    case 'cli-ls': return processTimes(ctx, scenario, 'curl', [...curlBase(ctx), '-o', '/dev/null', curlUrl(ctx, `${p.listDir}/`)]);
  }
};

/**
 * Our command line doing a cold one-shot `get` or `ls` (dist/cli.js, as `npx ftp-workspace` runs
 * it; build it first): the password from FTP_PASSWORD, as a script would give it.
 */
export function ourCli(scenario: Scenario, ctx: ToolContext, cliJs: string): Promise<JobResult> {
  const s = ctx.server;
  const url = (p: string) => `${s.tls ? 'ftps' : 'ftp'}://${encodeURIComponent(s.user)}@${s.host}:${s.port}${p}`;
  const args = [cliJs, ...(scenario === 'cli-get' ? ['get', url(ctx.paths.small), ctx.localTarget] : ['ls', url(`${ctx.paths.listDir}/`)]), '--mode', ctx.mode, ...(s.tls ? ['--insecure'] : [])];
  return processTimes(ctx, scenario, process.execPath, args, { ...process.env, FTP_PASSWORD: s.password });
}

/** Wall time of whole processes, one unmeasured first (the page cache), then `ctx.runs` measured. */
async function processTimes(ctx: ToolContext, scenario: Scenario, command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<JobResult> {
  const times: number[] = [];
  for (let i = -1; i < ctx.runs; i++) {
    const t0 = performance.now();
    const r = await runProcess(command, args, { ns: ctx.ns, timeoutMs: timeoutFor(command, scenario, ctx), env });
    const ms = performance.now() - t0;
    if (r.code !== 0 || r.timedOut) return { times, maxRssKb: 0, error: failure(r, path.basename(command)) };
    if (i >= 0) times.push(ms);
  }
  return { times, maxRssKb: 0 };
}

async function curlConnect(ctx: ToolContext): Promise<JobResult> {
  const times: number[] = [];
  let maxRssKb = 0;
  for (let i = 0; i < ctx.runs; i++) {
    const { r, maxRssKb: rss } = await wrapped('curl', [...curlBase(ctx), '-v', '--trace-time', '-I', '-o', '/dev/null', curlUrl(ctx, ctx.paths.small)], ctx, 'connect');
    maxRssKb = Math.max(maxRssKb, rss);
    const err = failure(r, 'curl');
    if (err) return { times, maxRssKb, error: err };
    const lines = r.stderr.split('\n');
    const start = lines.find((l) => / \*\s+Trying /.test(l));
    const ready = lines.find((l) => / < 257 /.test(l));
    if (!start || !ready) return { times, maxRssKb, error: 'curl: no "Trying" or "257" line in its trace' };
    times.push((clock(ready) as number) - (clock(start) as number));
  }
  return { times, maxRssKb };
}

/** curl's --rate: at most one transfer start per this many ms, enough for a pause of EDITOR_PAUSE_MS after each. */
function curlPause(ctx: ToolContext): string[] {
  // A warm read or save takes at most ~12 RTT for curl (FTPS, see results.md).
  const perMinute = Math.max(1, Math.floor(60_000 / (EDITOR_PAUSE_MS + 12 * ctx.rttMs)));
  return ['--rate', `${perMinute}/m`];
}

/** runs+1 transfers on one connection; the first (connect + login) is not counted. */
async function curlWarm(ctx: ToolContext, scenario: Scenario, transfer: (i: number) => string[], global: string[] = []): Promise<JobResult> {
  const args = [...global, ...curlBase(ctx), '-w', 'TIME %{time_total}\\n'];
  for (let i = -1; i < ctx.runs; i++) {
    if (i >= 0) args.push('--next', ...curlBase(ctx), '-w', 'TIME %{time_total}\\n');
    args.push(...transfer(i));
  }
  const { r, maxRssKb } = await wrapped('curl', args, ctx, scenario);
  const all = [...r.stdout.matchAll(/^TIME ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000);
  const times = all.slice(1);
  const err = failure(r, 'curl') ?? (times.length < ctx.runs ? `curl: only ${times.length} of ${ctx.runs} transfers reported` : undefined);
  return { times, maxRssKb, error: err };
}

async function curlBig(ctx: ToolContext, scenario: Scenario, transfer: string[]): Promise<JobResult> {
  const times: number[] = [];
  let maxRssKb = 0;
  let bytes = 0;
  for (let i = 0; i < ctx.runs; i++) {
    fs.rmSync(ctx.localTarget, { force: true });
    const { r, maxRssKb: rss } = await wrapped('curl', [...curlBase(ctx), '-w', 'TIME %{time_total} %{time_pretransfer} %{size_download} %{size_upload}\\n', ...transfer], ctx, scenario);
    maxRssKb = Math.max(maxRssKb, rss);
    const err = failure(r, 'curl');
    if (err) return { times, maxRssKb, error: err };
    const m = /TIME ([\d.]+) ([\d.]+) (\d+) (\d+)/.exec(r.stdout);
    if (!m) return { times, maxRssKb, error: 'curl: no timing line' };
    times.push((Number(m[1]) - Number(m[2])) * 1000);
    bytes = Math.max(Number(m[3]), Number(m[4]));
  }
  return { times, maxRssKb, bytes };
}

// ------------------------------------------------------------------ lftp

function lftpHeader(ctx: ToolContext): string[] {
  const s = ctx.server;
  const lines = [
    'set cmd:fail-exit yes',
    'set cache:enable no',
    'set net:max-retries 1',
    'set net:timeout 30',
    'set xfer:clobber on',
    `set ftp:passive-mode ${ctx.mode === 'passive' ? 'on' : 'off'}`,
  ];
  if (s.tls) lines.push('set ftp:ssl-force true', 'set ftp:ssl-protect-data true', 'set ftp:ssl-protect-list true', 'set ssl:verify-certificate no');
  else lines.push('set ftp:ssl-allow no');
  lines.push(`open -u ${s.user},${s.password} ftp://${s.host}:${s.port}`);
  return lines;
}

const STAMP = '!date +%s%N';

function lftpPause(): string {
  return `!sleep ${EDITOR_PAUSE_MS / 1000}`;
}

export const lftp: ToolRunner = (scenario, ctx) => {
  const p = ctx.paths;
  switch (scenario) {
    // NOOP forces the (lazy) login; its own round trip is subtracted below.
    case 'connect': return lftpRun(ctx, scenario, () => [STAMP, 'quote NOOP', STAMP, 'close'], { perRunStamps: true, warm: false });
    case 'list': return lftpRun(ctx, scenario, () => [`ls ${p.listDir} > /dev/null`]);
    case 'stat': return lftpRun(ctx, scenario, () => [`cls -l ${p.small} > /dev/null`]);
    case 'read': return lftpRun(ctx, scenario, () => [`cat ${p.small} > /dev/null`]);
    case 'save': return lftpRun(ctx, scenario, (i) => [`put ${ctx.localSmall} -o ${p.upDir}/lftp-save-${i + 2}.bin`]);
    case 'read-idle': return lftpRun(ctx, scenario, () => [`cat ${p.small} > /dev/null`], { before: [lftpPause()] });
    case 'save-idle': return lftpRun(ctx, scenario, (i) => [`put ${ctx.localSmall} -o ${p.upDir}/lftp-save-idle-${i + 2}.bin`], { before: [lftpPause()] });
    case 'tree': return lftpRun(ctx, scenario, () => [`find ${p.tree} > /dev/null`, 'close'], { warmUp: false, warm: false });
    // Cold like ours: lftp opens its connections inside the timed part and closes them there.
    case 'sync': return lftpRun(ctx, scenario, (i) => [`mirror -R --parallel=${ctx.parallel ?? 4} ${ctx.syncLocal} ${(ctx.syncTargets as string[])[i]}`, 'close -a'], { warmUp: false, warm: false });
    // Go to File's reference: all the names of the tree, as the tree scenario (one connection).
    case 'goto-file': return lftpRun(ctx, scenario, () => [`find ${p.tree} > /dev/null`, 'close'], { warmUp: false, warm: false });
    case 'find-in-files': return lftpMirrorGrep(ctx);
    case 'index-memory': return undefined;
    case 'download': return lftpRun(ctx, scenario, () => [`get ${p.big} -o ${ctx.localTarget}`], { before: [`!rm -f ${ctx.localTarget}`], warmUp: false });
    case 'upload': return lftpRun(ctx, scenario, () => [`put ${ctx.localSource} -o ${p.upDir}/big-upload.bin`], { warmUp: false });
    case 'editor-open': case 'editor-save': case 'editor-save-later': case 'cli-get': case 'cli-ls': return undefined;
  }
};

/**
 * Find in Files the way one would without our search: `mirror --parallel=N` of the tree into an
 * empty local folder (connects included, as ours), then `grep -rn -F` over the copy. Both timed,
 * in one lftp script; the run's time is their sum, and grep's matching lines are counted.
 */
async function lftpMirrorGrep(ctx: ToolContext): Promise<JobResult> {
  const local = (i: number) => path.join(ctx.workDir, `lftp-mirror-${i}`);
  const needle = ctx.needle as string;
  let matches: number | undefined;
  const r = await lftpRun(ctx, 'find-in-files', (i) => [
    `!rm -rf ${local(i)}`,
    STAMP, `mirror --parallel=${ctx.parallel ?? 4} ${ctx.paths.tree} ${local(i)}`, 'close -a', STAMP,
    STAMP, `!grep -rn -F ${needle} ${local(i)} | wc -l | sed 's/^/MATCHES /'`, STAMP,
  ], { warmUp: false, warm: false, perRunStamps: true, stdout: (out) => { matches = Number(/^MATCHES (\d+)$/m.exec(out)?.[1]); } });
  for (let i = 0; i < ctx.runs; i++) fs.rmSync(local(i), { recursive: true, force: true });
  const pairs = r.times;
  const mirror = pairs.filter((_, k) => k % 2 === 0);
  const grep = pairs.filter((_, k) => k % 2 === 1);
  const times = mirror.slice(0, grep.length).map((m, k) => m + grep[k]);
  const error = r.error ?? (times.length < ctx.runs ? `lftp: only ${times.length} of ${ctx.runs} runs finished` : undefined);
  return { times, maxRssKb: r.maxRssKb, phases: { mirror, grep }, matches, error };
}

interface LftpPlan {
  /** Connect before the first timed command (default true). */
  warm?: boolean;
  /** One unmeasured run first (default true). */
  warmUp?: boolean;
  /** Each run's commands carry their own start and end stamps. */
  perRunStamps?: boolean;
  /** Unmeasured commands before each run. */
  before?: string[];
  /** Told the script's whole stdout. */
  stdout?: (out: string) => void;
}

async function lftpRun(ctx: ToolContext, scenario: Scenario, commands: (i: number) => string[], plan: LftpPlan = {}): Promise<JobResult> {
  const warmUp = plan.warmUp ?? true;
  const lines = lftpHeader(ctx);
  if (plan.warm ?? true) lines.push('quote NOOP');
  const first = warmUp ? -1 : 0;
  for (let i = first; i < ctx.runs; i++) {
    lines.push(...(plan.before ?? []));
    if (plan.perRunStamps) lines.push(...commands(i));
    else lines.push(STAMP, ...commands(i), STAMP);
  }
  const script = path.join(ctx.workDir, `lftp-${scenario}.lftp`);
  fs.writeFileSync(script, lines.join('\n') + '\nexit\n', { mode: 0o600 });
  const { r, maxRssKb } = await wrapped('lftp', ['-f', script], ctx, scenario);
  plan.stdout?.(r.stdout);
  const stamps = [...r.stdout.matchAll(/^(\d{18,20})$/gm)].map((m) => Number(BigInt(m[1]) / 1000n) / 1000);
  const times: number[] = [];
  for (let k = 0; k + 1 < stamps.length; k += 2) times.push(stamps[k + 1] - stamps[k]);
  const measured = warmUp ? times.slice(1) : times;
  // The NOOP that made lftp log in costs one round trip of its own.
  const result = scenario === 'connect' ? measured.map((t) => t - ctx.rttMs) : measured;
  const err = failure(r, 'lftp') ?? (result.length < ctx.runs ? `lftp: only ${result.length} of ${ctx.runs} runs finished` : undefined);
  return { times: result, maxRssKb, error: err };
}
