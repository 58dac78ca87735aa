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
import { DropProxy } from '../support/dropProxy';
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

/**
 * What an Explorer copy runs (src/vscode/ftpFileSystem.ts): VS Code reads the source whole
 * (provider readFile, with the size its stat gave) and writes the target whole (provider writeFile
 * with the bytes), or, between two ftp:// folders of one server, calls the provider's copy
 * (RemoteFs.copy). Each big transfer must go on after cuts at random offsets, byte-identical, and a
 * copy that cannot finish must leave the target as it was, with no temporary file anywhere.
 */
for (const mode of ['passive', 'active'] as ConcreteMode[]) {
  for (const checksums of [false, true]) {
    describe(`resume in Explorer copies (fault server, ${mode}, ${checksums ? 'XSHA256' : 'no checksums'})`, function () {
      this.timeout(60_000);
      let server: FaultServer;
      let remote: RemoteFs;
      let spool: string;
      let tmpBefore: string | undefined;
      const data = randomBytes(SIZE);
      const cuts: Record<string, number[]> = { RETR: [], STOR: [] };
      const cutEach = (verb: 'RETR' | 'STOR', times: number) => server.handleOnce(verb, ({ next, session, arg }) => {
        if (verb === 'STOR' && arg === '/small.txt') return next();
        const at = randomInt(1, SIZE - session.rest);
        cuts[verb].push(at);
        return next({ dropAfterBytes: at });
      }, times);
      const rests = () => server.commands.filter((c) => c.verb === 'REST' && c.arg !== '0').length;

      beforeEach(async () => {
        cuts.RETR = [];
        cuts.STOR = [];
        // The spool's temporary files go here, so the test sees that none is left.
        spool = fs.mkdtempSync(path.join(tmp, 'spool-'));
        tmpBefore = process.env.TMPDIR;
        process.env.TMPDIR = spool;
        server = await FaultServer.start({ checksums, files: { '/big.bin': data, '/old.bin': 'the old copy' } });
        const pool = new ConnectionPool<FtpClient>((m) => FtpClient.connect({ host: server.host, port: server.port, user: server.user, password: server.password, mode: m, connectTimeoutMs: 5000, replyTimeoutMs: 5000, dataConnectTimeoutMs: 3000 }), { mode, busyRetryDelaysMs: [50] });
        remote = new RemoteFs(pool, { resumeThresholdBytes: 1024 * 1024 });
      });
      afterEach(async () => {
        if (tmpBefore === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = tmpBefore;
        await remote.pool.close();
        await server.stop();
      });
      const leftovers = () => [...fs.readdirSync(spool), ...[...server.files.keys()].filter((p) => p.includes('.ftpw-'))];

      it('out of ftp:// (readFile with the stat\'s size): byte-identical after cuts, each going on with REST', async () => {
        cutEach('RETR', CUTS);
        const got = await remote.readFile('/big.bin', { expectedSize: SIZE });
        assert.ok(got.equals(data), `not identical after cuts at ${cuts.RETR.join(', ')}`);
        assert.equal(cuts.RETR.length, CUTS);
        assert.ok(rests() >= 1, 'went on with REST');
        assert.deepEqual(leftovers(), []);
      });

      it('into ftp:// (writeFile with the bytes), over a file and as a new one: byte-identical after cuts', async () => {
        cutEach('STOR', CUTS);
        await remote.writeFile('/old.bin', data, { create: true, overwrite: true });
        assert.ok(server.files.get('/old.bin')?.equals(data), `not identical after cuts at ${cuts.STOR.join(', ')}`);
        cutEach('STOR', CUTS);
        await remote.writeFile('/new.bin', data, { create: true, overwrite: false });
        assert.ok(server.files.get('/new.bin')?.equals(data), `not identical after cuts at ${cuts.STOR.join(', ')}`);
        assert.ok(rests() >= 2, 'went on with REST');
        assert.deepEqual(leftovers(), []);
      });

      it('within ftp:// (the provider\'s copy): both legs go on after cuts, byte-identical', async () => {
        cutEach('RETR', 2);
        cutEach('STOR', 2);
        await remote.copy('/big.bin', '/copy.bin', { overwrite: false });
        assert.ok(server.files.get('/copy.bin')?.equals(data), `not identical after cuts at RETR ${cuts.RETR.join(', ')} / STOR ${cuts.STOR.join(', ')}`);
        assert.equal(cuts.RETR.length + cuts.STOR.length, 4);
        assert.deepEqual(leftovers(), []);
      });

      it('a copy cut more often than it goes on fails, leaving the target as it was and nothing behind', async () => {
        // Every transfer is cut after a few bytes: more cuts than the resume goes on after.
        const cutAlways = (verb: string) => server.handle(verb, ({ next }) => next({ dropAfterBytes: 1000 }));
        cutAlways('STOR');
        await assert.rejects(remote.writeFile('/old.bin', data, { create: true, overwrite: true }), /connection|lost|closed/i);
        assert.equal(server.files.get('/old.bin')?.toString(), 'the old copy');
        server.clearHandlers();
        cutAlways('RETR');
        await assert.rejects(remote.copy('/big.bin', '/copy2.bin', { overwrite: false }), /connection|lost|closed/i);
        assert.equal(server.files.has('/copy2.bin'), false, 'no partial target');
        assert.deepEqual(leftovers(), []);
      });
    });
  }
}

// proftpd with mod_digest (the prefix checked by XSHA256 of the range) and AllowStoreRestart.
for (const kind of ['vsftpd', 'pure-ftpd', 'proftpd'] as ServerKind[]) {
  describe(`resume in Explorer copies on ${kind}, behind a proxy that cuts the control connection mid-transfer`, function () {
    this.timeout(90_000);
    let server: RunningServer;
    let proxy: DropProxy;
    const data = randomBytes(SIZE);
    before(async () => {
      server = await startServer(kind, kind === 'proftpd' ? { digest: true, storeRestart: true } : {});
      proxy = await DropProxy.start(server);
      fs.writeFileSync(path.join(server.root, 'real-big.bin'), data);
      server.giveToUser();
    });
    after(async () => {
      await proxy?.stop();
      await server?.stop();
    });

    for (const mode of ['passive', 'active'] as ConcreteMode[]) {
      it(`a copy out of the server and one into it go on after a cut at a random offset each, byte-identical (${mode})`, async () => {
        const pool = new ConnectionPool<FtpClient>((m) => FtpClient.connect({ host: proxy.host, port: proxy.port, user: server.user, password: server.password, mode: m, connectTimeoutMs: 5000, replyTimeoutMs: 5000, dataConnectTimeoutMs: 3000 }), { mode, busyRetryDelaysMs: [50] });
        const remote = new RemoteFs(pool, { resumeThresholdBytes: 1024 * 1024 });
        // Each leg is cut once, somewhere in its bytes: the proxy drops the control connection.
        const cutAt = new Map<string, number>();
        const onProgress = (leg: string) => (bytes: number) => {
          if (!cutAt.has(leg)) cutAt.set(leg, randomInt(64 * 1024, SIZE - 64 * 1024));
          if (bytes >= cutAt.get(leg)! && !cutAt.has(`${leg} done`)) {
            cutAt.set(`${leg} done`, bytes);
            proxy.dropAll();
          }
        };
        try {
          const got = await remote.readFile('/real-big.bin', { expectedSize: SIZE, onProgress: onProgress('read') });
          assert.ok(got.equals(data), 'read byte-identical');
          const target = `/copy-${mode}.bin`;
          await remote.writeFile(target, got, { create: true, overwrite: false, onProgress: onProgress('write') });
          assert.ok(fs.readFileSync(path.join(server.root, target)).equals(data), 'written byte-identical');
          assert.ok(cutAt.has('read done') && cutAt.has('write done'), `both legs were cut: ${JSON.stringify([...cutAt])}`);
          assert.deepEqual(fs.readdirSync(server.root).filter((n) => n.includes('.ftpw-')), []);
        } finally {
          await pool.close();
        }
      });
    }
  });
}

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
