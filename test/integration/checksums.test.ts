/**
 * Checksums where the server offers them: proftpd with mod_digest (as Debian's proftpd-core ships
 * it) for the real thing — HASH and XSHA256 against our own SHA-256 of the bytes on its disk, saves
 * verified, Test Connection's step —, vsftpd for a server without any, and the fault server for
 * what no real server does on demand: a digest that does not match, or one listed and refused.
 */
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { diagnose } from '../../src/ftp/diagnose';
import { isFtpError } from '../../src/ftp/errors';
import { ConnectionPool } from '../../src/ftp/pool';
import type { ConnectOptions, DataMode, FtpEvent } from '../../src/ftp/types';
import { RemoteFs } from '../../src/remote/remoteFs';
import { compareContents } from '../../src/sync/contents';
import { FaultServer } from '../support/faultServer';
import { optionsFor, withClient } from '../support/realClients';
import { startServer, stopAllServers, type RunningServer } from '../support/realServers';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

interface Endpoint { host: string; port: number; user: string; password: string }

function remoteFsOver(options: (mode: DataMode, onEvent: (e: FtpEvent) => void) => ConnectOptions, sink?: (e: FtpEvent) => void): RemoteFs {
  const pool = new ConnectionPool<FtpClient>((m, onEvent) => FtpClient.connect({ ...options(m, onEvent), onEvent: (e) => { onEvent(e); sink?.(e); } }), { mode: 'passive', maxConnections: 2 });
  return new RemoteFs(pool, { cacheTtlMs: 5000 });
}

const commandsOf = (events: FtpEvent[]) => events.flatMap((e) => (e.type === 'command' ? [e.text] : []));

after(() => stopAllServers());

describe('checksums on proftpd with mod_digest', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let remote: RemoteFs | undefined;
  const disk = (p: string) => path.join(server.root, p);

  before(async () => {
    server = await startServer('proftpd', { digest: true });
  });
  afterEach(() => remote?.pool.close());
  after(() => server?.stop());

  it('picks SHA-256 by HASH, and XSHA256 for byte ranges, and both agree with ours', async () => {
    const data = randomBytes(300_000);
    fs.writeFileSync(disk('data.bin'), data);
    await withClient(server, {}, async (c, events) => {
      assert.deepEqual(c.checksumMethod(), { algorithm: 'SHA-256', command: 'HASH', ranges: false });
      assert.deepEqual(c.checksumMethod({ ranged: true }), { algorithm: 'SHA-256', command: 'XSHA256', ranges: true });
      assert.deepEqual(await c.checksum('/data.bin'), { algorithm: 'SHA-256', hex: sha256(data) });
      assert.deepEqual(await c.checksum('/data.bin', { start: 0, end: 123_457 }), { algorithm: 'SHA-256', hex: sha256(data.subarray(0, 123_457)) });
      assert.deepEqual(await c.checksum('/data.bin'), { algorithm: 'SHA-256', hex: sha256(data) });
      // The algorithm is chosen once per login.
      assert.deepEqual(commandsOf(events).filter((t) => /^(OPTS HASH|HASH|XSHA256)/.test(t)), ['OPTS HASH SHA-256', 'HASH /data.bin', 'XSHA256 /data.bin 0 123457', 'HASH /data.bin']);
      await assert.rejects(c.checksum('/missing.bin'), (e: unknown) => isFtpError(e, 'not-found'));
    });
  });

  it("verifies a save by the server's checksum of the temporary copy, before it replaces the file", async () => {
    fs.writeFileSync(disk('page.html'), 'old');
    server.giveToUser();
    const events: FtpEvent[] = [];
    remote = remoteFsOver((mode) => optionsFor(server, { mode }), (e) => events.push(e));
    const content = Buffer.from('<p>verified</p>\n'.repeat(1000));
    await remote.writeFile('/page.html', content, { create: false, overwrite: true });
    assert.ok(fs.readFileSync(disk('page.html')).equals(content));
    const commands = commandsOf(events);
    const hash = commands.findIndex((t) => /^HASH \/\.page\.html\.ftpw-/.test(t));
    const rename = commands.findIndex((t) => t.startsWith('RNTO /page.html'));
    assert.ok(hash >= 0 && rename > hash, `HASH of the temporary copy before RNTO: ${commands.join(' | ')}`);

    // A new file (and a sync's upload of one from disk) is verified under its own name.
    const local = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-sum-')), 'big.bin');
    fs.writeFileSync(local, randomBytes(200_000));
    await remote.createFile('/big.bin', { file: local, size: 200_000 });
    assert.ok(commandsOf(events).includes('HASH /big.bin'));
    assert.ok(fs.readFileSync(disk('big.bin')).equals(fs.readFileSync(local)));
  });

  it('tells a sync which never-synced files of the same size hold the same bytes', async () => {
    const localRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-sync-sum-'));
    fs.mkdirSync(disk('site/sub'), { recursive: true });
    fs.mkdirSync(path.join(localRoot, 'sub'));
    const put = (rel: string, here: string, there: string) => {
      fs.writeFileSync(path.join(localRoot, rel), here);
      fs.writeFileSync(disk(`site/${rel}`), there);
    };
    put('same.txt', 'identical', 'identical');
    put('sub/other.txt', 'version A', 'version B');
    remote = remoteFsOver((mode) => optionsFor(server, { mode }));
    const progress: number[] = [];
    const same = await compareContents(['same.txt', 'sub/other.txt', 'gone.txt'], { localRoot, remoteRoot: '/site', remote }, { concurrency: 2, onProgress: (done) => progress.push(done) });
    assert.deepEqual([...same].sort(), [['same.txt', true], ['sub/other.txt', false]]);
    assert.deepEqual(progress, [1, 2]);
  });

  it('is shown by Test Connection', async () => {
    fs.writeFileSync(disk('any.txt'), 'x');
    const d = await diagnose(optionsFor(server, {}));
    const step = d.steps.find((s) => s.name === 'Checksums');
    assert.ok(step?.ok, JSON.stringify(step));
    assert.match(step.detail, /^SHA-256 by HASH, byte ranges by XSHA256: uploads are verified/);
  });
});

describe('checksums on vsftpd (none offered)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  before(async () => { server = await startServer('vsftpd'); });
  after(() => server?.stop());

  it('has no method, answers undefined without sending anything, and Test Connection says so', async () => {
    fs.writeFileSync(path.join(server.root, 'a.txt'), 'a');
    await withClient(server, {}, async (c, events) => {
      assert.equal(c.checksumMethod(), undefined);
      assert.equal(await c.checksum('/a.txt'), undefined);
      assert.deepEqual(commandsOf(events).filter((t) => /HASH|XSHA|XMD5|XCRC/.test(t)), []);
    });
    const pool = new ConnectionPool<FtpClient>((m) => FtpClient.connect(optionsFor(server, { mode: m })), { mode: 'passive' });
    try {
      const same = await compareContents(['a.txt'], { localRoot: os.tmpdir(), remoteRoot: '/', remote: new RemoteFs(pool) }, { concurrency: 2 });
      assert.equal(same.size, 0, 'no checksum: size and time decide');
    } finally {
      await pool.close();
    }
    const step = (await diagnose(optionsFor(server, {}))).steps.find((s) => s.name === 'Checksums');
    assert.equal(step?.absent, true);
    assert.match(step?.detail ?? '', /^none offered .* uploads are checked by size only$/);
  });
});

describe('checksums that do not match (fault server)', function () {
  this.timeout(30_000);
  let server: FaultServer;
  let remote: RemoteFs;
  const original = Buffer.from('the file as it was\n');
  const endpoint = (s: Endpoint) => (mode: DataMode): ConnectOptions => ({ host: s.host, port: s.port, user: s.user, password: s.password, mode });

  beforeEach(async () => {
    server = await FaultServer.start({ checksums: true, files: { '/doc.txt': original } });
    remote = remoteFsOver(endpoint(server));
  });
  afterEach(async () => {
    await remote.pool.close();
    await server.stop();
  });

  /** The server reports the digest of other bytes than it holds, as after corruption on the way. */
  const lie = () => server.handle('HASH', ({ session, arg }) => session.reply(`213 SHA-256 0-1 ${sha256(Buffer.from('something else'))} ${arg}`));

  it('fails a save whose copy arrived damaged and leaves the file as it was, with nothing left behind', async () => {
    lie();
    await assert.rejects(remote.writeFile('/doc.txt', Buffer.from('new content\n'), { create: false, overwrite: true }), (e: unknown) => {
      assert.ok(isFtpError(e, 'server'));
      assert.match(e.message, /^The upload of \/doc\.txt arrived damaged: the server's SHA-256 is [0-9a-f]{64}, the content's is [0-9a-f]{64}; the file on the server was left as it was$/);
      return true;
    });
    assert.ok(server.files.get('/doc.txt')?.equals(original));
    assert.deepEqual([...server.files.keys()], ['/doc.txt']);
  });

  it('removes a new file whose upload arrived damaged', async () => {
    lie();
    await assert.rejects(remote.writeFile('/new.txt', Buffer.from('new\n'), { create: true, overwrite: false }), /arrived damaged.*the upload was removed$/);
    assert.equal(server.files.has('/new.txt'), false);
    await assert.rejects(remote.createFile('/synced.txt', Buffer.from('new\n')), /arrived damaged/);
    assert.equal(server.files.has('/synced.txt'), false);
  });

  it('saves when the digests match, and by size only after the server refuses a checksum it listed', async () => {
    await remote.writeFile('/doc.txt', Buffer.from('checked\n'), { create: false, overwrite: true });
    assert.equal(server.files.get('/doc.txt')?.toString(), 'checked\n');
    assert.equal(server.count('HASH'), 1);
    server.handle('HASH', ({ session }) => session.reply('502 HASH not allowed here.'));
    await remote.writeFile('/doc.txt', Buffer.from('by size\n'), { create: false, overwrite: true });
    await remote.writeFile('/doc.txt', Buffer.from('by size again\n'), { create: false, overwrite: true });
    assert.equal(server.files.get('/doc.txt')?.toString(), 'by size again\n');
    // Refused once per connection: each of the pool's sessions asks at most once more.
    assert.ok(server.count('HASH') <= 3, `HASH sent ${server.count('HASH')} times`);
  });
});
