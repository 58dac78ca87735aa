/**
 * Local deletes and renames of a linked folder carried out on real servers (vsftpd, which lists
 * with LIST; pure-ftpd and proftpd, with MLSD): a tree is synced up, changed here as a user or a
 * program would, planned, looked at on the server, and applied; the server's folder on this disk
 * shows the result and the commands sent show how (RNFR/RNTO, not a copy).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { ConnectionPool } from '../../src/ftp/pool';
import type { FtpEvent } from '../../src/ftp/types';
import { RemoteFs } from '../../src/remote/remoteFs';
import { executePlan } from '../../src/sync/executor';
import { IgnoreMatcher } from '../../src/sync/ignore';
import { planLocalChanges, type LocalChange, type LocalEntry } from '../../src/sync/localChanges';
import { planSync } from '../../src/sync/planner';
import { RemoteDirs } from '../../src/sync/remoteDirs';
import { applyServerChanges, choosePropagation, inspectServerChanges, type PropagationMode, type ServerChange } from '../../src/sync/serverChanges';
import { SyncState } from '../../src/sync/state';
import type { LinkSide } from '../../src/sync/transfer';
import { walkLocal, walkRemote } from '../../src/sync/trees';
import { startServer, stopAllServers, type RunningServer, type ServerKind } from '../support/realServers';

const KINDS: ServerKind[] = ['vsftpd', 'pure-ftpd', 'proftpd'];
const REMOTE_ROOT = '/site';
const ignore = new IgnoreMatcher(['*.log']);

after(() => stopAllServers());

for (const kind of KINDS) {
  describe(`local deletes and renames on ${kind}`, function () {
    this.timeout(60_000);
    let server: RunningServer;
    let remote: RemoteFs;
    let work: string;
    let localRoot: string;
    let serverRoot: string;
    let state: SyncState;
    const commands: string[] = [];
    const sent = () => commands.splice(0).filter((c) => !/^(PASV|EPSV|TYPE|PWD|NOOP|FEAT|OPTS|USER|PASS|MLSD|LIST|MDTM|SIZE|MLST|CWD)\b/.test(c));

    const local = (rel: string) => path.join(localRoot, ...rel.split('/'));
    const onServer = (rel: string) => path.join(serverRoot, ...rel.split('/'));
    const write = (rel: string, content: string) => {
      fs.mkdirSync(path.dirname(local(rel)), { recursive: true });
      fs.writeFileSync(local(rel), content);
    };
    const side = (): LinkSide => ({ localRoot, remoteRoot: REMOTE_ROOT, remote, state, dirs: new RemoteDirs(remote) });

    before(async () => {
      server = await startServer(kind);
      const pool = new ConnectionPool<FtpClient>(
        (mode) => FtpClient.connect({ host: server.host, port: server.port, user: server.user, password: server.password, mode, connectTimeoutMs: 3000 }),
        { mode: 'passive', maxConnections: 3 },
      );
      remote = new RemoteFs(pool, { cacheTtlMs: 5000 });
      remote.pool.on('event', (e: FtpEvent) => {
        if (e.type === 'command') commands.push(e.text);
      });
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-propagate-'));
      localRoot = path.join(work, 'local');
      serverRoot = path.join(server.root, REMOTE_ROOT);
    });
    after(async () => {
      await remote?.pool.close();
      await server?.stop();
      fs.rmSync(work, { recursive: true, force: true });
    });

    /** A fresh local tree synced up, with a fresh record. */
    beforeEach(async () => {
      fs.rmSync(localRoot, { recursive: true, force: true });
      if (fs.existsSync(serverRoot)) await remote.delete(REMOTE_ROOT, { recursive: true });
      write('index.html', '<h1>home</h1>\n');
      write('about.html', '<h1>about</h1>\n');
      write('blog/2024/post.html', 'post\n');
      write('blog/2024/draft.html', 'draft\n');
      write('blog/index.html', 'blog\n');
      state = await SyncState.load(path.join(work, `state-${Math.random()}.json`), 'test');
      const [l, r] = await Promise.all([walkLocal(localRoot, ignore), walkRemote(remote, REMOTE_ROOT, ignore)]);
      const p = planSync({ direction: 'toRemote', local: l, remote: r, record: state, ignore });
      const result = await executePlan(p, p.actions, { localRoot, remoteRoot: REMOTE_ROOT, remote, state });
      assert.deepEqual(result.failed, []);
      assert.ok(fs.existsSync(onServer('blog/2024/post.html')));
      sent();
    });

    /** What the disk holds now for the paths the events name (and under folders among them). */
    async function nowOf(changes: LocalChange[]): Promise<Map<string, LocalEntry>> {
      const now = new Map<string, LocalEntry>();
      const tree = await walkLocal(localRoot, ignore);
      for (const c of changes) {
        for (const p of c.kind === 'renamed' ? [c.to, c.from] : [c.path]) {
          const rel = path.relative(localRoot, p).split(path.sep).join('/');
          for (const [k, e] of tree) if (k === rel || k.startsWith(`${rel}/`)) now.set(k, e);
        }
      }
      return now;
    }

    async function propagate(changes: LocalChange[], modes: { deletes: PropagationMode; renames: PropagationMode } = { deletes: 'always', renames: 'always' }) {
      const plan = planLocalChanges({ localRoot, ignore, changes, now: await nowOf(changes), record: state });
      const inspected = await inspectServerChanges(side(), ignore, plan);
      const choice = choosePropagation(inspected.changes, modes);
      const applied = await applyServerChanges(side(), choice.go);
      assert.deepEqual(applied.failed.map((f) => f.error.message), []);
      return { plan, inspected, choice, applied };
    }

    it('a file renamed in the Explorer is renamed on the server (RNFR/RNTO, no upload), and its record goes with it', async () => {
      const rec = state.get('about.html');
      fs.renameSync(local('about.html'), local('about-us.html'));
      await propagate([{ kind: 'renamed', from: local('about.html'), to: local('about-us.html') }]);
      assert.deepEqual(sent(), [`RNFR ${REMOTE_ROOT}/about.html`, `RNTO ${REMOTE_ROOT}/about-us.html`]);
      assert.equal(fs.readFileSync(onServer('about-us.html'), 'utf8'), '<h1>about</h1>\n');
      assert.equal(fs.existsSync(onServer('about.html')), false);
      assert.deepEqual(state.get('about-us.html'), rec);
      assert.equal(state.get('about.html'), undefined);
    });

    it('a folder moved by another program (delete + create) is recognised and renamed on the server, into a folder that is new there', async () => {
      fs.mkdirSync(local('archive'));
      fs.renameSync(local('blog/2024'), local('archive/2024'));
      const { plan } = await propagate([
        { kind: 'deleted', path: local('blog/2024') },
        { kind: 'created', path: local('archive') },
        { kind: 'created', path: local('archive/2024') },
      ]);
      assert.deepEqual(plan, { deletes: [], renames: [{ from: 'blog/2024', to: 'archive/2024' }], uploads: [] });
      assert.equal(fs.readFileSync(onServer('archive/2024/post.html'), 'utf8'), 'post\n');
      assert.equal(fs.existsSync(onServer('blog/2024')), false);
      assert.deepEqual(sent().filter((c) => /^(STOR|DELE|RMD) /.test(c)), [], 'nothing uploaded or deleted');
      assert.ok(state.get('archive/2024/draft.html') && !state.get('blog/2024/draft.html'));
    });

    it('a folder deleted here is deleted on the server with everything in it, a file at a time; its record is dropped', async () => {
      fs.rmSync(local('blog'), { recursive: true });
      const { inspected } = await propagate([{ kind: 'deleted', path: local('blog') }]);
      assert.deepEqual(
        inspected.changes.map((c) => c.kind === 'delete' && [c.path, c.files.sort(), c.changed]),
        [['blog', ['blog/2024/draft.html', 'blog/2024/post.html', 'blog/index.html'], []]],
      );
      assert.equal(fs.existsSync(onServer('blog')), false);
      assert.ok(fs.existsSync(onServer('index.html')), 'nothing else touched');
      // One command per entry: the look before listed them, so no stat or listing per file.
      const raw = commands.splice(0);
      assert.deepEqual(raw.filter((c) => /^(DELE|RMD) /.test(c)).sort(), [
        `DELE ${REMOTE_ROOT}/blog/2024/draft.html`,
        `DELE ${REMOTE_ROOT}/blog/2024/post.html`,
        `DELE ${REMOTE_ROOT}/blog/index.html`,
        `RMD ${REMOTE_ROOT}/blog`,
        `RMD ${REMOTE_ROOT}/blog/2024`,
      ]);
      assert.deepEqual(raw.filter((c) => /^(SIZE|MDTM|MLST) .*\.html$/.test(c)), [], 'a stat per file');
      assert.deepEqual(state.keys().filter((k) => k.startsWith('blog')), []);
    });

    it('never touches an ignored file: a folder holding one stays on the server with it', async () => {
      fs.writeFileSync(onServer('blog/2024/server.log'), 'kept\n');
      fs.rmSync(local('blog'), { recursive: true });
      const { applied } = await propagate([{ kind: 'deleted', path: local('blog') }]);
      assert.equal(fs.readFileSync(onServer('blog/2024/server.log'), 'utf8'), 'kept\n');
      assert.deepEqual(fs.readdirSync(onServer('blog')), ['2024']);
      assert.deepEqual(fs.readdirSync(onServer('blog/2024')), ['server.log']);
      assert.deepEqual(applied.keptFolders.sort(), ['blog', 'blog/2024']);
      // Moved to an ignored name here: that is a delete of the old name, and the ignored one is not uploaded.
      fs.renameSync(local('index.html'), local('index.log'));
      await propagate([{ kind: 'renamed', from: local('index.html'), to: local('index.log') }]);
      assert.equal(fs.existsSync(onServer('index.html')), false);
      assert.equal(fs.existsSync(onServer('index.log')), false);
    });

    it('a file changed on the server since the last sync is asked about even under "always"; the others go', async () => {
      // Another size than the record holds: someone edited it there.
      fs.writeFileSync(onServer('blog/index.html'), 'edited on the server meanwhile\n');
      fs.rmSync(local('blog/index.html'));
      fs.rmSync(local('about.html'));
      const { choice } = await propagate([
        { kind: 'deleted', path: local('blog/index.html') },
        { kind: 'deleted', path: local('about.html') },
      ]);
      assert.deepEqual(choice.go.map(summary), ['delete about.html']);
      assert.deepEqual(choice.ask.map(summary), ['delete blog/index.html (changed: blog/index.html)']);
      assert.equal(fs.readFileSync(onServer('blog/index.html'), 'utf8'), 'edited on the server meanwhile\n');
      assert.equal(fs.existsSync(onServer('about.html')), false);
      // The same for a file inside a deleted folder.
      fs.rmSync(local('blog'), { recursive: true });
      const again = await propagate([{ kind: 'deleted', path: local('blog') }]);
      assert.deepEqual(again.choice.ask.map(summary), ['delete blog/ (changed: blog/index.html)']);
      assert.ok(fs.existsSync(onServer('blog/2024/post.html')), 'nothing of the folder deleted unasked');
    });

    it('a rename onto a name the server already has is left alone and said so; a rename of a file never uploaded is an upload', async () => {
      fs.writeFileSync(onServer('taken.html'), 'someone else\'s\n');
      fs.renameSync(local('about.html'), local('taken.html'));
      write('fresh.html', 'never uploaded\n');
      fs.renameSync(local('fresh.html'), local('fresh2.html'));
      const { inspected } = await propagate([
        { kind: 'renamed', from: local('about.html'), to: local('taken.html') },
        { kind: 'renamed', from: local('fresh.html'), to: local('fresh2.html') },
      ]);
      assert.deepEqual(inspected.changes, []);
      assert.deepEqual(inspected.notOnServer, ['fresh2.html']);
      assert.match(inspected.problems.map((p) => p.message).join(), /already exists on the server/);
      assert.equal(fs.readFileSync(onServer('taken.html'), 'utf8'), 'someone else\'s\n');
      assert.ok(fs.existsSync(onServer('about.html')));
    });

    it('a folder renamed and a file in it deleted: with renames, the file goes at the new place; with renames "never", at the old one', async () => {
      fs.renameSync(local('blog'), local('journal'));
      fs.rmSync(local('journal/index.html'));
      const events: LocalChange[] = [
        { kind: 'renamed', from: local('blog'), to: local('journal') },
        { kind: 'deleted', path: local('journal/index.html') },
      ];
      await propagate(events, { deletes: 'always', renames: 'never' });
      assert.ok(fs.existsSync(onServer('blog/2024/post.html')), 'not renamed');
      assert.equal(fs.existsSync(onServer('blog/index.html')), false, 'deleted where the server has it');
      assert.equal(state.get('blog/index.html'), undefined);
      // The same batch again with renames allowed (the file is gone on the server already): the rename is done.
      await propagate(events, { deletes: 'always', renames: 'always' });
      assert.ok(fs.existsSync(onServer('journal/2024/post.html')) && !fs.existsSync(onServer('blog')));
    });

    it('"never" leaves the server as it is', async () => {
      fs.rmSync(local('index.html'));
      fs.renameSync(local('about.html'), local('about2.html'));
      const { choice } = await propagate(
        [
          { kind: 'deleted', path: local('index.html') },
          { kind: 'renamed', from: local('about.html'), to: local('about2.html') },
        ],
        { deletes: 'never', renames: 'never' },
      );
      assert.equal(choice.kept.length, 2);
      assert.ok(fs.existsSync(onServer('index.html')) && fs.existsSync(onServer('about.html')));
      assert.deepEqual(sent(), []);
    });
  });
}

function summary(c: ServerChange): string {
  if (c.kind === 'rename') return `rename ${c.from} → ${c.to}`;
  return `delete ${c.path}${c.type === 'directory' ? '/' : ''}${c.changed.length ? ` (changed: ${c.changed.join(', ')})` : ''}`;
}
