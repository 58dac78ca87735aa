/**
 * Child process that runs one scenario with our client or with basic-ftp, so that the peak RSS it
 * reports is that client's alone. Usage: node runner.js JOB_FILE; prints one JSON JobResult line.
 *
 * Times are taken around the operation itself, in the process: warm scenarios use one connection
 * opened (and exercised once) before the first measured run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Readable, Writable } from 'node:stream';
import * as basic from 'basic-ftp';
import { FtpClient } from '../../src/ftp/client';
import { forgetTlsGroups, forgetTlsSessions } from '../../src/ftp/control';
import { ConnectionPool } from '../../src/ftp/pool';
import type { ConnectOptions, FtpEvent } from '../../src/ftp/types';
import { executePlan } from '../../src/sync/executor';
import { IgnoreMatcher } from '../../src/sync/ignore';
import { planSync } from '../../src/sync/planner';
import { SyncState } from '../../src/sync/state';
import * as defaults from '../../src/ftp/defaults';
import type { FileEntry } from '../../src/ftp/types';
import { ContentCache } from '../../src/search/contentCache';
import { bestMatches } from '../../src/search/fuzzy';
import { RemoteIndex, type IndexSource } from '../../src/search/remoteIndex';
import { readersFor, searchText } from '../../src/search/textSearch';
import { walkLocal, walkRemote } from '../../src/sync/trees';
import { RemoteFs } from '../../src/remote/remoteFs';
import { OPEN_FILE, OPEN_FOLDER, ROOT_LISTING_CALL, SAVE, replay } from './editorPattern';
import { EDITOR_PAUSE_MS, operationOf, type Job, type JobResult, type SearchJob, type TlsResumeJob, type TraceLine } from './job';

const SMALL_UPLOAD = Buffer.alloc(10 * 1024, 0x61);

/** The operations a scenario needs, implemented by each client library. */
interface Session {
  list(path: string): Promise<number>;
  stat(path: string): Promise<void>;
  read(path: string): Promise<number>;
  save(path: string, bytes: Buffer): Promise<void>;
  download(path: string, file: string): Promise<number>;
  upload(file: string, path: string): Promise<number>;
  /** Deletes a remote file, whether or not it exists (untimed preparation). */
  remove(path: string): Promise<void>;
  /**
   * When the data of a transfer begun at `since` started to flow: the server's 150 (or 125) or
   * the first bytes moved, whichever came first (ours sends an upload's first bytes as soon as
   * the data connection is open, before the 150). A big transfer is timed from there, as curl's
   * total − pre-transfer is (curl sends nothing before the 150). Undefined where not known.
   */
  dataStartedAt?(since: number): number | undefined;
  close(): Promise<void>;
}

interface Library {
  connect(job: Job, trace?: Tracer, onLogin?: (ms: number) => void): Promise<Session>;
}

/** Collects protocol events of one run with their time since the operation began. */
class Tracer {
  lines: TraceLine[] = [];
  private start = performance.now();
  private on = false;
  begin(): void { this.lines = []; this.start = performance.now(); this.on = true; }
  end(): void { this.on = false; }
  add(line: string): void {
    if (this.on) this.lines.push({ t: Math.round((performance.now() - this.start) * 10) / 10, line });
  }
}

// ------------------------------------------------------------------ our client

function ourOptions(job: Job): ConnectOptions {
  const s = job.server;
  return {
    host: s.host, port: s.port, user: s.user, password: s.password, mode: job.mode,
    security: s.tls ? 'explicit' : 'none',
    tls: s.tls ? { trustedFingerprints: s.fingerprint ? [s.fingerprint] : [], rejectUnauthorized: !s.fingerprint } : undefined,
  };
}

function describe(e: FtpEvent): string {
  switch (e.type) {
    case 'command': return `> ${e.text}`;
    case 'reply': return `< ${e.text.split('\n')[0]}`;
    case 'connect': return `* connected${e.tls ? ' (TLS)' : ''}`;
    case 'tls': return `* TLS ${e.channel}${e.resumed ? ' resumed' : ''}`;
    case 'data-open': return `* data connection open (${e.mode})`;
    case 'data-fallback': return `* fallback ${e.from} → ${e.to}`;
    case 'transfer': return `* ${e.direction} done, ${e.bytes} bytes`;
    case 'close': return '* closed';
    case 'warning': return `! ${e.message}`;
    case 'in-advance': return `* data connection in advance ${e.state}`;
    case 'learned': return `* learned ${e.what}`;
  }
}

/** FtpClient.connect with an event listener attached before the first byte. */
function connectWithEvents(options: ConnectOptions, listener: (e: FtpEvent) => void): Promise<FtpClient> {
  return FtpClient.connect({ ...options, onEvent: listener });
}

const ours: Library = {
  async connect(job, tracer, onLogin) {
    // Events of the login itself are only seen through a listener passed in before connecting.
    let passAt = 0;
    let prelimAt = 0;
    let firstBytesAt = 0;
    const onProgress = (): void => { if (firstBytesAt === 0) firstBytesAt = performance.now(); };
    const listener = (e: FtpEvent): void => {
      tracer?.add(describe(e));
      if (e.type === 'command' && e.text.startsWith('PASS')) passAt = performance.now();
      if (e.type === 'reply' && e.code === 230 && passAt) onLogin?.(performance.now() - passAt);
      if (e.type === 'reply' && (e.code === 150 || e.code === 125)) prelimAt = performance.now();
    };
    const client = await connectWithEvents(ourOptions(job), listener);
    return {
      list: async (p) => (await client.list(p)).length,
      stat: async (p) => { await client.stat(p); },
      read: async (p) => (await client.readFile(p)).length,
      save: async (p, bytes) => { await client.upload(p, bytes); },
      // As the CLI's get and put do.
      download: (p, file) => { firstBytesAt = 0; return client.downloadToFile(p, file, { onProgress }); },
      upload: (file, p) => { firstBytesAt = 0; return client.uploadFromFile(p, file, { onProgress }); },
      remove: (p) => client.remove(p).catch(() => undefined),
      close: () => client.close(),
      dataStartedAt: (since) => {
        const marks = [prelimAt, firstBytesAt].filter((t) => t > since);
        return marks.length > 0 ? Math.min(...marks) : undefined;
      },
    };
  },
};

/** A pool and RemoteFs as the extension makes them for a server: default size and listing cache. */
function editorFs(job: Job, tracer?: Tracer): { pool: ConnectionPool<FtpClient>; remote: RemoteFs } {
  const pool = new ConnectionPool((mode) => FtpClient.connect({ ...ourOptions(job), mode, onEvent: (e) => tracer?.add(`${e.id} ${describe(e)}`) }), { mode: job.mode });
  return { pool, remote: new RemoteFs(pool) };
}

/** The tree walk as Go to File and Find in Files make it: the search index's walk (src/search/remoteIndex.ts). */
async function ourTreeWalk(job: Job): Promise<{ dirs: number; files: number }> {
  // Nobody else uses this pool: the walk may have every connection (no reserve for an editor).
  const pool = new ConnectionPool((mode) => FtpClient.connect({ ...ourOptions(job), mode }), { maxConnections: job.parallel, mode: job.mode, backgroundReserve: 0 });
  const index = new RemoteIndex(new RemoteFs(pool, { cacheTtlMs: 0 }), job.paths.tree, { concurrency: job.parallel * 2 });
  try {
    await index.refresh();
    return { dirs: index.folderCount, files: index.fileCount };
  } finally {
    index.dispose();
    await pool.close();
  }
}

// ------------------------------------------------------------------ search (issue #16)

/** As `ftp-workspace find`/`grep` set them up (src/cliSearch.ts): a pool of their own, the index's walk 16 folders at once. */
const SEARCH_WALK_CONCURRENCY = 16;

function searchPool(job: Job): ConnectionPool<FtpClient> {
  // Nobody else uses this pool: the search may have every connection (job.parallel = the CLI's default, unless --parallel).
  const pool = new ConnectionPool((mode) => FtpClient.connect({ ...ourOptions(job), mode }), { maxConnections: job.parallel, mode: job.mode, backgroundReserve: 0 });
  // FTPW_BENCH_SEARCH_TRACE=FILE: every event of the search's connections with its time, to see where the round trips go.
  const traceFile = process.env.FTPW_BENCH_SEARCH_TRACE;
  if (traceFile) {
    const t0 = performance.now();
    pool.on('event', (e: FtpEvent) => fs.appendFileSync(traceFile, `${(performance.now() - t0).toFixed(1)} ${e.id} ${describe(e)}\n`));
  }
  return pool;
}

function add(result: JobResult, phase: string, ms: number): void {
  ((result.phases ??= {})[phase] ??= []).push(ms);
}

/** Empties `dir`: every run starts with no index on disk and no content cache. */
function freshDir(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Go to File, cold then after a window reload. Cold: a new pool and an empty index walk the tree;
 * `first` is when the walk hands over the first folder with files (Quick Open can show them), the
 * run's time when the index is whole. Then the index is saved as the extension saves it, and a new
 * index object (a reloaded window: no connection yet) reads it and answers a first query: `disk`.
 */
async function ourGoToFile(job: Job, search: SearchJob, result: JobResult): Promise<number> {
  const storePath = path.join(freshDir(search.dir), 'index.json');
  const pool = searchPool(job);
  const index = new RemoteIndex(new RemoteFs(pool), job.paths.tree, { storePath, concurrency: SEARCH_WALK_CONCURRENCY });
  let whole: number;
  try {
    const t0 = performance.now();
    let first: number | undefined;
    await index.refresh({ onFolder: (_rel, files) => { if (first === undefined && files.length > 0) first = performance.now() - t0; } });
    whole = performance.now() - t0;
    if (first === undefined) throw new Error('the walk handed over no files');
    add(result, 'first', first);
    result.counts = { dirs: index.folderCount, files: index.fileCount };
    await index.save();
  } finally {
    index.dispose();
    await pool.close();
  }
  const reloadPool = searchPool(job);
  const reloaded = new RemoteIndex(new RemoteFs(reloadPool), job.paths.tree, { storePath, concurrency: SEARCH_WALK_CONCURRENCY });
  try {
    const t0 = performance.now();
    if (!(await reloaded.load())) throw new Error('the saved index did not load');
    const top = bestMatches('file12', reloaded.files(), 50);
    add(result, 'disk', performance.now() - t0);
    if (top.length === 0 || reloaded.fileCount !== result.counts.files) throw new Error(`the reloaded index has ${reloaded.fileCount} files, the walk ${result.counts.files}`);
  } finally {
    reloaded.dispose();
    await reloadPool.close();
  }
  return whole;
}

/**
 * Find in Files as `ftp-workspace grep --cache-dir` runs it (src/cliSearch.ts): a fresh walk with
 * each folder's files read as it is listed, on a new pool with an empty content cache (cold:
 * the run's time; `first`: the first match handed over). Then the same search again on the same
 * pool, index and cache, as a second search in the same window: every file checked against a
 * fresh listing, answered from the cache (`again`).
 */
async function ourFindInFiles(job: Job, search: SearchJob, result: JobResult): Promise<number> {
  const dir = freshDir(search.dir);
  const pool = searchPool(job);
  const remote = new RemoteFs(pool);
  const index = new RemoteIndex(remote, job.paths.tree, { concurrency: SEARCH_WALK_CONCURRENCY });
  const cache = new ContentCache(path.join(dir, 'content'), defaults.searchCacheBytes);
  try {
    const searchOnce = async (): Promise<{ ms: number; first?: number; lines: number; summary: Awaited<ReturnType<typeof searchText>> }> => {
      let lines = 0;
      let first: number | undefined;
      const t0 = performance.now();
      const summary = await searchText(index, remote, {
        query: { pattern: search.needle, matchCase: true },
        concurrency: readersFor(job.parallel),
        cache,
        cacheId: (remotePath) => `bench${remotePath}`,
        onFile: (r) => {
          first ??= performance.now() - t0;
          lines += r.matches.length;
        },
      });
      const ms = performance.now() - t0;
      if (summary.incomplete || summary.problems.length > 0) throw new Error(`search incomplete: ${summary.incomplete ?? summary.problems[0]?.message}`);
      return { ms, first, lines, summary };
    };
    const cold = await searchOnce();
    if (cold.first === undefined) throw new Error('no match found');
    add(result, 'first', cold.first);
    const again = await searchOnce();
    add(result, 'again', again.ms);
    if (again.lines !== cold.lines || again.summary.downloaded > 0) throw new Error(`the second search found ${again.lines} lines (first: ${cold.lines}) and downloaded ${again.summary.downloaded} files`);
    result.matches = cold.lines;
    result.counts = { dirs: index.folderCount, files: cold.summary.filesSearched };
    return cold.ms;
  } finally {
    index.dispose();
    await pool.close();
  }
}

/**
 * The index's own memory: listings of `entries` files (100 per folder, names and sizes like a web
 * project's) are made up in memory as the walk asks for them — a server holding 100,000 files is
 * not what is measured, and the listings are garbage once applied. Heap growth after a full GC,
 * with the index still held; the run's time is the walk through the index's code.
 */
async function ourIndexMemory(search: SearchJob, result: JobResult): Promise<number> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const perFolder = 100;
  const folders = Math.ceil(search.indexEntries / perFolder);
  const when = Date.UTC(2026, 0, 1);
  const source: IndexSource = {
    list: async (dir) => {
      if (dir === '/site') return Array.from({ length: folders }, (_, i): FileEntry => ({ name: `module-${i}`, type: 'directory', size: 4096, mtime: when }));
      const n = Number(/module-(\d+)$/.exec(dir)?.[1]);
      const count = Math.min(perFolder, search.indexEntries - n * perFolder);
      return Array.from({ length: count }, (_, j): FileEntry => ({ name: `component-${n}-${j}.php`, type: 'file', size: 1000 + j * 37, mtime: when + j * 1000 }));
    },
    observe: () => () => undefined,
  };
  gc();
  const before = process.memoryUsage().heapUsed;
  const index = new RemoteIndex(source, '/site', { concurrency: SEARCH_WALK_CONCURRENCY });
  const t0 = performance.now();
  await index.refresh();
  const ms = performance.now() - t0;
  gc();
  if (index.fileCount !== search.indexEntries) throw new Error(`the index has ${index.fileCount} files, expected ${search.indexEntries}`);
  (result.heapBytes ??= []).push(process.memoryUsage().heapUsed - before);
  result.counts = { dirs: index.folderCount, files: index.fileCount };
  index.dispose();
  return ms;
}

/**
 * "Sync local → remote" as the extension runs it: both trees read, a plan made, the recommended
 * actions executed through RemoteFs (safe save, listing cache) on a fresh pool, the record saved.
 */
async function ourSync(job: Job, run: number): Promise<{ dirs: number; files: number }> {
  const sync = job.sync as NonNullable<Job['sync']>;
  const remoteRoot = sync.remoteRoots[run];
  const pool = new ConnectionPool((mode) => FtpClient.connect({ ...ourOptions(job), mode }), { maxConnections: job.parallel, mode: job.mode });
  const remote = new RemoteFs(pool);
  try {
    const ignore = new IgnoreMatcher([], false);
    const state = await SyncState.load(`${sync.stateDir}/sync-${run}.json`, `${sync.localRoot} -> ${remoteRoot}`);
    const [local, remoteTree] = await Promise.all([walkLocal(sync.localRoot, ignore), walkRemote(remote, remoteRoot, ignore, { concurrency: job.parallel })]);
    const plan = planSync({ direction: 'toRemote', local, remote: remoteTree, record: state, ignore });
    const chosen = plan.actions.filter((a) => a.recommended);
    const result = await executePlan(plan, chosen, { localRoot: sync.localRoot, remoteRoot, remote, state, concurrency: job.parallel });
    if (result.failed.length > 0 || result.skipped.length > 0) {
      const first = result.failed[0];
      throw new Error(`sync: ${result.failed.length} failed, ${result.skipped.length} skipped of ${chosen.length} actions${first ? `; ${first.action.id}: ${first.error.message}` : ''}`);
    }
    return { dirs: chosen.filter((a) => a.type === 'directory').length, files: chosen.filter((a) => a.type === 'file').length };
  } finally {
    await pool.close();
  }
}

// ------------------------------------------------------------------ basic-ftp

function basicAccess(job: Job): basic.AccessOptions {
  const s = job.server;
  return { host: s.host, port: s.port, user: s.user, password: s.password, secure: s.tls, secureOptions: s.tls ? { rejectUnauthorized: false } : undefined };
}

class Sink extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void { this.bytes += chunk.length; done(); }
}

const basicFtp: Library = {
  async connect(job, tracer) {
    if (job.mode !== 'passive') throw new Error('basic-ftp has no active mode');
    const client = new basic.Client(30_000);
    if (tracer) {
      // basic-ftp logs through ftp.log when verbose; that is its only protocol hook.
      client.ftp.verbose = true;
      client.ftp.log = (msg: string) => {
        const m = /^(>|<) (.*)/s.exec(msg);
        if (m) tracer.add(`${m[1]} ${m[2].split('\n')[0]}`);
      };
    }
    await client.access(basicAccess(job));
    return {
      list: async (p) => (await client.list(p)).length,
      stat: async (p) => { await client.size(p); await client.lastMod(p); },
      read: async (p) => { const sink = new Sink(); await client.downloadTo(sink, p); return sink.bytes; },
      save: async (p, bytes) => { await client.uploadFrom(streamOf(bytes), p); },
      download: async (p, file) => (await client.downloadTo(file, p), fs.statSync(file).size),
      upload: async (file, p) => (await client.uploadFrom(file, p), fs.statSync(file).size),
      remove: async (p) => { await client.remove(p, true); },
      close: async () => client.close(),
    };
  },
};

function streamOf(bytes: Buffer): Readable {
  return Readable.from([bytes]);
}

async function basicTreeWalk(job: Job): Promise<{ dirs: number; files: number }> {
  // As an extension using basic-ftp would: several clients, each taking the next folder.
  const clients = await Promise.all(Array.from({ length: job.parallel }, async () => {
    const c = new basic.Client(30_000);
    await c.access(basicAccess(job));
    return c;
  }));
  const counts = { dirs: 1, files: 0 };
  const pending = [job.paths.tree];
  let inFlight = 0;
  let wakeUps: Array<() => void> = [];
  const worker = async (c: basic.Client): Promise<void> => {
    for (;;) {
      while (pending.length === 0) {
        if (inFlight === 0) return;
        await new Promise<void>((resolve) => wakeUps.push(resolve));
      }
      const dir = pending.shift() as string;
      inFlight++;
      try {
        for (const e of await c.list(dir)) {
          if (e.isDirectory) { counts.dirs++; pending.push(`${dir}/${e.name}`); } else counts.files++;
        }
      } finally {
        inFlight--;
        const wake = wakeUps;
        wakeUps = [];
        for (const w of wake) w();
      }
    }
  };
  try {
    await Promise.all(clients.map(worker));
  } finally {
    for (const c of clients) c.close();
  }
  return counts;
}

/**
 * tls-resume: a pool has one connection and adds another. The first (unmeasured) stays open, as in
 * a pool; each run opens one more — offering the session the last one left, or, without
 * resumption, with every remembered session forgotten — and closes it. Measured: the connect to
 * its login, and the handshake alone, from AUTH TLS's 234 to the handshake done and the certificate
 * checked, with the CPU our process and the server's processes spent in it. The handshake's window
 * holds no other work on either side (USER and PASS go out after it), so a password hash that
 * other work on the machine may have made costly again does not blur it.
 */
async function ourTlsResume(job: Job, spec: TlsResumeJob, result: JobResult): Promise<void> {
  if (job.tool !== 'ours') throw new Error(`${job.tool}: tls-resume measures our client only`);
  const handshake: number[] = [];
  const clientCpu: number[] = [];
  const serverCpu: number[] = [];
  result.phases = { handshake, clientCpu, serverCpu };
  result.resumedRuns = 0;
  let resumed = false;
  let protocol = '';
  let at: { ms: number; cpu: NodeJS.CpuUsage; server: Map<string, number> } | undefined;
  const onEvent = (e: FtpEvent): void => {
    if (e.type === 'reply' && e.code === 234) {
      const server = sessionCpuNs(spec.serverPid);
      at = { server, cpu: process.cpuUsage(), ms: performance.now() };
    }
    if (e.type === 'tls' && e.channel === 'control' && at) {
      const ms = performance.now() - at.ms;
      const cpu = process.cpuUsage(at.cpu);
      serverCpu.push(cpuSince(at.server, sessionCpuNs(spec.serverPid)) / 1e6);
      clientCpu.push((cpu.user + cpu.system) / 1000);
      handshake.push(ms);
      resumed = e.resumed;
      protocol = e.protocol;
    }
  };
  // Our floor is an option; the ceiling of TLS 1.2 is Node's (--tls-max-v1.2, given by the harness).
  const base = ourOptions(job);
  const first = await FtpClient.connect({ ...base, tls: { ...base.tls, minVersion: spec.version } });
  const options: ConnectOptions = { ...base, tls: { ...base.tls, minVersion: spec.version }, onEvent };
  try {
    for (let i = 0; i < job.runs; i++) {
      if (!spec.resumption) forgetTlsSessions();
      at = undefined;
      const t0 = performance.now();
      const added = await FtpClient.connect(options);
      result.times.push(performance.now() - t0);
      if (protocol !== spec.version) throw new Error(`negotiated ${protocol}, not ${spec.version}`);
      if (resumed) result.resumedRuns++;
      await added.close();
    }
  } finally {
    await first.close();
  }
  // A cold pool given several requests at once opens its connections together: none has a
  // session to offer yet, and none waits for one (see findings: waiting costs more than it saves).
  forgetTlsSessions();
  let together = 0;
  const count = (e: FtpEvent): void => { if (e.type === 'tls' && e.channel === 'control' && e.resumed) together++; };
  const opened = await Promise.all(Array.from({ length: job.parallel }, () => FtpClient.connect({ ...options, onEvent: count })));
  result.openedTogether = { opened: opened.length, resumed: together };
  await Promise.all(opened.map((c) => c.close()));
}

/** CPU time (ns) of each thread of a process and its descendants, by pid/tid. */
function sessionCpuNs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (p: number): void => {
    let tasks: string[];
    try { tasks = fs.readdirSync(`/proc/${p}/task`); } catch { return; } // gone meanwhile
    for (const t of tasks) {
      try {
        out.set(`${p}/${t}`, Number(fs.readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').split(' ')[0]));
        for (const child of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) visit(Number(child));
      } catch { /* gone meanwhile */ }
    }
  };
  visit(pid);
  return out;
}

/** What the threads spent between two snapshots; one born meanwhile counts from zero. */
function cpuSince(before: Map<string, number>, after: Map<string, number>): number {
  let ns = 0;
  for (const [id, v] of after) ns += v - (before.get(id) ?? 0);
  return ns;
}

// ------------------------------------------------------------------ scenarios

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function run(job: Job): Promise<JobResult> {
  const lib = job.tool === 'ours' ? ours : basicFtp;
  const times: number[] = [];
  const tracer = job.trace ? new Tracer() : undefined;
  const result: JobResult = { times, maxRssKb: 0 };
  const last = (i: number) => i === job.runs - 1;

  if (job.scenario === 'connect') {
    // One unmeasured connection first: it loads and compiles the code paths.
    await (await lib.connect(job)).close();
    for (let i = 0; i < job.runs; i++) {
      const tr = last(i) ? tracer : undefined;
      tr?.begin();
      const t0 = performance.now();
      const session = await lib.connect(job, tr, (ms) => (result.loginMs ??= []).push(ms));
      times.push(performance.now() - t0);
      tr?.end();
      await session.close();
    }
  } else if (job.scenario === 'tls-resume') {
    await ourTlsResume(job, job.tlsResume as TlsResumeJob, result);
  } else if (job.scenario === 'tree') {
    for (let i = 0; i < job.runs; i++) {
      times.push(await timed(async () => {
        result.counts = await (job.tool === 'ours' ? ourTreeWalk(job) : basicTreeWalk(job));
      }));
    }
  } else if (job.scenario === 'goto-file' || job.scenario === 'find-in-files' || job.scenario === 'index-memory') {
    const search = job.search as SearchJob;
    if (job.tool !== 'ours') throw new Error(`${job.tool} has no search`);
    for (let i = 0; i < job.runs; i++) {
      times.push(job.scenario === 'goto-file' ? await ourGoToFile(job, search, result)
        : job.scenario === 'find-in-files' ? await ourFindInFiles(job, search, result)
          : await ourIndexMemory(search, result));
    }
  } else if (job.scenario === 'editor-open' || job.scenario === 'editor-open-window') {
    if (job.tool !== 'ours') throw new Error(`${job.tool} has no editor`);
    // One unmeasured run first: it loads and compiles the code paths.
    for (let i = -1; i < job.runs; i++) {
      const tr = last(i) ? tracer : undefined;
      if (job.scenario === 'editor-open-window') {
        // A new window's extension host: no TLS session or group of this process, the features
        // remembered as globalState keeps them (this process's default feature memory).
        forgetTlsSessions();
        forgetTlsGroups();
      }
      const { pool, remote } = editorFs(job, tr);
      try {
        tr?.begin();
        const ends = await replay(remote, OPEN_FOLDER, { root: job.paths.upDir });
        tr?.end();
        if (i < 0) continue;
        times.push(ends.get(ROOT_LISTING_CALL) as number);
        (result.phases ??= {}).all = [...(result.phases.all ?? []), Math.max(...ends.values())];
      } finally {
        await pool.close();
      }
    }
  } else if (job.scenario === 'editor-save' || job.scenario === 'editor-save-later') {
    if (job.tool !== 'ours') throw new Error(`${job.tool} has no editor`);
    const { pool, remote } = editorFs(job, tracer);
    const file = 'editor-save.txt';
    try {
      await remote.writeFile(`${job.paths.upDir}/${file}`, Buffer.from('first version\n'), { create: true, overwrite: true });
      await replay(remote, OPEN_FOLDER, { root: job.paths.upDir });
      await replay(remote, OPEN_FILE, { root: job.paths.upDir, file });
      for (let i = -1; i < job.runs; i++) {
        // As a person saves: a pause (untimed) after the file was opened or saved before; later:
        // past the listing cache's lifetime, so nothing the last save found answers this one.
        const pause = job.scenario === 'editor-save' ? EDITOR_PAUSE_MS : defaults.listingCacheTtlMs + EDITOR_PAUSE_MS;
        await new Promise((resolve) => setTimeout(resolve, pause));
        if (last(i)) tracer?.begin();
        const content = Buffer.from(`version ${i + 2}: ${'text of the file '.repeat(10)}\n`);
        const ends = await replay(remote, SAVE, { root: job.paths.upDir, file, content });
        tracer?.end();
        if (i >= 0) times.push(ends.get(3) as number);
      }
    } finally {
      await pool.close();
    }
  } else if (job.scenario === 'sync') {
    if (job.tool !== 'ours') throw new Error(`${job.tool} has no sync`);
    for (let i = 0; i < job.runs; i++) {
      times.push(await timed(async () => { result.counts = await ourSync(job, i); }));
    }
  } else {
    const session = await lib.connect(job, tracer);
    try {
      const op = opFor(job, session);
      const prepare = prepareFor(job, session);
      // Warm-up, not measured: the first transfers of a process compile its code paths and grow its heap.
      for (let w = 0; w < (job.warmUps ?? 1); w++) {
        await prepare();
        await op(-1 - w);
      }
      const big = job.scenario === 'download' || job.scenario === 'upload';
      for (let i = 0; i < job.runs; i++) {
        await prepare();
        if (last(i)) tracer?.begin();
        const t0 = performance.now();
        await op(i);
        const end = performance.now();
        tracer?.end();
        const dataAt = session.dataStartedAt?.(t0);
        if (big && dataAt !== undefined) {
          // The commands before the data (EPSV, STOR or RETR, the server opening the file) are
          // kept apart, as curl's pre-transfer time is.
          (result.phases ??= {}).setup = [...(result.phases.setup ?? []), dataAt - t0];
          times.push(end - dataAt);
        } else {
          times.push(end - t0);
        }
      }
    } finally {
      await session.close().catch(() => undefined);
    }
  }
  if (tracer) result.trace = tracer.lines;
  return result;
}

/**
 * Untimed, before each big transfer: the same starting state curl gets. curl's harness deletes the
 * local target before each download, and curl's figure (total − pre-transfer) leaves out vsftpd
 * truncating an existing upload target before its 150 (~20 ms for 100 MiB here); without this,
 * ours paid for both truncations inside its timed part.
 */
function prepareFor(job: Job, s: Session): () => Promise<void> {
  switch (job.scenario) {
    case 'download': return async () => { fs.rmSync(job.localTarget as string, { force: true }); };
    case 'upload': return () => s.remove(`${job.paths.upDir}/big-upload.bin`);
    case 'read-idle':
    case 'save-idle': return () => new Promise((resolve) => setTimeout(resolve, EDITOR_PAUSE_MS));
    default: return async () => undefined;
  }
}

function opFor(job: Job, s: Session): (i: number) => Promise<unknown> {
  const p = job.paths;
  switch (operationOf(job.scenario)) {
    case 'list': return () => s.list(p.listDir);
    case 'stat': return () => s.stat(p.small);
    case 'read': return () => s.read(p.small);
    case 'save': return (i) => s.save(`${p.upDir}/${job.scenario}-${i + 1}.bin`, SMALL_UPLOAD);
    case 'download': return () => s.download(p.big, job.localTarget as string);
    case 'upload': return () => s.upload(job.localSource as string, `${p.upDir}/big-upload.bin`);
    default: throw new Error(`no operation for ${job.scenario}`);
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as Job;
  let result: JobResult;
  try {
    result = await run(job);
  } catch (e) {
    result = { times: [], maxRssKb: 0, error: (e as Error).message || String(e) };
  }
  result.maxRssKb = process.resourceUsage().maxRSS;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // Leftover sockets or timers of a failed client must not keep the child alive.
  process.exit(0);
}

void main();
