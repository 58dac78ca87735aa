/**
 * Permissions against vsftpd, proftpd and pure-ftpd, seen on the server's own disk: SITE CHMOD of a
 * tree through the pool (links left alone), a profile's fileMode/dirMode on what is created, the
 * mode a stat and a listing tell; and a vsftpd with `chmod_enable=NO` for a server without SITE
 * CHMOD: a typed error for the user's own chmod, saves that still work and one warning.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { FtpError, isFtpError } from '../../src/ftp/errors';
import { ConnectionPool } from '../../src/ftp/pool';
import type { DataMode, FtpEvent } from '../../src/ftp/types';
import { RemoteFs, type RemoteFsOptions } from '../../src/remote/remoteFs';
import { optionsFor, withClient } from '../support/realClients';
import { startServer, stopAllServers, type RunningServer, type ServerKind } from '../support/realServers';

const KINDS: ServerKind[] = ['vsftpd', 'proftpd', 'pure-ftpd'];

function remoteFsFor(server: RunningServer, options: RemoteFsOptions = {}, sink?: (e: FtpEvent) => void): RemoteFs {
  const connect = (m: DataMode, onEvent: (e: FtpEvent) => void) => FtpClient.connect(optionsFor(server, { mode: m, onEvent: (e) => { onEvent(e); sink?.(e); } }));
  const pool = new ConnectionPool<FtpClient>(connect, { mode: 'passive', maxConnections: 3 });
  return new RemoteFs(pool, { cacheTtlMs: 5000, ...options });
}

after(() => stopAllServers());

for (const kind of KINDS) {
  describe(`permissions on ${kind}`, function () {
    this.timeout(60_000);
    let server: RunningServer;
    let remote: RemoteFs;
    const disk = (p: string) => path.join(server.root, p);
    const modeOnDisk = (p: string) => fs.lstatSync(disk(p)).mode & 0o7777;

    before(async () => {
      server = await startServer(kind);
    });
    afterEach(() => remote?.pool.close());
    after(() => server?.stop());

    /** site/a.txt, site/sub/b.txt, site/sub/deeper/c.txt, site/link → /outside.txt, all 644/755. */
    function makeTree(): void {
      for (const dir of ['site', 'site/sub', 'site/sub/deeper']) fs.mkdirSync(disk(dir), { recursive: true, mode: 0o755 });
      for (const file of ['site/a.txt', 'site/sub/b.txt', 'site/sub/deeper/c.txt', 'outside.txt']) fs.writeFileSync(disk(file), file, { mode: 0o644 });
      fs.symlinkSync('../outside.txt', disk('site/link'));
      server.giveToUser();
      for (const p of ['site', 'site/sub', 'site/sub/deeper']) fs.chmodSync(disk(p), 0o755);
      for (const p of ['site/a.txt', 'site/sub/b.txt', 'site/sub/deeper/c.txt', 'outside.txt']) fs.chmodSync(disk(p), 0o644);
    }

    it('sets a mode on a whole tree, in parallel through the pool, leaving links and their targets alone', async () => {
      makeTree();
      remote = remoteFsFor(server);
      const seen: string[] = [];
      const result = await remote.chmodTree('/site', { fileMode: 0o600, dirMode: 0o700 }, { onProgress: (_n, p) => seen.push(p) });
      assert.deepEqual(result.failed, []);
      assert.equal(result.changed, 6);
      assert.equal(result.skippedLinks, 1);
      assert.deepEqual([...seen].sort(), ['/site', '/site/a.txt', '/site/sub', '/site/sub/b.txt', '/site/sub/deeper', '/site/sub/deeper/c.txt']);
      for (const dir of ['site', 'site/sub', 'site/sub/deeper']) assert.equal(modeOnDisk(dir), 0o700, dir);
      for (const file of ['site/a.txt', 'site/sub/b.txt', 'site/sub/deeper/c.txt']) assert.equal(modeOnDisk(file), 0o600, file);
      assert.equal(modeOnDisk('outside.txt'), 0o644, 'a chmod through the link would have changed its target');
      fs.rmSync(disk('site'), { recursive: true });
      fs.rmSync(disk('outside.txt'));
    });

    it('sets only files or only folders when asked, and a single file alone', async () => {
      makeTree();
      remote = remoteFsFor(server);
      await remote.chmodTree('/site', { fileMode: 0o640 });
      assert.equal(modeOnDisk('site/sub'), 0o755);
      assert.equal(modeOnDisk('site/sub/b.txt'), 0o640);
      await remote.chmodTree('/site/sub', { dirMode: 0o711 });
      assert.equal(modeOnDisk('site/sub'), 0o711);
      assert.equal(modeOnDisk('site/sub/deeper'), 0o711);
      assert.equal(modeOnDisk('site/sub/b.txt'), 0o640);
      assert.equal(modeOnDisk('site/a.txt'), 0o640);
      await remote.chmod('/site/a.txt', 0o604);
      assert.equal(modeOnDisk('site/a.txt'), 0o604);
      // What the editor shows afterwards: the mode from a stat (MLST) or the folder's listing.
      const listed = (await remote.list('/site')).find((e) => e.name === 'a.txt');
      assert.equal(listed?.permissions, 0o604);
      fs.rmSync(disk('site'), { recursive: true });
      fs.rmSync(disk('outside.txt'));
    });

    it("gives new files and folders the profile's fileMode and dirMode, and a replaced file keeps its own", async () => {
      fs.mkdirSync(disk('made'));
      fs.writeFileSync(disk('made/script.sh'), '#!/bin/sh\n');
      server.giveToUser('made');
      fs.chmodSync(disk('made/script.sh'), 0o750);
      remote = remoteFsFor(server, { fileMode: 0o640, dirMode: 0o750 });

      const saved = await remote.writeFile('/made/new.html', Buffer.from('<p>new</p>'), { create: true, overwrite: false });
      assert.equal(modeOnDisk('made/new.html'), 0o640);
      assert.equal(saved.created, true);
      await remote.createFile('/made/synced.css', Buffer.from('body {}'));
      assert.equal(modeOnDisk('made/synced.css'), 0o640);
      await remote.createDirectory('/made/assets');
      assert.equal(modeOnDisk('made/assets'), 0o750);
      // A copy in the Explorer makes its folders and files new, too.
      await remote.copy('/made/assets', '/made/assets-copy', { overwrite: false });
      assert.equal(modeOnDisk('made/assets-copy'), 0o750);
      await remote.copy('/made/new.html', '/made/copy.html', { overwrite: false });
      assert.equal(modeOnDisk('made/copy.html'), 0o640);

      await remote.list('/made'); // the listing is where permissions come from on servers without MLST
      await remote.writeFile('/made/script.sh', Buffer.from('#!/bin/sh\necho changed\n'), { create: false, overwrite: true });
      assert.equal(fs.readFileSync(disk('made/script.sh'), 'utf8'), '#!/bin/sh\necho changed\n');
      assert.equal(modeOnDisk('made/script.sh'), 0o750, "fileMode is for new files: a replaced file keeps its own");
      fs.rmSync(disk('made'), { recursive: true });
    });

    it('stops a recursive change when cancelled, leaving the rest as it was', async () => {
      fs.mkdirSync(disk('many'));
      for (let i = 0; i < 200; i++) fs.writeFileSync(disk(`many/f${i}.txt`), 'x', { mode: 0o644 });
      server.giveToUser();
      for (let i = 0; i < 200; i++) fs.chmodSync(disk(`many/f${i}.txt`), 0o644);
      remote = remoteFsFor(server);
      const controller = new AbortController();
      await assert.rejects(
        remote.chmodTree('/many', { fileMode: 0o600 }, { signal: controller.signal, onProgress: (done) => { if (done === 5) controller.abort(); } }),
        (e: unknown) => isFtpError(e, 'cancelled'),
      );
      const changed = Array.from({ length: 200 }, (_, i) => modeOnDisk(`many/f${i}.txt`)).filter((m) => m === 0o600).length;
      assert.ok(changed >= 5 && changed < 200, `${changed} of 200 changed`);
      fs.rmSync(disk('many'), { recursive: true });
    });

    it('refuses a mode out of range before anything is sent', async () => {
      await withClient(server, {}, async (c, events) => {
        for (const bad of [-1, 0o10000, 1.5]) await assert.rejects(c.chmod('/x', bad), (e: unknown) => isFtpError(e, 'protocol'));
        assert.equal(events.filter((e) => e.type === 'command' && e.text.startsWith('SITE')).length, 0);
      });
    });
  });
}

describe('permissions on a vsftpd without SITE CHMOD (chmod_enable=NO)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let remote: RemoteFs | undefined;

  before(async () => {
    server = await startServer('vsftpd', { noChmod: true });
  });
  afterEach(() => remote?.pool.close());
  after(() => server?.stop());

  it("fails the user's own chmod with a typed error in plain words", async () => {
    fs.writeFileSync(path.join(server.root, 'f.txt'), 'x');
    server.giveToUser();
    await withClient(server, {}, async (c) => {
      await assert.rejects(c.chmod('/f.txt', 0o600), (e: unknown) => {
        assert.ok(e instanceof FtpError);
        assert.equal(e.kind, 'unsupported');
        assert.equal(e.code, 500);
        assert.match(e.message, /^The server does not support SITE CHMOD \(500 [^)]*\): permissions cannot be changed on this server\.$/);
        return true;
      });
    });
  });

  it("saves with a fileMode anyway, tells once that the mode could not be set, and stops trying", async () => {
    const told: string[] = [];
    const chmods: string[] = [];
    remote = remoteFsFor(server, { fileMode: 0o640, dirMode: 0o750, onChmodUnavailable: (m) => told.push(m) }, (e) => {
      if (e.type === 'command' && e.text.startsWith('SITE CHMOD')) chmods.push(e.text);
    });
    await remote.writeFile('/one.txt', Buffer.from('1'), { create: true, overwrite: false });
    await remote.writeFile('/two.txt', Buffer.from('2'), { create: true, overwrite: false });
    await remote.createDirectory('/dir');
    assert.equal(fs.readFileSync(path.join(server.root, 'two.txt'), 'utf8'), '2');
    assert.ok(fs.statSync(path.join(server.root, 'dir')).isDirectory());
    assert.equal(told.length, 1, told.join('\n'));
    assert.match(told[0], /^Could not set the profile's fileMode \(640\) on \/one\.txt: The server does not support SITE CHMOD/);
    assert.deepEqual(chmods, ['SITE CHMOD 640 /one.txt'], 'after the first refusal, no more automatic SITE CHMOD');
    // A chmod the user asks for is still tried, and fails in the same words.
    await assert.rejects(remote.chmod('/one.txt', 0o600), (e: unknown) => isFtpError(e, 'unsupported'));
    await assert.rejects(remote.chmodTree('/', { fileMode: 0o600, dirMode: 0o700 }), (e: unknown) => isFtpError(e, 'unsupported'));
  });
});
