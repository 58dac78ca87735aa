/**
 * Linked folders against real servers (vsftpd, which lists times to the minute, and pure-ftpd,
 * which has MLSD): a local tree is planned and synced to the server and back, and the server's
 * files on disk are compared with the local ones after every step. Also upload on save through
 * the queue while the server is down, and the conflict check before an upload.
 */
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import type { FtpEvent } from '../../src/ftp/types';
import { ConnectionPool } from '../../src/ftp/pool';
import { executePlan, type SyncProgress } from '../../src/sync/executor';
import { IgnoreMatcher } from '../../src/sync/ignore';
import { planSync, selectActions, type Direction, type SyncPlan } from '../../src/sync/planner';
import { RemoteDirs } from '../../src/sync/remoteDirs';
import { SyncState } from '../../src/sync/state';
import { uploadChecked, UploadConflictError, type LinkSide } from '../../src/sync/transfer';
import { walkLocal, walkRemote } from '../../src/sync/trees';
import { UploadQueue } from '../../src/sync/uploadQueue';
import { RemoteFs } from '../../src/remote/remoteFs';
import { startServer, stopAllServers, type RunningServer, type ServerKind } from '../support/realServers';
import { ServerAddress } from '../support/serverAddress';

const KINDS: ServerKind[] = ['vsftpd', 'pure-ftpd'];
const REMOTE_ROOT = '/site';
const ignore = new IgnoreMatcher(['*.log']);

function remoteFsFor(target: { host: string; port: number }, server: RunningServer): RemoteFs {
  const pool = new ConnectionPool<FtpClient>(
    (mode) => FtpClient.connect({ host: target.host, port: target.port, user: server.user, password: server.password, mode, connectTimeoutMs: 3000 }),
    { mode: 'passive', maxConnections: 3 },
  );
  return new RemoteFs(pool, { cacheTtlMs: 5000 });
}

function write(root: string, rel: string, content: string | Buffer): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** Moves a file's modification time back, into another minute (servers list times to the minute). */
function age(root: string, rel: string, minutes: number): void {
  const t = new Date(Date.now() - minutes * 60_000);
  fs.utimesSync(path.join(root, rel), t, t);
}

/** Every folder ("dir/") and file ("file: sha of content") under `root`, minus ignored paths. */
function snapshot(root: string, skipIgnored = true): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (skipIgnored && ignore.ignores(child, e.isDirectory())) continue;
      if (e.isDirectory()) {
        out.set(`${child}/`, '');
        walk(child);
      } else {
        out.set(child, fs.readFileSync(path.join(root, child)).toString('base64').slice(0, 64) + fs.statSync(path.join(root, child)).size);
      }
    }
  };
  walk('');
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function describePlan(plan: SyncPlan): string[] {
  return plan.actions.map((a) => `${a.kind} ${a.type === 'directory' ? a.path + '/' : a.path}${a.conflict ? ' conflict' : ''}${a.recommended ? ' checked' : ''}`);
}

after(() => stopAllServers());

for (const kind of KINDS) {
  describe(`linked folder sync on ${kind}`, function () {
    this.timeout(60_000);
    let server: RunningServer;
    let remote: RemoteFs;
    let localRoot: string;
    let serverRoot: string;
    let state: SyncState;
    let work: string;
    /** Commands sent on the pool's connections since the last `sent()` call. */
    const commands: string[] = [];
    const sent = () => commands.splice(0);

    before(async () => {
      server = await startServer(kind);
      remote = remoteFsFor(server, server);
      remote.pool.on('event', (e: FtpEvent) => {
        if (e.type === 'command') commands.push(e.text);
      });
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-sync-'));
      localRoot = path.join(work, 'local');
      fs.mkdirSync(localRoot);
      serverRoot = path.join(server.root, REMOTE_ROOT);
      state = await SyncState.load(path.join(work, 'state', 'link.json'), `${localRoot} -> ${REMOTE_ROOT}`);
    });
    after(async () => {
      await remote?.pool.close();
      await server?.stop();
      fs.rmSync(work, { recursive: true, force: true });
    });

    async function plan(direction: Direction, start = ''): Promise<SyncPlan> {
      const [local, remoteTree] = await Promise.all([walkLocal(localRoot, ignore, { start }), walkRemote(remote, REMOTE_ROOT, ignore, { start })]);
      return planSync({ direction, local, remote: remoteTree, record: state, ignore, scope: start });
    }

    /** The record holds for the server's side exactly what a listing shows (plans compare with listings). */
    async function assertRecordIsListing(paths: string[]): Promise<void> {
      const listed = await walkRemote(remote, REMOTE_ROOT, ignore);
      for (const p of paths) {
        const entry = listed.get(p);
        assert.ok(entry, `${p} is listed`);
        assert.deepEqual(state.get(p)?.remote, entry.mtime === undefined ? { size: entry.size } : { size: entry.size, mtime: entry.mtime }, `${p}: record = listing`);
      }
    }

    /** STOR and RNTO commands by target name, in order, ignoring everything else. */
    function stores(cmds: string[]): string[] {
      return cmds.filter((c) => /^(STOR|RNTO) /.test(c)).map((c) => c.replace(/\.ftpw-[0-9a-f]+\.tmp$/, '.TEMP').replace(`${REMOTE_ROOT}/`, '')).sort();
    }

    async function run(p: SyncPlan, ids = p.actions.filter((a) => a.recommended).map((a) => a.id), onProgress?: (p: SyncProgress) => void) {
      const result = await executePlan(p, selectActions(p, ids), { localRoot, remoteRoot: REMOTE_ROOT, remote, state, onProgress });
      assert.deepEqual(result.failed.map((f) => `${f.action.id}: ${f.error.message}`), []);
      return result;
    }

    it('copies a new local tree to a server folder that does not exist yet, leaving ignored paths behind', async () => {
      write(localRoot, 'index.html', '<h1>Hello</h1>\n');
      write(localRoot, 'css/site.css', 'body { color: black }\n');
      write(localRoot, 'img/logo.png', randomBytes(200_000));
      write(localRoot, 'name with spaces ü.txt', 'unicode\n');
      fs.mkdirSync(path.join(localRoot, 'docs/empty'), { recursive: true });
      write(localRoot, 'node_modules/lib/index.js', 'module.exports = 1;\n');
      write(localRoot, '.git/HEAD', 'ref: refs/heads/main\n');
      write(localRoot, 'debug.log', 'noise\n');

      const p = await plan('toRemote');
      assert.deepEqual(describePlan(p), [
        'create css/ checked',
        'create css/site.css checked',
        'create docs/ checked',
        'create docs/empty/ checked',
        'create img/ checked',
        'create img/logo.png checked',
        'create index.html checked',
        'create name with spaces ü.txt checked',
      ]);
      let last: SyncProgress | undefined;
      sent();
      await run(p, undefined, (progress) => (last = progress));
      assert.deepEqual(snapshot(serverRoot), snapshot(localRoot));
      // Into folders the sync made itself (the root too: it did not exist), straight under the
      // names, with no stat before or after: the listing afterwards tells what the server holds.
      const files = ['css/site.css', 'img/logo.png', 'index.html', 'name with spaces ü.txt'];
      const cmds = sent();
      assert.deepEqual(stores(cmds), files.map((f) => `STOR ${f}`));
      assert.deepEqual(cmds.filter((c) => /^(SIZE|MLST) /.test(c) && files.some((f) => c.endsWith(f))), [], 'no stat of a new file');
      // One MDTM at most: on a LIST-only server, the zone's detection at the first listing with a recent file (once per server).
      const mdtms = cmds.filter((c) => /^MDTM /.test(c) && files.some((f) => c.endsWith(f)));
      assert.ok(mdtms.length <= 1, `no stat of a new file: ${JSON.stringify(mdtms)}`);
      await assertRecordIsListing(files);
      assert.equal(fs.existsSync(path.join(serverRoot, 'node_modules')), false);
      assert.equal(fs.existsSync(path.join(serverRoot, 'debug.log')), false);
      assert.deepEqual(last && [last.filesDone, last.bytesDone], [8, last?.bytesTotal]);
      assert.ok(last!.bytesTotal > 200_000);
      assert.deepEqual(describePlan(await plan('toRemote')), [], 'nothing left to do right after a sync');
      assert.deepEqual(describePlan(await plan('toLocal')), [], 'and nothing the other way either');
    });

    it('sends local additions and changes up, and deletes on the server only what was ticked', async () => {
      write(localRoot, 'index.html', '<h1>Hello, world</h1>\n');
      write(localRoot, 'js/app.js', 'console.log(1);\n');
      fs.rmSync(path.join(localRoot, 'css/site.css'));
      // Same size, new content: only the modification time tells.
      const logo = fs.readFileSync(path.join(localRoot, 'img/logo.png'));
      logo[0] ^= 0xff;
      write(localRoot, 'img/logo.png', logo);

      const p = await plan('toRemote');
      assert.deepEqual(describePlan(p), ['delete css/site.css', 'update img/logo.png checked', 'update index.html checked', 'create js/ checked', 'create js/app.js checked']);
      sent();
      await run(p);
      // Updates through a temporary name and a rename, the new file into the new folder directly.
      assert.deepEqual(stores(sent()), ['RNTO img/logo.png', 'RNTO index.html', 'STOR .index.html.TEMP', 'STOR img/.logo.png.TEMP', 'STOR js/app.js']);
      await assertRecordIsListing(['img/logo.png', 'index.html', 'js/app.js']);
      assert.equal(fs.readdirSync(path.join(serverRoot, 'img')).filter((n) => n.includes('.ftpw-')).length, 0, 'no temporary file left');
      assert.equal(fs.readFileSync(path.join(serverRoot, 'index.html'), 'utf8'), '<h1>Hello, world</h1>\n');
      assert.ok(fs.existsSync(path.join(serverRoot, 'css/site.css')), 'an unticked deletion is not done');

      const again = await plan('toRemote');
      assert.deepEqual(describePlan(again), ['delete css/site.css']);
      await run(again, again.actions.map((a) => a.id));
      assert.deepEqual(snapshot(serverRoot), snapshot(localRoot));
    });

    it('moves files too big to hold in memory in blocks, both ways, byte for byte (create, update, download)', async () => {
      const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
      const big = randomBytes(3 * 1024 * 1024 + 17);
      write(localRoot, 'media/video.bin', big);
      await run(await plan('toRemote'));
      assert.equal(sha(path.join(serverRoot, 'media/video.bin')), sha(path.join(localRoot, 'media/video.bin')), 'created on the server');

      const changed = Buffer.concat([big.subarray(0, 1024 * 1024), randomBytes(2 * 1024 * 1024)]);
      write(localRoot, 'media/video.bin', changed);
      sent();
      await run(await plan('toRemote'));
      assert.deepEqual(stores(sent()), ['RNTO media/video.bin', 'STOR media/.video.bin.TEMP'], 'an update still goes through a temporary name');
      assert.equal(sha(path.join(serverRoot, 'media/video.bin')), sha(path.join(localRoot, 'media/video.bin')), 'updated on the server');
      await assertRecordIsListing(['media/video.bin']);

      const theirs = randomBytes(5 * 1024 * 1024 + 3);
      fs.writeFileSync(path.join(serverRoot, 'media/video.bin'), theirs);
      const down = await plan('toLocal');
      assert.deepEqual(describePlan(down), ['update media/video.bin checked']);
      await run(down);
      assert.equal(sha(path.join(localRoot, 'media/video.bin')), createHash('sha256').update(theirs).digest('hex'), 'downloaded');
      assert.deepEqual(fs.readdirSync(path.join(localRoot, 'media')), ['video.bin'], 'no temporary file left here');
      fs.rmSync(path.join(localRoot, 'media'), { recursive: true });
      fs.rmSync(path.join(serverRoot, 'media'), { recursive: true });
      state.deleteTree('media');
    });

    it('stores a new file into an existing folder directly, unless one appeared there after the plan', async () => {
      write(localRoot, 'js/lib.js', 'export {};\n');
      write(localRoot, 'js/late.js', 'mine\n');
      const p = await plan('toRemote');
      assert.deepEqual(describePlan(p), ['create js/late.js checked', 'create js/lib.js checked']);
      // Someone else puts a file where the plan saw none: it is replaced the safe way.
      write(serverRoot, 'js/late.js', 'theirs, written after the plan\n');
      server.giveToUser();
      sent();
      await run(p);
      assert.deepEqual(stores(sent()), ['RNTO js/late.js', 'STOR js/.late.js.TEMP', 'STOR js/lib.js']);
      assert.equal(fs.readFileSync(path.join(serverRoot, 'js/late.js'), 'utf8'), 'mine\n');
      await assertRecordIsListing(['js/late.js', 'js/lib.js']);
      assert.deepEqual(describePlan(await plan('toRemote')), []);
      fs.rmSync(path.join(localRoot, 'js/lib.js'));
      fs.rmSync(path.join(localRoot, 'js/late.js'));
      const cleanup = await plan('toRemote');
      await run(cleanup, cleanup.actions.map((a) => a.id));
      assert.deepEqual(snapshot(serverRoot), snapshot(localRoot));
    });

    it('brings changes made on the server down, including a same-size change told by its time', async () => {
      write(serverRoot, 'index.html', '<h1>Edited on the server</h1>\n');
      write(serverRoot, 'news/today.txt', 'news\n');
      fs.rmSync(path.join(serverRoot, 'js/app.js'));
      const page = fs.readFileSync(path.join(serverRoot, 'name with spaces ü.txt'));
      page[0] = 'U'.charCodeAt(0);
      write(serverRoot, 'name with spaces ü.txt', page);
      age(serverRoot, 'name with spaces ü.txt', 5);
      server.giveToUser();

      const p = await plan('toLocal');
      assert.deepEqual(describePlan(p), ['update index.html checked', 'delete js/app.js', 'update name with spaces ü.txt checked', 'create news/ checked', 'create news/today.txt checked']);
      await run(p, p.actions.map((a) => a.id));
      assert.deepEqual(snapshot(localRoot), snapshot(serverRoot));
      assert.equal(fs.readFileSync(path.join(localRoot, 'name with spaces ü.txt'), 'utf8'), 'Unicode\n');
      assert.ok(fs.existsSync(path.join(localRoot, 'debug.log')), 'ignored local files are left alone');
      assert.deepEqual(describePlan(await plan('toRemote')), []);
    });

    it('calls a file changed on both sides a conflict in both directions, and changes nothing', async () => {
      write(localRoot, 'index.html', '<h1>Local edit</h1>\n');
      write(serverRoot, 'index.html', '<h1>Someone else edited this on the server</h1>\n');
      server.giveToUser();
      assert.deepEqual(describePlan(await plan('toRemote')), ['update index.html conflict']);
      assert.deepEqual(describePlan(await plan('toLocal')), ['update index.html conflict']);
      assert.match(fs.readFileSync(path.join(serverRoot, 'index.html'), 'utf8'), /Someone else/);
      assert.match(fs.readFileSync(path.join(localRoot, 'index.html'), 'utf8'), /Local edit/);
    });

    it('asks before an upload over a server copy that changed since the last sync', async () => {
      const link: LinkSide = { localRoot, remoteRoot: REMOTE_ROOT, remote, state, dirs: new RemoteDirs(remote) };
      const asked: string[] = [];
      const skip = await uploadChecked(link, 'index.html', async (entry) => {
        asked.push(entry.name);
        return 'skip';
      });
      assert.equal(skip, 'skipped');
      assert.deepEqual(asked, ['index.html']);
      assert.match(fs.readFileSync(path.join(serverRoot, 'index.html'), 'utf8'), /Someone else/);
      await assert.rejects(uploadChecked(link, 'index.html', async () => 'keep-pending'), UploadConflictError);

      assert.equal(await uploadChecked(link, 'index.html', async () => 'overwrite'), 'uploaded');
      assert.equal(fs.readFileSync(path.join(serverRoot, 'index.html'), 'utf8'), '<h1>Local edit</h1>\n');
      // Recorded: the next save goes up without a question.
      write(localRoot, 'index.html', '<h1>Local edit 2</h1>\n');
      assert.equal(await uploadChecked(link, 'index.html', async () => assert.fail('asked again')), 'uploaded');
      assert.equal(fs.readFileSync(path.join(serverRoot, 'index.html'), 'utf8'), '<h1>Local edit 2</h1>\n');
    });

    it('plans and syncs a single sub-folder without touching the rest', async () => {
      write(localRoot, 'news/today.txt', 'later news\n');
      write(localRoot, 'index.html', '<h1>Not part of this sync</h1>\n');
      const p = await plan('toRemote', 'news');
      assert.deepEqual(describePlan(p), ['update news/today.txt checked']);
      await run(p);
      assert.equal(fs.readFileSync(path.join(serverRoot, 'news/today.txt'), 'utf8'), 'later news\n');
      assert.equal(fs.readFileSync(path.join(serverRoot, 'index.html'), 'utf8'), '<h1>Local edit 2</h1>\n');
    });

    it('keeps its record across a reload', async () => {
      await state.save();
      const reloaded = await SyncState.load(state.file, state.link);
      assert.deepEqual(reloaded.keys().sort(), state.keys().sort());
      assert.deepEqual(reloaded.get('img/logo.png'), state.get('img/logo.png'));
    });
  });
}

describe('upload on save while the server is down (vsftpd)', function () {
  this.timeout(60_000);
  let work: string;
  let address: ServerAddress;
  let first: RunningServer;
  let second: RunningServer | undefined;
  let remote: RemoteFs;
  let queue: UploadQueue;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-queue-'));
    first = await startServer('vsftpd');
    first.giveToUser();
    address = new ServerAddress(first);
    await address.open();
  });
  after(async () => {
    queue?.dispose();
    await remote?.pool.close();
    await address?.close();
    await first?.stop();
    await second?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('keeps a failed upload pending with its reason, and uploads it once a server answers at that address again', async () => {
    const localRoot = path.join(work, 'local');
    write(localRoot, 'page.html', 'version 1\n');
    remote = remoteFsFor({ host: '127.0.0.1', port: address.port }, first);
    const state = await SyncState.load(path.join(work, 'state.json'), 'queue test');
    const link: LinkSide = { localRoot, remoteRoot: '/', remote, state, dirs: new RemoteDirs(remote) };
    const failures: [string, boolean][] = [];
    queue = new UploadQueue({
      upload: (rel, signal) => uploadChecked(link, rel, async () => 'overwrite', { signal }).then(() => undefined),
      delayMs: 50,
      onFailure: (key, _error, firstTime) => failures.push([key, firstTime]),
    });

    queue.enqueue('page.html');
    await queue.whenIdle();
    assert.equal(fs.readFileSync(path.join(first.root, 'page.html'), 'utf8'), 'version 1\n');

    // The server goes away: its process ends and its address refuses connections.
    await address.close();
    await first.stop();
    write(localRoot, 'page.html', 'version 2, saved while the server was down\n');
    queue.enqueue('page.html');
    await queue.whenIdle();
    assert.equal(queue.pending, 1);
    const [failed] = queue.failed;
    assert.equal(failed.key, 'page.html');
    assert.match(failed.error!.message, /ECONNREFUSED|connect|refused/i);
    queue.retry(); // queued again at once, so whenIdle waits for this attempt
    await queue.whenIdle();
    assert.equal(queue.failed.length, 1, 'still down: still pending');
    assert.deepEqual(failures, [['page.html', true], ['page.html', false]], 'the first failure is the one to tell the user about');

    // A server answers at the same address again (a fresh one: its folder starts empty).
    second = await startServer('vsftpd');
    second.giveToUser();
    address.target = second;
    await address.open();
    queue.retry(); // queued again at once, so whenIdle waits for this attempt
    await queue.whenIdle();
    assert.equal(queue.pending, 0);
    assert.equal(fs.readFileSync(path.join(second.root, 'page.html'), 'utf8'), 'version 2, saved while the server was down\n');
  });
});
