/**
 * Symbolic links in linked-folder syncs, on the real servers with links made on their disks (as
 * symlinks.test.ts does) and on this computer: `symlinks: "skip"` leaves them out and says so,
 * `"follow"` copies them as their targets both ways, a link to a folder that contains it ends the
 * walk instead of looping, and a sync never deletes through a link — a link only on the target side
 * is removed as a link, never emptied.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { ConnectionPool } from '../../src/ftp/pool';
import { RemoteFs } from '../../src/remote/remoteFs';
import { executePlan } from '../../src/sync/executor';
import { IgnoreMatcher } from '../../src/sync/ignore';
import { planSync, type Direction, type SyncPlan } from '../../src/sync/planner';
import { SyncState } from '../../src/sync/state';
import { walkLocal, walkRemote } from '../../src/sync/trees';
import type { SkippedLinks, SymlinkMode } from '../../src/sync/types';
import { FaultServer } from '../support/faultServer';
import { startServer, stopAllServers, type RunningServer, type ServerKind } from '../support/realServers';

const KINDS: ServerKind[] = ['vsftpd', 'proftpd', 'pure-ftpd'];
const REMOTE_ROOT = '/site';
const ignore = new IgnoreMatcher([]);

function describePlan(plan: SyncPlan): string[] {
  return plan.actions.map((a) => `${a.kind} ${a.type === 'directory' ? a.path + '/' : a.path}${a.link ? ' link' : ''}`);
}

after(() => stopAllServers());

for (const kind of KINDS) {
  describe(`symbolic links in a linked folder's sync on ${kind}`, function () {
    this.timeout(60_000);
    let server: RunningServer;
    let remote: RemoteFs;
    let work: string;
    let localRoot: string;
    let state: SyncState;
    const onServer = (rel = ''): string => path.join(server.root, REMOTE_ROOT, rel);
    const onLocal = (rel = ''): string => path.join(localRoot, rel);

    before(async () => {
      server = await startServer(kind);
    });
    beforeEach(async () => {
      for (const name of fs.readdirSync(server.root)) fs.rmSync(path.join(server.root, name), { recursive: true, force: true });
      // /site: real/a.txt, www -> real, conf.txt -> real/a.txt, sub/up -> .. (a loop), dangling -> nowhere.
      fs.mkdirSync(onServer('real'), { recursive: true });
      fs.writeFileSync(onServer('real/a.txt'), 'server a');
      fs.mkdirSync(onServer('sub'));
      fs.writeFileSync(onServer('sub/s.txt'), 'sub');
      fs.symlinkSync('real', onServer('www'));
      fs.symlinkSync('real/a.txt', onServer('conf.txt'));
      fs.symlinkSync('..', onServer('sub/up'));
      fs.symlinkSync('nowhere', onServer('dangling'));
      server.giveToUser();
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-synclinks-'));
      localRoot = path.join(work, 'local');
      fs.mkdirSync(localRoot);
      state = await SyncState.load(path.join(work, 'state.json'), 'test');
      const pool = new ConnectionPool<FtpClient>((mode) => FtpClient.connect({ host: server.host, port: server.port, user: server.user, password: server.password, mode }), { mode: 'passive', maxConnections: 3 });
      remote = new RemoteFs(pool, { cacheTtlMs: 5000 });
    });
    afterEach(async () => {
      await remote.pool.close();
      fs.rmSync(work, { recursive: true, force: true });
    });
    after(() => server?.stop());

    async function plan(direction: Direction, symlinks: SymlinkMode, start = ''): Promise<{ plan: SyncPlan; skipped: SkippedLinks }> {
      const skipped: SkippedLinks = new Map();
      const walk = { symlinks, skippedLinks: skipped, start };
      const [local, remoteTree] = await Promise.all([walkLocal(localRoot, ignore, walk), walkRemote(remote, REMOTE_ROOT, ignore, walk)]);
      return { plan: planSync({ direction, local, remote: remoteTree, record: state, ignore, skippedLinks: skipped, scope: start }), skipped };
    }

    async function runAll(p: SyncPlan): Promise<void> {
      const result = await executePlan(p, p.actions, { localRoot, remoteRoot: REMOTE_ROOT, remote, state });
      assert.deepEqual(result.failed.map((f) => `${f.action.id}: ${f.error.message}`), []);
    }

    it('skip: leaves every server link out and lists each with its reason', async () => {
      const { plan: p } = await plan('toLocal', 'skip');
      assert.deepEqual(describePlan(p), ['create real/', 'create real/a.txt', 'create sub/', 'create sub/s.txt']);
      const problems = new Map(p.problems.map((x) => [x.path, x.message]));
      for (const link of ['www', 'conf.txt', 'sub/up']) assert.match(problems.get(link) ?? '', /symbolic link.*left out \(the link's "symlinks" is "skip"\)/, link);
      // proftpd leaves a dangling link out of its listings altogether.
      if (kind !== 'proftpd') assert.ok(problems.has('dangling'));
    });

    it('follow: copies links as their targets, ends the loop, leaves the broken link out; the next plan is empty', async () => {
      const { plan: p } = await plan('toLocal', 'follow');
      assert.deepEqual(describePlan(p), ['create conf.txt', 'create real/', 'create real/a.txt', 'create sub/', 'create sub/s.txt', 'create www/', 'create www/a.txt']);
      const problems = new Map(p.problems.map((x) => [x.path, x.message]));
      assert.match(problems.get('sub/up') ?? '', /contains it.*it would loop/);
      if (kind !== 'proftpd') assert.match(problems.get('dangling') ?? '', /broken symbolic link/);
      await runAll(p);
      assert.equal(fs.readFileSync(onLocal('conf.txt'), 'utf8'), 'server a');
      assert.equal(fs.readFileSync(onLocal('www/a.txt'), 'utf8'), 'server a');
      assert.deepEqual(describePlan((await plan('toLocal', 'follow')).plan), [], 'in sync afterwards, links included');
      assert.deepEqual(describePlan((await plan('toRemote', 'follow')).plan), []);
    });

    it('follow: a change goes up through the server link (the link stays a link); a mirror never deletes below it', async () => {
      await runAll((await plan('toLocal', 'follow')).plan);
      fs.writeFileSync(onLocal('www/new.txt'), 'new through the link');
      fs.writeFileSync(onLocal('conf.txt'), 'changed here');
      fs.rmSync(onLocal('www/a.txt'));
      const { plan: p } = await plan('toRemote', 'follow');
      // www/a.txt is gone here, but on the server it is reached through the link: not deleted.
      assert.deepEqual(describePlan(p), ['update conf.txt', 'create www/new.txt']);
      assert.deepEqual(p.problems.find((x) => x.path === 'www')?.message, '1 file only on the server below this symbolic link left as they are: a sync never deletes through a link');
      await runAll(p);
      assert.ok(fs.lstatSync(onServer('www')).isSymbolicLink());
      assert.ok(fs.lstatSync(onServer('conf.txt')).isSymbolicLink(), 'the file link is still a link');
      assert.equal(fs.readFileSync(onServer('real/a.txt'), 'utf8'), 'changed here', 'written onto its target');
      assert.equal(fs.readFileSync(onServer('real/new.txt'), 'utf8'), 'new through the link');
    });

    it('follow: a link only on the server is removed as a link, and what it points to stays', async () => {
      fs.mkdirSync(onLocal('real'));
      fs.writeFileSync(onLocal('real/a.txt'), 'server a');
      const { plan: p } = await plan('toRemote', 'follow');
      const deletes = p.actions.filter((a) => a.kind === 'delete').map((a) => `${a.path}${a.link ? ' link' : ''}`);
      // sub/ keeps its looping link (left out), so only its file goes.
      assert.deepEqual(deletes.sort(), ['conf.txt link', 'sub/s.txt', 'www link']);
      await runAll(p);
      assert.equal(fs.existsSync(onServer('www')), false);
      assert.equal(fs.existsSync(onServer('conf.txt')), false);
      assert.equal(fs.readFileSync(onServer('real/a.txt'), 'utf8'), 'server a', 'the folder and the file the links pointed to are intact');
    });

    it('follow: a sync of a folder below a server link never deletes in it', async () => {
      fs.mkdirSync(onLocal('www'));
      const { plan: p } = await plan('toRemote', 'follow', 'www');
      assert.deepEqual(describePlan(p), []);
      assert.match(p.problems.find((x) => x.path === 'www')?.message ?? '', /never deletes through a link/);
    });

    it('local links: skipped, or followed as their targets with a loop ended; a local link only here is unlinked, its target kept', async () => {
      const outside = path.join(work, 'outside');
      fs.mkdirSync(outside);
      fs.writeFileSync(path.join(outside, 'lib.js'), 'lib');
      fs.symlinkSync(outside, onLocal('lib'));
      fs.symlinkSync('.', onLocal('self'));
      fs.symlinkSync('gone', onLocal('broken'));
      const skipped = await plan('toRemote', 'skip');
      assert.deepEqual(skipped.plan.actions.filter((a) => a.kind !== 'delete').map((a) => a.path), []);
      assert.deepEqual([...skipped.skipped.keys()].filter((k) => !['www', 'conf.txt', 'sub/up', 'dangling'].includes(k)).sort(), ['broken', 'lib', 'self']);

      const followed = await plan('toRemote', 'follow');
      assert.deepEqual(followed.plan.actions.filter((a) => a.kind !== 'delete').map((a) => a.path), ['lib', 'lib/lib.js']);
      assert.match(followed.skipped.get('self') ?? '', /it would loop/);
      assert.match(followed.skipped.get('broken') ?? '', /broken symbolic link/);
      await runAll({ ...followed.plan, actions: followed.plan.actions.filter((a) => a.kind !== 'delete') });
      assert.equal(fs.readFileSync(onServer('lib/lib.js'), 'utf8'), 'lib');

      // The server's lib/ is a real folder; toLocal with an extra file there must not delete through the local link.
      fs.writeFileSync(onServer('lib/more.js'), 'more');
      fs.writeFileSync(path.join(outside, 'only-here.js'), 'x');
      const down = await plan('toLocal', 'follow');
      assert.ok(!down.plan.actions.some((a) => a.kind === 'delete' && a.path.startsWith('lib/')), describePlan(down.plan).join(', '));
      fs.rmSync(onServer('lib'), { recursive: true });
      const mirror = await plan('toLocal', 'follow');
      assert.deepEqual(mirror.plan.actions.filter((a) => a.path === 'lib' || a.path.startsWith('lib/')).map((a) => `${a.kind} ${a.path}${a.link ? ' link' : ''}`), ['delete lib link']);
      await runAll({ ...mirror.plan, actions: mirror.plan.actions.filter((a) => a.path === 'lib') });
      assert.equal(fs.existsSync(onLocal('lib')), false);
      assert.deepEqual(fs.readdirSync(outside).sort(), ['lib.js', 'only-here.js'], 'the folder the link pointed to is untouched');
    });
  });
}

describe('symbolic links in a sync on an old LIST-only daemon (fault server: links in LIST, followed by every command but DELE/RMD)', function () {
  this.timeout(30_000);
  let server: FaultServer;
  let remote: RemoteFs;
  let work: string;
  let localRoot: string;
  let state: SyncState;

  beforeEach(async () => {
    server = await FaultServer.start({
      old: { noFeat: true, noEpsv: true },
      files: { '/site/real/a.txt': 'server a', '/site/sub/s.txt': 'sub' },
      // root -> / : an absolute target, a loop only its listing tells (under a chroot the text would mislead).
      links: { '/site/www': 'real', '/site/conf.txt': 'real/a.txt', '/site/root': '/', '/site/gone': 'nowhere' },
    });
    remote = new RemoteFs(new ConnectionPool<FtpClient>((mode) => FtpClient.connect({ host: server.host, port: server.port, user: server.user, password: server.password, mode }), { mode: 'passive', maxConnections: 2 }), { cacheTtlMs: 0 });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-synclinks-fault-'));
    localRoot = path.join(work, 'local');
    fs.mkdirSync(localRoot);
    state = await SyncState.load(path.join(work, 'state.json'), 'test');
  });
  afterEach(async () => {
    await remote.pool.close();
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function plan(direction: Direction): Promise<SyncPlan> {
    const skipped: SkippedLinks = new Map();
    const walk = { symlinks: 'follow' as const, skippedLinks: skipped };
    const [local, remoteTree] = await Promise.all([walkLocal(localRoot, ignore, walk), walkRemote(remote, REMOTE_ROOT, ignore, walk)]);
    return planSync({ direction, local, remote: remoteTree, record: state, ignore, skippedLinks: skipped });
  }

  it('follows links as their targets, ends a loop through "/", leaves the broken one out; removes links as links only', async () => {
    const down = await plan('toLocal');
    assert.deepEqual(describePlan(down), ['create conf.txt', 'create real/', 'create real/a.txt', 'create root/', 'create sub/', 'create sub/s.txt', 'create www/', 'create www/a.txt']);
    const problems = new Map(down.problems.map((x) => [x.path, x.message]));
    assert.match(problems.get('root/site') ?? '', /reached again through the symbolic link root.*it would loop/);
    assert.match(problems.get('gone') ?? '', /broken symbolic link/);
    const result = await executePlan(down, down.actions, { localRoot, remoteRoot: REMOTE_ROOT, remote, state });
    assert.deepEqual(result.failed.map((f) => f.error.message), []);
    assert.equal(fs.readFileSync(path.join(localRoot, 'www/a.txt'), 'utf8'), 'server a');

    // Here the links are gone, and so is www/a.txt: the server's links go as links, nothing through them.
    for (const name of ['www', 'conf.txt', 'root']) fs.rmSync(path.join(localRoot, name), { recursive: true });
    const up = await plan('toRemote');
    assert.deepEqual(describePlan(up), ['delete conf.txt link', 'delete root/ link', 'delete www/ link']);
    const before = server.commands.length;
    const removed = await executePlan(up, up.actions, { localRoot, remoteRoot: REMOTE_ROOT, remote, state });
    assert.deepEqual(removed.failed.map((f) => f.error.message), []);
    const deletes = server.commands.slice(before).filter((c) => /^(DELE|RMD)$/.test(c.verb)).map((c) => `${c.verb} ${c.arg}`).sort();
    assert.deepEqual(deletes, ['DELE /site/conf.txt', 'DELE /site/root', 'DELE /site/www']);
    assert.deepEqual([...server.links.keys()], ['/site/gone']);
    assert.equal(server.files.get('/site/real/a.txt')?.toString(), 'server a', 'what the links pointed at is intact');
  });
});

describe('local links that cannot be walked', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-locallinks-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a link to the filesystem root, followed, is a loop (the root holds the linked folder): not walked, so the disk is never planned for upload', async () => {
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
    fs.symlinkSync('/', path.join(dir, 'root'));
    const skippedLinks: SkippedLinks = new Map();
    const tree = await walkLocal(dir, ignore, { symlinks: 'follow', skippedLinks });
    assert.deepEqual([...tree.keys()], ['a.txt']);
    assert.match(skippedLinks.get('root') ?? '', /it would loop/);
  });

  it('a followed link to a file or folder in the linked folder itself is left out (two names for one file), unless what it points to is ignored', async () => {
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
    fs.mkdirSync(path.join(dir, 'releases/v2'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'releases/v2/app.js'), 'app');
    fs.mkdirSync(path.join(dir, 'dist'));
    fs.writeFileSync(path.join(dir, 'dist/out.js'), 'out');
    fs.symlinkSync('a.txt', path.join(dir, 'current.txt'));
    fs.symlinkSync('releases/v2', path.join(dir, 'latest'));
    fs.symlinkSync('dist', path.join(dir, 'www'));
    const skippedLinks: SkippedLinks = new Map();
    const tree = await walkLocal(dir, new IgnoreMatcher(['dist']), { symlinks: 'follow', skippedLinks });
    assert.deepEqual([...tree.keys()].sort(), ['a.txt', 'releases', 'releases/v2', 'releases/v2/app.js', 'www', 'www/out.js']);
    assert.match(skippedLinks.get('current.txt') ?? '', /a symbolic link to a\.txt in this folder, left out/);
    assert.match(skippedLinks.get('latest') ?? '', /to releases\/v2 in this folder/);
    assert.equal(skippedLinks.has('www'), false, 'dist is ignored: www is its only name');
  });

  it('a link to itself (ELOOP) is left out with its reason, under skip and follow, and the walk goes on', async () => {
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
    fs.symlinkSync('x', path.join(dir, 'x'));
    for (const symlinks of ['skip', 'follow'] as const) {
      const skippedLinks: SkippedLinks = new Map();
      assert.deepEqual([...(await walkLocal(dir, ignore, { symlinks, skippedLinks })).keys()], ['a.txt'], symlinks);
      assert.match(skippedLinks.get('x') ?? '', /cannot be followed \(ELOOP\)/, symlinks);
    }
  });
});
