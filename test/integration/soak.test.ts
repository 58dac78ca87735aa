/**
 * Soak: random edits, saves, renames, deletes and folder creations through the provider logic
 * (RemoteFs over a pool) against real vsftpd behind a proxy that cuts control connections at
 * random (FIN, RST or "421"), in passive then active mode. Each worker keeps a model of its own
 * folder; at the end the server's tree on disk must match the models exactly: nothing lost,
 * nothing extra, byte-identical contents.
 *
 * An operation may fail visibly (that is allowed under faults) and then may or may not have taken
 * effect; the server is asked only in that ambiguous case, and what it shows must be the old or the
 * new state — never a truncated or mixed file.
 *
 * FTPW_SOAK_SECONDS sets the length (default 60), FTPW_SOAK_SEED replays the choices of a run (the
 * timing of drops against operations is never exactly the same), FTPW_SOAK_DROP_MS the mean time
 * between drops (default 1000), FTPW_SOAK_VERBOSE=1 prints every visible failure and, for a
 * leftover temporary file, the protocol trace of its connections.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { isFtpError } from '../../src/ftp/errors';
import { ConnectionPool } from '../../src/ftp/pool';
import type { FtpEvent } from '../../src/ftp/types';
import { RemoteFs } from '../../src/remote/remoteFs';
import { DropProxy } from '../support/dropProxy';
import { startServer, stopAllServers, type RunningServer } from '../support/realServers';

const SECONDS = Number(process.env.FTPW_SOAK_SECONDS ?? 60);
const SEED = Number(process.env.FTPW_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const WORKERS = 3;
/** Mean time between injected drops. */
const DROP_EVERY_MS = Number(process.env.FTPW_SOAK_DROP_MS ?? 1000);
/**
 * A command forwarded just before its connection was cut may still run on the server a moment
 * later (the server's session process has not noticed yet): wait this long before asking the
 * server what an ambiguous operation did.
 */
const SETTLE_MS = 500;

/** Small seeded PRNG (mulberry32) so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Figures {
  attempted: number;
  failedVisibly: number;
  ambiguousResolved: number;
  corrupt: string[];
  byKind: Record<string, number>;
}

/** One worker's view of its folder: files by path (relative to the FTP root) and folders. */
class Model {
  readonly files = new Map<string, Buffer>();
  readonly dirs = new Set<string>();
  constructor(readonly root: string) {
    this.dirs.add(root);
  }
}

after(() => stopAllServers());

describe('soak: provider logic on vsftpd behind a connection-dropping proxy', function () {
  this.timeout((SECONDS + 90) * 1000);
  let server: RunningServer;
  let proxy: DropProxy;

  before(async () => {
    server = await startServer('vsftpd');
    proxy = await DropProxy.start(server);
  });
  after(async () => {
    await proxy?.stop();
    await server?.stop();
  });

  it(`keeps every byte through ${SECONDS} s of random work and random drops (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const local = (p: string) => path.join(server.root, p);
    const pool = new ConnectionPool<FtpClient>(
      (mode) => FtpClient.connect({
        host: proxy.host, port: proxy.port, user: server.user, password: server.password, mode,
        connectTimeoutMs: 5000, replyTimeoutMs: 5000, dataConnectTimeoutMs: 3000, dataIdleTimeoutMs: 5000,
      }),
      { maxConnections: 3, mode: 'passive', busyRetryDelaysMs: [250, 500, 1000] },
    );
    const remote = new RemoteFs(pool, { cacheTtlMs: 2000 });
    const trace: string[] = [];
    const dataOpens = { passive: 0, active: 0 };
    pool.on('event', (e: FtpEvent) => { if (e.type === 'data-open') dataOpens[e.mode]++; });
    if (process.env.FTPW_SOAK_VERBOSE) {
      pool.on('event', (e: FtpEvent) => {
        if (e.type === 'command') trace.push(`${Date.now() % 100000} ${e.id} > ${e.text}`);
        else if (e.type === 'reply') trace.push(`${Date.now() % 100000} ${e.id} < ${e.code} ${e.text.slice(0, 60)}`);
        else if (e.type === 'close') trace.push(`${Date.now() % 100000} ${e.id} closed ${e.reason ?? ''}`);
      });
    }
    const figures: Figures = { attempted: 0, failedVisibly: 0, ambiguousResolved: 0, corrupt: [], byKind: {} };
    const models: Model[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const m = new Model(`/w${w}`);
      fs.mkdirSync(local(m.root));
      for (let i = 0; i < 4; i++) {
        const p = `${m.root}/seed-${i}.txt`;
        const data = content(random, `seed ${p}`);
        fs.writeFileSync(local(p), data);
        m.files.set(p, data);
      }
      models.push(m);
    }
    server.giveToUser();

    /** What the server has at `p` right now (read from its disk: the ground truth). */
    const onDisk = (p: string): Buffer | 'dir' | undefined => {
      try {
        const st = fs.statSync(local(p));
        return st.isDirectory() ? 'dir' : fs.readFileSync(local(p));
      } catch {
        return undefined;
      }
    };

    /** Targets of saves that failed visibly: only they may leave a temporary file behind. */
    const failedSaves = new Set<string>();
    // A real wait: the server's session process that may still run the cut command is not
    // observable from here (the proxy has closed its socket, other workers keep connecting), so
    // there is no event to wait for before asking the server's disk. See SETTLE_MS.
    const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));
    const failed = async (err: unknown, what: string) => {
      await settle();
      if (process.env.FTPW_SOAK_VERBOSE) console.log(`      failed: ${what}: ${(err as Error).message}`);
      figures.failedVisibly++;
      const kind = isFtpError(err) ? err.kind : (err as Error).name;
      figures.byKind[kind] = (figures.byKind[kind] ?? 0) + 1;
    };

    const step = async (m: Model, r: () => number): Promise<void> => {
      const files = [...m.files.keys()];
      const dirs = [...m.dirs];
      const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
      const roll = r();
      figures.attempted++;
      if (roll < 0.35 && files.length > 0) {
        // Save over an existing file: safe save.
        const p = pick(files);
        const old = m.files.get(p)!;
        const next = content(r, `edit ${p} ${figures.attempted}`);
        try {
          await remote.writeFile(p, next, { create: false, overwrite: true });
          m.files.set(p, next);
        } catch (err) {
          failedSaves.add(p);
          await failed(err, `save ${p}`);
          const now = onDisk(p);
          if (Buffer.isBuffer(now) && (now.equals(old) || now.equals(next))) {
            m.files.set(p, now);
            figures.ambiguousResolved++;
          } else {
            figures.corrupt.push(`${p}: after a failed save it is ${show(now)}, neither the old ${old.length} nor the new ${next.length} bytes`);
          }
        }
      } else if (roll < 0.5) {
        // Create a new file.
        const p = `${pick(dirs)}/n${figures.attempted}.txt`;
        const next = content(r, `new ${p}`);
        try {
          await remote.writeFile(p, next, { create: true, overwrite: false });
          m.files.set(p, next);
        } catch (err) {
          failedSaves.add(p);
          await failed(err, `create ${p}`);
          const now = onDisk(p);
          if (now === undefined) return;
          if (Buffer.isBuffer(now) && now.equals(next)) {
            m.files.set(p, now);
            figures.ambiguousResolved++;
          } else {
            figures.corrupt.push(`${p}: after a failed create it is ${show(now)}, not absent nor the ${next.length} bytes written`);
          }
        }
      } else if (roll < 0.62 && files.length > 0) {
        // Rename a file to a fresh name, maybe into another folder.
        const from = pick(files);
        const to = `${pick(dirs)}/r${figures.attempted}.txt`;
        const data = m.files.get(from)!;
        try {
          await remote.rename(from, to, { overwrite: false });
          m.files.delete(from);
          m.files.set(to, data);
        } catch (err) {
          await failed(err, `rename ${from} ${to}`);
          const a = onDisk(from);
          const b = onDisk(to);
          if (Buffer.isBuffer(a) && a.equals(data) && b === undefined) return;
          if (a === undefined && Buffer.isBuffer(b) && b.equals(data)) {
            m.files.delete(from);
            m.files.set(to, data);
            figures.ambiguousResolved++;
            return;
          }
          figures.corrupt.push(`rename ${from} → ${to} failed and left ${show(a)} / ${show(b)}`);
        }
      } else if (roll < 0.72 && files.length > 2) {
        const p = pick(files);
        const data = m.files.get(p)!;
        try {
          await remote.delete(p, { recursive: false });
          m.files.delete(p);
        } catch (err) {
          await failed(err, `delete ${p}`);
          const now = onDisk(p);
          if (now === undefined) {
            m.files.delete(p);
            figures.ambiguousResolved++;
          } else if (!(Buffer.isBuffer(now) && now.equals(data))) {
            figures.corrupt.push(`${p}: after a failed delete it is ${show(now)}`);
          }
        }
      } else if (roll < 0.78 && dirs.length < 6) {
        const p = `${pick(dirs)}/d${figures.attempted}`;
        try {
          await remote.createDirectory(p);
          m.dirs.add(p);
        } catch (err) {
          await failed(err, `mkdir ${p}`);
          if (onDisk(p) === 'dir') {
            m.dirs.add(p);
            figures.ambiguousResolved++;
          }
        }
      } else if (files.length > 0) {
        // Read back: what the client hands the editor must be exactly what the model says.
        const p = pick(files);
        try {
          const got = await remote.readFile(p);
          if (!got.equals(m.files.get(p)!)) figures.corrupt.push(`${p}: read ${got.length} bytes that differ from the ${m.files.get(p)!.length} saved`);
        } catch (err) {
          await failed(err, `read ${p}`);
        }
      }
    };

    const deadline = Date.now() + SECONDS * 1000;
    const half = Date.now() + (SECONDS * 1000) / 2;
    proxy.startRandomDrops({ meanIntervalMs: DROP_EVERY_MS, random: prng(SEED + 1) });
    const modeSwitch = setTimeout(() => pool.setMode('active'), half - Date.now());
    try {
      await Promise.all(models.map(async (m, w) => {
        const r = prng(SEED + 100 + w);
        while (Date.now() < deadline) await step(m, r);
      }));
    } finally {
      clearTimeout(modeSwitch);
      proxy.stopRandomDrops();
    }
    const faults = proxy.drops;
    // Sessions the proxy cut may still be finishing on the server side. A real wait, for the same
    // reason as settle(): the end of a cut session on the server is not observable from here.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    await pool.close();

    // The server's tree against the models.
    let bytesLost = 0;
    const missing: string[] = [];
    const extra: string[] = [];
    const temps: string[] = [];
    const strayTemps: string[] = [];
    for (const m of models) {
      const seen = new Set<string>();
      const walk = (rel: string) => {
        for (const name of fs.readdirSync(local(rel))) {
          const p = `${rel}/${name}`;
          seen.add(p);
          if (fs.statSync(local(p)).isDirectory()) {
            if (!m.dirs.has(p)) extra.push(p + '/');
            walk(p);
          } else if (name.includes('.ftpw-')) {
            // A failed save may leave its temporary file when even the clean-up could not reach
            // the server; a save that succeeded must not.
            temps.push(p);
            const target = `${rel}/${name.replace(/^\.(.*)\.ftpw-[0-9a-f]+\.tmp$/, '$1')}`;
            if (!failedSaves.has(target)) strayTemps.push(p);
          } else if (!m.files.has(p)) {
            extra.push(p);
          }
        }
      };
      walk(m.root);
      for (const [p, data] of m.files) {
        const now = onDisk(p);
        if (!Buffer.isBuffer(now)) {
          missing.push(p);
          bytesLost += data.length;
        } else if (!now.equals(data)) {
          missing.push(`${p} (differs)`);
          bytesLost += data.length;
        }
      }
      for (const d of m.dirs) if (d !== m.root && !seen.has(d)) missing.push(d + '/');
    }
    for (const t of temps) {
      const name = t.split(' ')[0];
      const ids = new Set(trace.filter((l) => l.includes(name)).map((l) => l.split(' ')[1]));
      console.log(`      trace for ${name}:\n` + trace.filter((l) => ids.has(l.split(' ')[1])).map((l) => '        ' + l).join('\n'));
    }
    const files = models.reduce((n, m) => n + m.files.size, 0);
    console.log(`      soak: ${SECONDS} s, seed ${SEED}: faults injected ${faults}, operations attempted ${figures.attempted}, ` +
      `data connections passive ${dataOpens.passive} / active ${dataOpens.active}, ` +
      `failed visibly ${figures.failedVisibly} ${JSON.stringify(figures.byKind)}, ambiguous outcomes resolved ${figures.ambiguousResolved}, ` +
      `files at the end ${files}, bytes lost ${bytesLost}, missing ${missing.length}, extra ${extra.length}, ` +
      `temporary files left by failed saves ${temps.length} (by successful ones ${strayTemps.length}), corrupt ${figures.corrupt.length}`);
    assert.ok(faults >= (SECONDS * 1000) / DROP_EVERY_MS / 2, `only ${faults} faults were injected`);
    assert.ok(figures.attempted >= SECONDS * 5, `only ${figures.attempted} operations ran`);
    assert.ok(dataOpens.passive > 0 && dataOpens.active > 0, 'both halves ran: passive, then active');
    assert.deepEqual(figures.corrupt, []);
    assert.equal(bytesLost, 0, `missing or different: ${missing.join(', ')}`);
    assert.deepEqual(missing, []);
    assert.deepEqual(extra, []);
    assert.deepEqual(strayTemps, [], 'temporary files left behind by saves that succeeded');
  });
});

/** Random content from 0 to ~192 KB, text-like with a unique header so no two saves look alike. */
function content(r: () => number, label: string): Buffer {
  const size = r() < 0.1 ? 0 : Math.floor(r() ** 2 * 192 * 1024);
  const head = Buffer.from(`${label}\n`);
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = 32 + Math.floor(r() * 95);
  return size === 0 ? Buffer.alloc(0) : Buffer.concat([head, body]);
}

function show(x: Buffer | 'dir' | undefined): string {
  return x === undefined ? 'absent' : x === 'dir' ? 'a folder' : `${x.length} bytes`;
}
