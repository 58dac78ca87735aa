/**
 * Older BSD-derived daemons (no FEAT, EPSV, EPRT, MLSD/MLST, SIZE or MDTM; LIST in `ls -l` form in
 * the server's local time), emulated by the fault server: every operation works through its
 * fallbacks in both modes, diagnose tells exactly which method works, and modification times come
 * out right when the server's zone is not UTC.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { diagnose } from '../../src/ftp/diagnose';
import { ConnectionPool } from '../../src/ftp/pool';
import type { ConcreteMode, ConnectOptions, FtpEvent } from '../../src/ftp/types';
import { zoneMemory } from '../../src/ftp/timeZone';
import { RemoteFs } from '../../src/remote/remoteFs';
import { executePlan } from '../../src/sync/executor';
import { IgnoreMatcher } from '../../src/sync/ignore';
import { planSync } from '../../src/sync/planner';
import { SyncState } from '../../src/sync/state';
import { RemoteDirs } from '../../src/sync/remoteDirs';
import { checkRemote } from '../../src/sync/transfer';
import { walkLocal, walkRemote } from '../../src/sync/trees';
import { FaultServer, type FaultServerOptions } from '../support/faultServer';
import { startServer, stopAllServers } from '../support/realServers';

const MODES: ConcreteMode[] = ['passive', 'active'];
const CLI = path.resolve(__dirname, '../../../dist/cli.js');
const ALL_OLD: NonNullable<FaultServerOptions['old']> = { noFeat: true, noEpsv: true, noEprt: true, noSize: true, noMdtm: true };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function optionsFor(server: FaultServer, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return { host: server.host, port: server.port, user: server.user, password: server.password, connectTimeoutMs: 5000, replyTimeoutMs: 5000, dataConnectTimeoutMs: 3000, ...extra };
}

function poolFor(server: FaultServer, extra: Partial<ConnectOptions> = {}): ConnectionPool<FtpClient> {
  return new ConnectionPool<FtpClient>((mode) => FtpClient.connect(optionsFor(server, { ...extra, mode })), { maxConnections: 2, mode: extra.mode ?? 'auto' });
}

/** A time a few hours ago on a whole second, so LIST shows it with its time of day. */
function recent(hoursAgo: number): number {
  return Math.floor((Date.now() - hoursAgo * HOUR) / 1000) * 1000;
}

function floorMinute(ms: number): number {
  return Math.floor(ms / MINUTE) * MINUTE;
}

for (const mode of MODES) {
  describe(`an old daemon without FEAT, EPSV, EPRT, MLSD, SIZE and MDTM (${mode} mode, fault server)`, function () {
    this.timeout(30_000);
    let server: FaultServer;
    let pool: ConnectionPool<FtpClient>;
    let remote: RemoteFs;
    let work: string;
    const events: FtpEvent[] = [];
    const fileTime = recent(3);

    beforeEach(async () => {
      zoneMemory.clear();
      server = await FaultServer.start({
        old: ALL_OLD,
        files: { '/doc.txt': 'original\n', '/sub/inner.txt': 'inner', '/empty/': '' },
        mtimes: { '/doc.txt': fileTime },
      });
      events.length = 0;
      pool = poolFor(server, { mode, onEvent: (e) => events.push(e) });
      remote = new RemoteFs(pool, { cacheTtlMs: 0 });
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-old-'));
    });
    afterEach(async () => {
      await pool.close();
      await server.stop();
      fs.rmSync(work, { recursive: true, force: true });
    });

    it('logs in although FEAT is refused, and lists through LIST with sizes, types and times', async () => {
      const entries = await remote.list('/');
      const byName = new Map(entries.map((e) => [e.name, e]));
      assert.deepEqual([...byName.keys()].sort(), ['doc.txt', 'empty', 'sub']);
      assert.equal(byName.get('doc.txt')?.type, 'file');
      assert.equal(byName.get('doc.txt')?.size, 9);
      assert.equal(byName.get('doc.txt')?.mtime, floorMinute(fileTime));
      assert.equal(byName.get('sub')?.type, 'directory');
      assert.equal(server.count('MLSD'), 0, 'no MLSD without FEAT');
    });

    it('never pipelines a transfer command behind EPSV/EPRT, which it does not know; learns PASV/PORT once per session', async () => {
      await remote.list('/');
      await remote.readFile('/doc.txt');
      await remote.list('/sub');
      const modeVerb = mode === 'passive' ? 'EPSV' : 'EPRT';
      for (const read of server.reads) {
        if (read.includes(modeVerb)) assert.equal(read.length, 1, `${modeVerb} goes out alone: ${JSON.stringify(server.reads)}`);
      }
      assert.equal(server.count(modeVerb), server.sessions.length, `one ${modeVerb} per session, then ${mode === 'passive' ? 'PASV' : 'PORT'} only`);
      assert.ok(events.some((e) => e.type === 'learned' && e.what === (mode === 'passive' ? 'no-epsv' : 'no-eprt')));
    });

    it('stats files and folders from the parent listing', async () => {
      const file = await remote.statFromServer('/doc.txt');
      assert.deepEqual([file.type, file.size, file.mtime], ['file', 9, floorMinute(fileTime)]);
      const dir = await remote.statFromServer('/sub');
      assert.equal(dir.type, 'directory');
      await assert.rejects(remote.statFromServer('/missing.txt'), (e: Error & { kind?: string }) => e.kind === 'not-found');
    });

    it('reads, safe-saves over a file (size checked through the listing), creates, renames and deletes', async () => {
      assert.equal((await remote.readFile('/doc.txt')).toString(), 'original\n');
      const saved = await remote.writeFile('/doc.txt', Buffer.from('changed content\n'), { create: false, overwrite: true });
      assert.equal(saved.size, 16);
      assert.equal(server.files.get('/doc.txt')?.toString(), 'changed content\n');
      assert.ok(server.count('RNTO') >= 1, 'safe save renamed the upload over the file');
      assert.deepEqual([...server.files.keys()].filter((p) => p.includes('.ftpw-')), [], 'no temporary file left');

      await remote.writeFile('/new.txt', Buffer.from('new'), { create: true, overwrite: false });
      assert.equal(server.files.get('/new.txt')?.toString(), 'new');
      await remote.rename('/new.txt', '/sub/moved.txt', { overwrite: false });
      assert.equal(server.files.get('/sub/moved.txt')?.toString(), 'new');
      assert.equal(server.files.has('/new.txt'), false);
      await remote.delete('/sub/moved.txt', { recursive: false });
      assert.equal(server.files.has('/sub/moved.txt'), false);
    });

    it('a safe save whose upload the server kept only in part leaves the file as it was', async () => {
      server.handle('STOR', async (ctx) => {
        await ctx.next();
        const stored = server.files.get(ctx.arg);
        if (stored) server.files.set(ctx.arg, stored.subarray(0, 3));
      });
      await assert.rejects(remote.writeFile('/doc.txt', Buffer.from('changed content\n'), { create: false, overwrite: true }), /incomplete/);
      assert.equal(server.files.get('/doc.txt')?.toString(), 'original\n');
    });

    it('makes and removes folders, recursively too', async () => {
      await remote.createDirectory('/a');
      await pool.run((c) => c.mkdir('/a/b/c', { recursive: true }));
      assert.ok(server.dirs.has('/a/b/c'));
      await assert.rejects(remote.createDirectory('/a'), (e: Error & { kind?: string }) => e.kind === 'exists');
      await remote.writeFile('/a/b/f.txt', Buffer.from('x'), { create: true, overwrite: false });
      await remote.delete('/a', { recursive: true });
      assert.equal(server.dirs.has('/a'), false);
      assert.equal(server.files.has('/a/b/f.txt'), false);
    });

    it('a linked-folder sync uploads a tree, and then finds both sides equal', async () => {
      const localRoot = path.join(work, 'local');
      fs.mkdirSync(path.join(localRoot, 'd'), { recursive: true });
      fs.writeFileSync(path.join(localRoot, 'a.txt'), 'aaa');
      fs.writeFileSync(path.join(localRoot, 'd', 'b.txt'), 'bbbb');
      const ignore = new IgnoreMatcher([], false);
      const state = await SyncState.load(path.join(work, 'state.json'), 'old');
      const plan = async () => planSync({ direction: 'toRemote', local: await walkLocal(localRoot, ignore), remote: await walkRemote(remote, '/sub', ignore), record: state, ignore });
      const first = await plan();
      const result = await executePlan(first, first.actions.filter((a) => a.kind !== 'delete'), { localRoot, remoteRoot: '/sub', remote, state });
      assert.deepEqual(result.failed.map((f) => f.error.message), []);
      assert.equal(server.files.get('/sub/d/b.txt')?.toString(), 'bbbb');
      const second = await plan();
      assert.deepEqual(second.actions.map((a) => a.id), ['delete:inner.txt'], 'only the file that is on the server alone');
    });

    it('diagnose reports each method as it is: PASV and PORT work, EPSV/EPRT/MLSD/MLST/SIZE/MDTM are missing, LIST works', async () => {
      const d = await diagnose(optionsFor(server));
      const step = (name: string) => d.steps.find((s) => s.name.split(' ')[0] === name);
      for (const name of ['PASV', 'PORT', 'LIST']) assert.equal(step(name)?.ok, true, `${name}: ${JSON.stringify(d.steps)}`);
      for (const name of ['EPSV', 'EPRT', 'MLSD', 'MLST', 'SIZE', 'MDTM']) {
        assert.equal(step(name)?.ok, false, `${name}: ${JSON.stringify(d.steps)}`);
        assert.equal(step(name)?.absent, true, `${name} is reported as missing, not as broken`);
      }
      assert.deepEqual(d.workingModes, ['passive', 'active']);
      assert.match(step('Server')?.detail ?? '', /no FEAT/);
    });
  });
}

describe('a LIST-only server whose zone is not UTC (fault server)', function () {
  this.timeout(30_000);
  let server: FaultServer | undefined;
  let pool: ConnectionPool<FtpClient> | undefined;
  let work: string;
  const fileTime = recent(2);
  const otherTime = recent(5);

  beforeEach(() => {
    // The zone is remembered per host:port, and a fault server of an earlier test may have had this port.
    zoneMemory.clear();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-zone-'));
  });
  afterEach(async () => {
    await pool?.close();
    await server?.stop();
    pool = undefined;
    server = undefined;
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function start(zoneOffsetMinutes: number, old: FaultServerOptions['old'], extra: Partial<ConnectOptions> = {}): Promise<RemoteFs> {
    server = await FaultServer.start({
      old, zoneOffsetMinutes,
      files: { '/site/a.txt': 'aaaa', '/site/b.txt': 'bbbbbb', '/site/old.txt': 'old' },
      mtimes: { '/site/a.txt': fileTime, '/site/b.txt': otherTime, '/site/old.txt': Date.UTC(2019, 1, 3, 4, 5, 6) },
    });
    pool = poolFor(server, { mode: 'passive', ...extra });
    return new RemoteFs(pool, { cacheTtlMs: 0 });
  }

  for (const offset of [120, -300, 345]) {
    it(`detects UTC${offset >= 0 ? '+' : ''}${offset / 60} from one file's MDTM against its LIST line, and lists true times`, async () => {
      const remote = await start(offset, { noFeat: true, noEpsv: true });
      const entries = new Map((await remote.list('/site')).map((e) => [e.name, e]));
      assert.equal(entries.get('a.txt')?.mtime, floorMinute(fileTime));
      assert.equal(entries.get('b.txt')?.mtime, floorMinute(otherTime));
      assert.equal(server!.count('MDTM'), 1, 'one MDTM for the detection');
      // Remembered: later listings, and other sessions to the server, send no MDTM for it.
      await remote.list('/site');
      await pool!.run(async (c) => { await c.list('/site'); });
      assert.equal(server!.count('MDTM'), 1);
    });
  }

  it('gets the date of a file older than six months right (the date only, at the server\'s midnight)', async () => {
    const remote = await start(120, { noFeat: true });
    const old = (await remote.list('/site')).find((e) => e.name === 'old.txt');
    assert.equal(old?.mtime, Date.UTC(2019, 1, 3) - 120 * MINUTE);
  });

  it('stat of a file, as the editor\'s "file is newer" check uses it, gives the true time', async () => {
    const remote = await start(-300, { noFeat: true, noSize: true, noMdtm: true }, { timeZoneOffsetMinutes: -300 });
    const st = await remote.statFromServer('/site/a.txt');
    assert.equal(st.mtime, floorMinute(fileTime));
  });

  it('without MDTM the zone cannot be detected: times are read as UTC unless timeZoneOffset is set', async () => {
    const remote = await start(120, { noFeat: true, noMdtm: true });
    const listed = (await remote.list('/site')).find((e) => e.name === 'a.txt');
    assert.equal(listed?.mtime, floorMinute(fileTime) + 120 * MINUTE, 'read as UTC: two hours ahead');
  });

  it('a configured offset wins over detection (one MDTM only checks that MDTM is UTC, once per server)', async () => {
    const remote = await start(120, { noFeat: true }, { timeZoneOffsetMinutes: 120 });
    const listed = (await remote.list('/site')).find((e) => e.name === 'a.txt');
    assert.equal(listed?.mtime, floorMinute(fileTime));
    assert.equal((await remote.statFromServer('/site/a.txt')).mtime, fileTime, 'MDTM, UTC as RFC 3659 says: taken as it is');
    await remote.list('/site');
    assert.equal(server!.count('MDTM'), 2, 'the check, and the stat');
  });

  for (const offset of [120, -300]) {
    it(`a server whose MDTM answers local time too (UTC${offset > 0 ? '+' : ''}${offset / 60}): with timeZoneOffset set, the listing, a stat and a sync all get true times`, async () => {
      const events: FtpEvent[] = [];
      server = await FaultServer.start({
        old: { noFeat: true }, zoneOffsetMinutes: offset, mdtmLocal: true,
        files: { '/site/a.txt': 'aaaa', '/site/b.txt': 'bbbbbb' },
        mtimes: { '/site/a.txt': fileTime, '/site/b.txt': otherTime },
      });
      const setting = { mode: 'passive' as const, timeZoneOffsetMinutes: offset, onEvent: (e: FtpEvent) => events.push(e) };
      // Without the setting, MDTM and LIST agree: nothing tells the zone, and every time is off by it.
      const unset = new RemoteFs(poolFor(server, { mode: 'passive' }), { cacheTtlMs: 0 });
      try {
        assert.equal((await unset.list('/site')).find((e) => e.name === 'a.txt')?.mtime, floorMinute(fileTime) + offset * MINUTE);
      } finally {
        await unset.pool.close();
      }
      zoneMemory.clear();
      // A stat first (the editor opening a file before its folder was listed): it lists once to know MDTM's zone.
      pool = poolFor(server, setting);
      const remote = new RemoteFs(pool, { cacheTtlMs: 0 });
      assert.equal((await remote.statFromServer('/site/a.txt')).mtime, fileTime, 'stat: MDTM moved to UTC');
      assert.ok(events.some((e) => e.type === 'learned' && /MDTM answers in local time, UTC[+-]\d\d:\d\d, not UTC/.test(e.detail)), 'told in the log');
      assert.equal((await remote.list('/site')).find((e) => e.name === 'a.txt')?.mtime, floorMinute(fileTime), 'listing: LIST moved by the setting');
      // Another session to the server knows it without asking again.
      await pool.run(async (c) => {
        assert.equal(c.mdtmOffset, offset);
        assert.equal((await c.stat('/site/b.txt')).mtime, otherTime);
      });
      assert.equal(server.count('MDTM'), 4, 'the first session\'s detection; then one check and two stats');
      const d = await diagnose(optionsFor(server, { timeZoneOffsetMinutes: offset }));
      assert.match(d.steps.find((x) => x.name.startsWith('Time zone'))?.detail ?? '', /as configured.*MDTM answers in that local time too \(not UTC\)/);

      // Sync: a local copy edited an hour after the server's is newer (an update); one an hour older is a conflict.
      const localRoot = path.join(work, 'local');
      fs.mkdirSync(localRoot, { recursive: true });
      fs.writeFileSync(path.join(localRoot, 'a.txt'), 'newer here');
      fs.utimesSync(path.join(localRoot, 'a.txt'), (fileTime + HOUR) / 1000, (fileTime + HOUR) / 1000);
      fs.writeFileSync(path.join(localRoot, 'b.txt'), 'older');
      fs.utimesSync(path.join(localRoot, 'b.txt'), (otherTime - HOUR) / 1000, (otherTime - HOUR) / 1000);
      const ignore = new IgnoreMatcher([], false);
      const state = await SyncState.load(path.join(work, 'state.json'), 'mdtm');
      const plan = planSync({ direction: 'toRemote', local: await walkLocal(localRoot, ignore), remote: await walkRemote(remote, '/site', ignore), record: state, ignore });
      assert.deepEqual(plan.actions.map((a) => `${a.path}${a.conflict ? ' conflict' : ''}`), ['a.txt', 'b.txt conflict']);

      // A safe save looks at the result with MDTM in the rename's write: its time, moved to UTC too,
      // is what the editor keeps as the file's — off by the zone, the next stat would look like a change.
      const saved = await remote.writeFile('/site/a.txt', Buffer.from('saved here'), { create: false, overwrite: true });
      const listed = (await remote.list('/site')).find((e) => e.name === 'a.txt')?.mtime ?? NaN;
      assert.ok(Math.abs((saved.mtime ?? NaN) - listed) < MINUTE, `the save's time ${saved.mtime} against the listing's ${listed}`);
    });
  }

  it('sync decisions use the true times: a newer local edit is an update, an older one a conflict', async () => {
    // UTC-5: read as UTC, the server's copies would look five hours older than they are.
    const remote = await start(-300, { noFeat: true });
    const localRoot = path.join(work, 'local');
    fs.mkdirSync(localRoot, { recursive: true });
    const put = (name: string, content: string, mtime: number) => {
      fs.writeFileSync(path.join(localRoot, name), content);
      fs.utimesSync(path.join(localRoot, name), mtime / 1000, mtime / 1000);
    };
    put('a.txt', 'local edit, newer', fileTime + HOUR); // edited here an hour after the server's copy
    put('b.txt', 'local, older', otherTime - HOUR); // the server's copy was changed after this one
    put('old.txt', 'old', Date.UTC(2019, 1, 3, 4, 5, 6));
    const ignore = new IgnoreMatcher([], false);
    const state = await SyncState.load(path.join(work, 'state.json'), 'zone');
    const plan = planSync({ direction: 'toRemote', local: await walkLocal(localRoot, ignore), remote: await walkRemote(remote, '/site', ignore), record: state, ignore });
    const byPath = new Map(plan.actions.map((a) => [a.path, a]));
    assert.equal(byPath.get('a.txt')?.conflict, false, JSON.stringify(plan.actions));
    assert.equal(byPath.get('b.txt')?.conflict, true, `b.txt would overwrite a newer server copy: ${JSON.stringify(plan.actions)}`);
    assert.deepEqual(plan.adopt.map((a) => a.path), ['old.txt'], 'same size, a date-only remote time of the same day: equal');
  });

  it('an MLSD server whose MDTM answers local time: one MDTM against an MLSD time finds it, and times asked through a link come out right', async () => {
    const events: FtpEvent[] = [];
    server = await FaultServer.start({
      mlst: true, zoneOffsetMinutes: 120, mdtmLocal: true,
      files: { '/site/a.txt': 'aaaa', '/site/sub/b.txt': 'bbbbbb' },
      mtimes: { '/site/a.txt': fileTime, '/site/sub/b.txt': otherTime },
      links: { '/site/link.txt': 'sub/b.txt' },
    });
    pool = poolFor(server, { mode: 'passive', onEvent: (e) => events.push(e) });
    const remote = new RemoteFs(pool, { cacheTtlMs: 0 });
    const listed = await remote.list('/site');
    assert.equal(listed.find((e) => e.name === 'a.txt')?.mtime, fileTime, 'MLSD: exact UTC, untouched');
    assert.deepEqual(server.commands.filter((c) => c.verb === 'MDTM').map((c) => c.arg), ['/site/a.txt'], 'one MDTM, at the first listing that shows a link');
    assert.ok(events.some((e) => e.type === 'learned' && /MDTM answers in local time, UTC\+02:00, not UTC \(MDTM of \/site\/a\.txt against its MLSD time\)/.test(e.detail)));
    // MLST tells the link (as pure-ftpd's does): its target's time comes from MDTM through it.
    const st = await remote.statFromServer('/site/link.txt');
    assert.deepEqual([st.type, st.symlink, st.mtime], ['file', true, otherTime]);
    const tree = await walkRemote(remote, '/site', new IgnoreMatcher([], false), { symlinks: 'follow' });
    assert.equal(tree.get('link.txt')?.mtime, otherTime, 'a sync following the link sees the true time');
    await remote.list('/site/sub');
    await remote.list('/site');
    assert.equal(server.count('MDTM'), 3, 'checked once: then only the two stats through the link');
  });

  it('a sync record written before zones were detected (version 1, LIST times as UTC) does not make every file look changed', async () => {
    const remote = await start(-300, { noFeat: true });
    const localRoot = path.join(work, 'local');
    fs.mkdirSync(localRoot, { recursive: true });
    for (const [name, content] of [['a.txt', 'aaaa'], ['b.txt', 'bbbbbb'], ['old.txt', 'old']]) fs.writeFileSync(path.join(localRoot, name), content);
    const ignore = new IgnoreMatcher([], false);
    const local = await walkLocal(localRoot, ignore);
    // What the version without zone detection listed and recorded: the server's wall clock as UTC
    // (a session told the zone is 0 reads LIST times exactly so).
    const before = new RemoteFs(poolFor(server!, { mode: 'passive', timeZoneOffsetMinutes: 0 }), { cacheTtlMs: 0 });
    const oldTree = await walkRemote(before, '/site', ignore).finally(() => before.pool.close());
    const file = path.join(work, 'state.json');
    const sig = (e: { size: number; mtime?: number }) => ({ size: e.size, mtime: e.mtime });
    fs.writeFileSync(file, JSON.stringify({ version: 1, link: 'zone', files: Object.fromEntries(['a.txt', 'b.txt', 'old.txt'].map((n) => [n, { local: sig(local.get(n)!), remote: sig(oldTree.get(n)!) }])) }));

    // Now: the zone is detected (UTC-5), and the same listing gives times five hours later.
    const state = await SyncState.load(file, 'zone');
    const tree = await walkRemote(remote, '/site', ignore);
    assert.equal(tree.get('a.txt')?.mtime, floorMinute(fileTime));
    const unreconciled = planSync({ direction: 'toRemote', local, remote: tree, record: state, ignore });
    assert.equal(unreconciled.actions.length, 3, 'compared as they are, every file looks changed on the server');
    // An upload on save checks the server's copy against the record the same way.
    assert.equal((await checkRemote({ localRoot, remoteRoot: '/site', remote, state, dirs: new RemoteDirs(remote) }, 'a.txt')).kind, 'clear', 'upload on save: not a conflict');

    assert.deepEqual(state.reconcileZone(tree, await remote.listTimeZone(), true).sort(), ['b.txt', 'old.txt']);
    const plan = planSync({ direction: 'toRemote', local, remote: tree, record: state, ignore });
    assert.deepEqual(plan.actions, [], 'nothing changed, nothing to do');
    assert.deepEqual(planSync({ direction: 'toLocal', local, remote: tree, record: state, ignore }).actions, []);
    await state.save();
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; remoteZone: number };
    assert.deepEqual([saved.version, saved.remoteZone], [2, -300], 'the record now says its zone');
    // A real change on the server is still one.
    server!.writeFile('/site/b.txt', Buffer.from('changed on the server'), recent(1));
    const changed = planSync({ direction: 'toRemote', local, remote: await walkRemote(remote, '/site', ignore), record: state, ignore });
    assert.deepEqual(changed.actions.map((a) => `${a.path} ${a.conflict ? 'conflict' : ''}`), ['b.txt conflict']);
  });

  it('diagnose tells the zone it found, and that MDTM works while SIZE does not', async () => {
    await start(120, { noFeat: true, noSize: true });
    const d = await diagnose(optionsFor(server!));
    const step = (name: string) => d.steps.find((s) => s.name.startsWith(name));
    assert.equal(step('MDTM')?.ok, true, JSON.stringify(d.steps));
    assert.equal(step('SIZE')?.absent, true);
    assert.equal(step('Time zone')?.ok, true);
    assert.match(step('Time zone')?.detail ?? '', /UTC\+02:00, detected from MDTM/);
  });

  it('the command line takes --time-zone-offset (ls --json shows true times on a server without MDTM)', async () => {
    await start(-300, { noFeat: true, noMdtm: true });
    const url = `ftp://${server!.user}@${server!.host}:${server!.port}/site/`;
    const ls = (extra: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'ls', url, '--json', ...extra], { env: { ...process.env, FTP_WORKSPACE_SERVER_MEMORY: '0', FTP_PASSWORD: server!.password } }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
    const mtimeOf = (stdout: string) => (JSON.parse(stdout) as { name: string; mtime: number }[]).find((e) => e.name === 'a.txt')?.mtime;
    // A value starting with a dash needs "=" (node:util parseArgs); "UTC-05:00" does not.
    for (const option of [['--time-zone-offset=-05:00'], ['--time-zone-offset', 'UTC-05:00']]) {
      const given = await ls(option);
      assert.equal(given.code, 0, given.stderr);
      assert.equal(mtimeOf(given.stdout), floorMinute(fileTime), option.join(' '));
    }
    const without = await ls([]);
    assert.equal(mtimeOf(without.stdout), floorMinute(fileTime) - 300 * MINUTE, 'without it, read as UTC');
    const bad = await ls(['--time-zone-offset', 'Europe/Berlin']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /time-zone-offset/);
  });
});

describe('a real LIST-only server in another zone (vsftpd, use_localtime=YES, TZ=UTC+02:00)', function () {
  this.timeout(60_000);
  after(() => stopAllServers());

  // vsftpd's use_localtime moves MDTM to local time too (against RFC 3659): MDTM and LIST agree, so
  // detection finds +00:00 and only the setting gets true times. Shown here so that it is known.
  it('detects no offset (its MDTM is local time too); with timeZoneOffset set, lists true times', async () => {
    zoneMemory.clear();
    const server = await startServer('vsftpd', { timeZone: 'XYZ-2' });
    const mtime = recent(1);
    fs.writeFileSync(path.join(server.root, 'zoned.txt'), 'zoned');
    fs.utimesSync(path.join(server.root, 'zoned.txt'), mtime / 1000, mtime / 1000);
    const listed = async (extra: Partial<ConnectOptions>) => {
      const events: FtpEvent[] = [];
      const client = await FtpClient.connect({ host: server.host, port: server.port, user: server.user, password: server.password, mode: 'passive', onEvent: (e) => events.push(e), ...extra });
      try {
        return { entry: (await client.list('/')).find((e) => e.name === 'zoned.txt'), stat: await client.stat('/zoned.txt'), events, zone: client.timeZoneOffset };
      } finally {
        await client.close();
      }
    };
    const detected = await listed({});
    assert.equal(detected.entry?.mtimePrecision, 'minute');
    assert.deepEqual(detected.zone, { minutes: 0, source: 'detected' });
    assert.equal(detected.entry?.mtime, floorMinute(mtime) + 120 * MINUTE, 'two hours ahead: MDTM gave local time too');
    zoneMemory.clear();
    const configured = await listed({ timeZoneOffsetMinutes: 120 });
    assert.equal(configured.entry?.mtime, floorMinute(mtime), `listed ${new Date(configured.entry?.mtime ?? 0).toISOString()}, on disk ${new Date(mtime).toISOString()}`);
    assert.equal(configured.stat?.mtime, mtime, `stat (SIZE+MDTM, as the "file is newer" check asks): ${new Date(configured.stat?.mtime ?? 0).toISOString()}, on disk ${new Date(mtime).toISOString()}`);
    assert.ok(configured.events.some((e) => e.type === 'learned' && /MDTM answers in local time, UTC\+02:00/.test(e.detail)), 'told in the log');
  });
});
