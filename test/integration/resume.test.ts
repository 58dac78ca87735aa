/**
 * Resumable transfers (src/ftp/resume.ts). The fault server cuts the connection at random offsets,
 * again and again, in both directions and both data modes: the result must be byte-identical, and
 * a partial copy that is not a prefix must be sent whole. The real servers show REST + RETR, REST +
 * STOR (or APPE) going on from a partial copy an earlier run left.
 */
import * as assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { ConnectionPool } from '../../src/ftp/pool';
import { RemoteFs } from '../../src/remote/remoteFs';
import { downloadResumable, OVERLAP, uploadResumable } from '../../src/ftp/resume';
import type { ConcreteMode, FtpEvent } from '../../src/ftp/types';
import { FaultServer } from '../support/faultServer';
import { withClient } from '../support/realClients';
import { startServer, stopAllServers, type RunningServer, type ServerKind } from '../support/realServers';

const SIZE = 3 * 1024 * 1024 + 12_345;
const CUTS = 3;

let tmp: string;
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-resume-')); });
after(async () => { await stopAllServers(); fs.rmSync(tmp, { recursive: true, force: true }); });

const local = (name: string) => path.join(tmp, name);
const commands = (events: FtpEvent[]) => events.flatMap((e) => (e.type === 'command' ? [e.text] : []));

for (const mode of ['passive', 'active'] as ConcreteMode[]) {
  for (const checksums of [false, true]) {
    describe(`resume after cuts at random offsets (fault server, ${mode}, ${checksums ? 'XSHA256 prefix check' : 'no checksums: overlap read back'})`, function () {
      this.timeout(60_000);
      let server: FaultServer;
      let client: FtpClient;
      const data = randomBytes(SIZE);

      beforeEach(async () => {
        server = await FaultServer.start({ checksums, files: { '/big.bin': data } });
        client = await FtpClient.connect({ host: server.host, port: server.port, user: server.user, password: server.password, mode, connectTimeoutMs: 5000, replyTimeoutMs: 5000, dataConnectTimeoutMs: 3000 });
      });
      afterEach(async () => {
        client.destroy();
        await server.stop();
      });

      it('downloads byte-identical, going on from each cut', async () => {
        const cuts: number[] = [];
        server.handleOnce('RETR', ({ next, session }) => {
          // Somewhere in what this RETR sends (it starts at the REST offset).
          const at = randomInt(1, SIZE - session.rest);
          cuts.push(at);
          return next({ dropAfterBytes: at });
        }, CUTS);
        const target = local(`down-${mode}-${checksums}.bin`);
        const report = await downloadResumable(client, '/big.bin', target, { thresholdBytes: 1024 });
        assert.ok(fs.readFileSync(target).equals(data), `not identical after cuts at ${cuts.join(', ')}`);
        assert.equal(cuts.length, CUTS);
        assert.ok(report.resumedAt.length >= 1, JSON.stringify(report));
        assert.equal(report.restarted, 0);
        assert.equal(report.prefixCheck, checksums ? 'checksum' : 'overlap');
        assert.equal(report.verified, checksums ? 'checksum' : 'size');
        assert.ok(report.bytes < SIZE * 2, `moved ${report.bytes} bytes for ${SIZE}: resumed, not restarted`);
      });

      it('uploads byte-identical, going on from each cut (REST + STOR)', async () => {
        const cuts: number[] = [];
        server.handleOnce('STOR', ({ next, arg, session }) => {
          if (arg !== '/up.bin') return next();
          const at = randomInt(1, SIZE - session.rest);
          cuts.push(at);
          return next({ dropAfterBytes: at });
        }, CUTS);
        const source = local(`up-${mode}-${checksums}.bin`);
        fs.writeFileSync(source, data);
        const report = await uploadResumable(client, source, '/up.bin', { thresholdBytes: 1024 });
        assert.ok(server.files.get('/up.bin')?.equals(data), `not identical after cuts at ${cuts.join(', ')}`);
        assert.ok(report.resumedAt.length >= 1, JSON.stringify(report));
        assert.equal(report.restarted, 0);
        assert.equal(report.prefixCheck, checksums ? 'checksum' : 'overlap');
      });

      it('sends whole a partial copy that is not a prefix of the file', async () => {
        // Wrong within the bytes read back before the offset: caught either way.
        const partial = Buffer.from(data.subarray(0, SIZE / 2));
        partial[partial.length - 10] ^= 0xff;
        const target = local(`bad-${mode}-${checksums}.bin`);
        fs.writeFileSync(target, partial);
        const down = await downloadResumable(client, '/big.bin', target, { thresholdBytes: 1024 });
        assert.ok(fs.readFileSync(target).equals(data));
        assert.equal(down.restarted, 1);
        assert.deepEqual(down.resumedAt, []);

        server.writeFile('/up.bin', partial);
        const source = local(`src-${mode}-${checksums}.bin`);
        fs.writeFileSync(source, data);
        const up = await uploadResumable(client, source, '/up.bin', { thresholdBytes: 1024 });
        assert.ok(server.files.get('/up.bin')?.equals(data));
        assert.equal(up.restarted, 1);
      });

      if (checksums) {
        it('catches, by the checksum of the range, a partial copy wrong before the bytes read back', async () => {
          const partial = Buffer.from(data.subarray(0, SIZE / 2));
          partial[10] ^= 0xff;
          const target = local(`early-${mode}.bin`);
          fs.writeFileSync(target, partial);
          const report = await downloadResumable(client, '/big.bin', target, { thresholdBytes: 1024 });
          assert.ok(fs.readFileSync(target).equals(data));
          assert.equal(report.restarted, 1);
          assert.ok(partial.length - 10 > OVERLAP, 'the wrong byte lies before the overlap a read-back would see');
        });
      }
    });
  }
}

describe('resume in the extension\'s file operations (RemoteFs, as linked folders\' sync uses them; fault server)', function () {
  this.timeout(60_000);
  let server: FaultServer;
  let remote: RemoteFs;
  const data = randomBytes(SIZE);
  const cutEach = (verb: 'RETR' | 'STOR', times: number) => server.handleOnce(verb, ({ next, session }) => next({ dropAfterBytes: randomInt(1, SIZE - session.rest) }), times);

  beforeEach(async () => {
    server = await FaultServer.start({ files: { '/big.bin': data, '/old.bin': 'the old copy' } });
    const pool = new ConnectionPool<FtpClient>((mode) => FtpClient.connect({ host: server.host, port: server.port, user: server.user, password: server.password, mode, connectTimeoutMs: 5000, replyTimeoutMs: 5000, dataConnectTimeoutMs: 3000 }), { mode: 'passive', busyRetryDelaysMs: [50] });
    remote = new RemoteFs(pool, { resumeThresholdBytes: 1024 });
  });
  afterEach(async () => {
    await remote.pool.close();
    await server.stop();
  });

  it('a big download goes on after cuts (a second cut used to start over, a third failed)', async () => {
    cutEach('RETR', 3);
    const target = local('remotefs-down.bin');
    assert.equal(await remote.downloadToFile('/big.bin', target, { expectedSize: SIZE }), SIZE);
    assert.ok(fs.readFileSync(target).equals(data));
    assert.ok(server.commands.some((c) => c.verb === 'REST' && c.arg !== '0'), 'went on with REST');
  });

  it('a big upload, new or over a file through its temporary name, goes on after cuts', async () => {
    const source = local('remotefs-up.bin');
    fs.writeFileSync(source, data);
    cutEach('STOR', 3);
    await remote.createFile('/new.bin', { file: source, size: SIZE });
    assert.ok(server.files.get('/new.bin')?.equals(data));
    cutEach('STOR', 2);
    await remote.writeFile('/old.bin', { file: source, size: SIZE }, { create: false, overwrite: true });
    assert.ok(server.files.get('/old.bin')?.equals(data));
    assert.deepEqual([...server.files.keys()].filter((p) => p.includes('.ftpw-')), [], 'no temporary copy left');
    assert.ok(server.commands.filter((c) => c.verb === 'REST' && c.arg !== '0').length >= 2, 'went on with REST');
  });
});

const KINDS: ServerKind[] = ['vsftpd', 'proftpd', 'pure-ftpd'];
for (const kind of KINDS) {
  describe(`resume on ${kind}`, function () {
    this.timeout(60_000);
    let server: RunningServer;
    const data = randomBytes(2 * 1024 * 1024 + 777);
    const half = 1024 * 1024 + 3;

    before(async () => {
      server = await startServer(kind, kind === 'proftpd' ? { digest: true, storeRestart: true } : {});
    });
    after(() => server?.stop());

    it('goes on with REST + RETR from a partial local copy', async () => {
      fs.writeFileSync(path.join(server.root, 'get.bin'), data);
      const target = local(`get-${kind}.bin`);
      fs.writeFileSync(target, data.subarray(0, half));
      await withClient(server, { mode: 'passive' }, async (c, events) => {
        const report = await downloadResumable(c, '/get.bin', target, { thresholdBytes: 1024 });
        assert.ok(fs.readFileSync(target).equals(data));
        assert.deepEqual(report.resumedAt, [half]);
        assert.equal(report.prefixCheck, kind === 'proftpd' ? 'checksum' : 'overlap');
        const rest = kind === 'proftpd' ? `REST ${half}` : `REST ${half - OVERLAP}`;
        assert.ok(commands(events).includes(rest), commands(events).join(' | '));
        assert.ok(report.bytes <= data.length - half, `moved ${report.bytes}`);
      });
    });

    it('goes on from a partial copy on the server (REST + STOR, or APPE where refused)', async () => {
      fs.writeFileSync(path.join(server.root, 'put.bin'), data.subarray(0, half));
      server.giveToUser();
      const source = local(`put-${kind}.bin`);
      fs.writeFileSync(source, data);
      await withClient(server, { mode: 'passive' }, async (c, events) => {
        const report = await uploadResumable(c, source, '/put.bin', { thresholdBytes: 1024 });
        assert.ok(fs.readFileSync(path.join(server.root, 'put.bin')).equals(data));
        assert.deepEqual(report.resumedAt, [half]);
        assert.equal(report.restarted, 0);
        assert.ok(report.bytes <= data.length - half, `moved ${report.bytes}: not sent whole`);
        const sent = commands(events);
        assert.equal(sent[sent.indexOf('STOR /put.bin') - 1], `REST ${half}`, sent.join(' | '));
      });
    });
  });
}

describe('resume on a proftpd that refuses REST + STOR and APPE (its default: no AllowStoreRestart)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  before(async () => { server = await startServer('proftpd'); });
  after(() => server?.stop());

  it('sends the file whole, and says so', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    fs.writeFileSync(path.join(server.root, 'p.bin'), data.subarray(0, 1_000_000));
    server.giveToUser();
    const source = local('proftpd-default.bin');
    fs.writeFileSync(source, data);
    const told: string[] = [];
    await withClient(server, { mode: 'passive' }, async (c, events) => {
      const report = await uploadResumable(c, source, '/p.bin', { thresholdBytes: 1024, onResume: (w) => { if ('restart' in w) told.push(w.restart); } });
      assert.ok(fs.readFileSync(path.join(server.root, 'p.bin')).equals(data));
      assert.deepEqual(report.resumedAt, []);
      assert.equal(report.restarted, 1);
      assert.deepEqual(told, ['the server refuses both REST + STOR and APPE']);
      const sent = commands(events);
      assert.ok(sent.includes('APPE /p.bin'), sent.join(' | '));
    });
  });
});
