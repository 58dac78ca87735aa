/**
 * Symbolic links on real servers, made on the server's disk with fs.symlinkSync (relative targets:
 * vsftpd's chroot would send an absolute one elsewhere): what a listing says a link points at, a
 * read through a link, a save that keeps the link a link, a delete that removes only the link.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { FtpError } from '../../src/ftp/errors';
import { ConnectionPool } from '../../src/ftp/pool';
import { RemoteFs } from '../../src/remote/remoteFs';
import { startServer, stopAllServers, type RunningServer, type ServerKind } from '../support/realServers';

const KINDS: ServerKind[] = ['vsftpd', 'proftpd', 'pure-ftpd'];

after(() => stopAllServers());

for (const kind of KINDS) {
  describe(`symbolic links on ${kind}`, function () {
    this.timeout(60_000);
    let server: RunningServer;
    let remote: RemoteFs;
    const local = (p: string): string => path.join(server.root, p);

    before(async () => {
      server = await startServer(kind);
    });
    beforeEach(() => {
      for (const name of fs.readdirSync(server.root)) fs.rmSync(local(name), { recursive: true, force: true });
      fs.writeFileSync(local('real.txt'), 'hello');
      fs.mkdirSync(local('dir'));
      fs.writeFileSync(local('dir/inner.txt'), 'inner');
      fs.mkdirSync(local('sub'));
      fs.symlinkSync('real.txt', local('file-link'));
      fs.symlinkSync('dir', local('dir-link'));
      fs.symlinkSync('nothing-here', local('dangling'));
      fs.symlinkSync('../dir/inner.txt', local('sub/up-link'));
      server.giveToUser();
      const pool = new ConnectionPool<FtpClient>((mode) => FtpClient.connect({ host: server.host, port: server.port, user: server.user, password: server.password, security: 'none', mode }), { mode: 'passive' });
      remote = new RemoteFs(pool, { cacheTtlMs: 5000 });
    });
    afterEach(() => remote.pool.close());
    after(() => server?.stop());

    it("lists links with their target's type, and a dangling one as missing", async () => {
      const types = new Map((await remote.listResolved('/')).map((e) => [e.name, `${e.type}:${e.targetType ?? ''}`]));
      assert.equal(types.get('file-link'), 'symlink:file');
      assert.equal(types.get('dir-link'), 'symlink:directory');
      // proftpd leaves a dangling link out of MLSD altogether.
      if (kind !== 'proftpd') assert.equal(types.get('dangling'), 'symlink:missing');
      else assert.equal(types.has('dangling'), false);
      const sub = await remote.listResolved('/sub');
      assert.deepEqual(sub.map((e) => [e.name, e.targetType]), [['up-link', 'file']]);
    });

    it('stats a link as a link with its target type', async () => {
      await remote.list('/');
      const file = await remote.stat('/file-link');
      assert.equal(file.type, 'file');
      assert.equal(file.symlink, true);
      const dir = await remote.statFromServer('/dir-link');
      assert.equal(dir.type, 'directory');
      assert.equal(dir.symlink, true);
    });

    it('reads the target through a link', async () => {
      assert.equal((await remote.readFile('/file-link')).toString(), 'hello');
      assert.equal((await remote.readFile('/sub/up-link')).toString(), 'inner');
    });

    if (kind === 'proftpd') {
      // proftpd leaves a dangling link out of its listings altogether, so we cannot know it is one:
      // the open fails with proftpd's own words.
      it('fails to open a dangling link with the server\'s reason (proftpd does not list it)', async () => {
        await remote.listResolved('/');
        await assert.rejects(remote.readFile('/dangling'), (e: unknown) => e instanceof FtpError && /550 \/dangling: Not a regular file/.test(e.message));
      });
    } else {
      it('says that a dangling link is broken when it is opened', async () => {
        await remote.listResolved('/');
        await assert.rejects(remote.readFile('/dangling'), (e: unknown) => e instanceof FtpError && e.kind === 'not-found' && /broken symbolic link/.test(e.message));
      });
    }

    it('saves through a link: the link stays a link and its target has the new content', async () => {
      await remote.list('/');
      await remote.writeFile('/file-link', Buffer.from('new content'), { create: false, overwrite: true });
      assert.equal(fs.lstatSync(local('file-link')).isSymbolicLink(), true);
      assert.equal(fs.readlinkSync(local('file-link')), 'real.txt');
      assert.equal(fs.readFileSync(local('real.txt'), 'utf8'), 'new content');
      assert.deepEqual(fs.readdirSync(server.root).filter((n) => n.includes('.ftpw-')), []);
    });

    it('saves through a link in another folder, without a listing beforehand', async () => {
      await remote.writeFile('/sub/up-link', Buffer.from('changed inside'), { create: false, overwrite: true });
      assert.equal(fs.lstatSync(local('sub/up-link')).isSymbolicLink(), true);
      assert.equal(fs.readFileSync(local('dir/inner.txt'), 'utf8'), 'changed inside');
    });

    it('deletes a link to a folder, not the folder nor what is in it', async () => {
      await remote.delete('/dir-link', { recursive: true });
      assert.equal(fs.existsSync(local('dir-link')), false);
      assert.equal(fs.readFileSync(local('dir/inner.txt'), 'utf8'), 'inner');
    });

    it('deletes a link to a file, not the file', async () => {
      await remote.delete('/file-link', { recursive: false });
      assert.equal(fs.existsSync(local('file-link')), false);
      assert.equal(fs.readFileSync(local('real.txt'), 'utf8'), 'hello');
    });
  });
}
