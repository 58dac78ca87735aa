/**
 * A hostile or broken server must not crash the client, exhaust its memory, steer its data
 * connections elsewhere, or plant names that leave the folder; hostile names from the user's side
 * never reach the wire; a wrong password is tried once and never shown.
 */
import * as assert from 'node:assert/strict';
import { FtpClient } from '../../src/ftp/client';
import { FtpError } from '../../src/ftp/errors';
import { ConnectionPool } from '../../src/ftp/pool';
import type { ConnectOptions, FtpEvent } from '../../src/ftp/types';
import { RemoteFs } from '../../src/remote/remoteFs';
import { FaultServer, type FaultServerOptions } from '../support/faultServer';
import { eventually, rejectsWith, within } from '../support/assertions';

interface Endpoint { host: string; port: number; user: string; password: string }

function optionsFor(server: Endpoint, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return { host: server.host, port: server.port, user: server.user, password: server.password, connectTimeoutMs: 5000, replyTimeoutMs: 5000, dataConnectTimeoutMs: 2000, ...extra };
}

describe('hostile server replies', function () {
  this.timeout(30_000);
  const servers: FaultServer[] = [];
  const clients: FtpClient[] = [];
  async function start(options: FaultServerOptions = {}): Promise<FaultServer> {
    const s = await FaultServer.start({ files: { '/a.txt': 'hello' }, ...options });
    servers.push(s);
    return s;
  }
  async function connect(server: FaultServer, extra: Partial<ConnectOptions> = {}): Promise<FtpClient> {
    const c = await FtpClient.connect(optionsFor(server, extra));
    clients.push(c);
    return c;
  }
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    for (const s of servers.splice(0)) await s.stop();
  });

  /** Runs `fn` and returns how much the resident set grew meanwhile (bytes). */
  async function rssGrowth(fn: () => Promise<unknown>): Promise<number> {
    global.gc?.();
    const before = process.memoryUsage().rss;
    await fn();
    return process.memoryUsage().rss - before;
  }

  it('refuses an endless multi-line greeting fast, with bounded memory', async () => {
    // No greeting of its own: the session writes continuation lines until the client hangs up.
    const hostile = await start({ greeting: '' });
    const connecting = FtpClient.connect(optionsFor(hostile));
    await eventually(() => hostile.sessions.length > 0, 'the client to connect', { timeoutMs: 5000, intervalMs: 5 });
    const started = Date.now();
    const growth = await rssGrowth(async () => {
      void hostile.sessions[0].endlessReply(220);
      await rejectsWith(connecting, 'protocol');
    });
    const took = Date.now() - started;
    assert.ok(took < 2000, `took ${took} ms`);
    assert.ok(growth < 64 * 1024 * 1024, `rss grew by ${(growth / 1048576).toFixed(1)} MB`);
  });

  it('refuses an endless multi-line reply to a command fast, and the connection is closed', async () => {
    const server = await start();
    const c = await connect(server);
    server.handleOnce('NOOP', (ctx) => ctx.session.endlessReply(200));
    const started = Date.now();
    const growth = await rssGrowth(() => rejectsWith(c.noop(), 'protocol'));
    assert.ok(Date.now() - started < 2000);
    assert.ok(growth < 64 * 1024 * 1024, `rss grew by ${(growth / 1048576).toFixed(1)} MB`);
    const session = server.sessions[0];
    // 'close' only: the client may hang up with a reset, which the socket also reports as an error.
    if (!session.closed) await within(new Promise((r) => session.socket.once('close', r)), 2000, 'the client to hang up on it');
    assert.ok(session.closed, 'the client hung up on it');
  });

  it('refuses a 1 MB reply line without a line end fast, with bounded memory', async () => {
    const server = await start();
    const c = await connect(server);
    server.handleOnce('NOOP', (ctx) => ctx.session.giantLine(1024 * 1024));
    const started = Date.now();
    const growth = await rssGrowth(() => rejectsWith(c.noop(), 'protocol'));
    assert.ok(Date.now() - started < 2000);
    assert.ok(growth < 64 * 1024 * 1024, `rss grew by ${(growth / 1048576).toFixed(1)} MB`);
  });

  const malformed: [string, string, string][] = [
    ['EPSV', 'port out of range', '229 Entering Extended Passive Mode (|||99999|)'],
    ['EPSV', 'no port', '229 Entering Extended Passive Mode (|||)'],
    ['EPSV', 'garbage', '229 whatever'],
    ['PASV', 'garbage', '227 Entering Passive Mode (a,b,c,d,e,f)'],
    ['PASV', 'octet over 255', '227 Entering Passive Mode (127,0,0,1,300,1)'],
    ['PASV', 'port 0', '227 Entering Passive Mode (127,0,0,1,0,0)'],
    ['PASV', 'too few numbers', '227 Entering Passive Mode (127,0,0,1,4)'],
  ];
  for (const [verb, what, reply] of malformed) {
    it(`reports a malformed ${verb} reply (${what}) as a data-channel error`, async () => {
      const server = await start();
      if (verb === 'PASV') server.handle('EPSV', (ctx) => ctx.session.reply('502 EPSV not implemented.'));
      server.handle(verb, (ctx) => ctx.session.reply(reply));
      const c = await connect(server, { mode: 'passive' });
      await rejectsWith(c.list('/'), 'data-channel');
      // Still in step: a command without a data connection works.
      await c.mkdir('/still-works');
      assert.ok(server.dirs.has('/still-works'));
    });
  }

  it('does not follow a PASV reply pointing at another address unless told to', async () => {
    const server = await start({ pasvAddress: '127.0.0.3', extraPasvListen: ['127.0.0.3'] });
    server.handle('EPSV', (ctx) => ctx.session.reply('502 EPSV not implemented.'));
    const c = await connect(server, { mode: 'passive' });
    const warnings: string[] = [];
    c.on('event', (e: FtpEvent) => { if (e.type === 'warning') warnings.push(e.message); });
    assert.equal((await c.readFile('/a.txt')).toString(), 'hello');
    assert.equal(server.dataConnections.at(-1)?.serverAddress, '127.0.0.1', 'connected to the control peer');
    assert.ok(warnings.some((w) => w.includes('127.0.0.3')), warnings.join('\n'));
    // The check can fail: with trustPasvAddress the client does go to the announced address.
    const trusting = await connect(server, { mode: 'passive', trustPasvAddress: true });
    assert.equal((await trusting.readFile('/a.txt')).toString(), 'hello');
    assert.equal(server.dataConnections.at(-1)?.serverAddress, '127.0.0.3');
  });

  for (const mlst of [false, true]) {
    it(`drops hostile names from a ${mlst ? 'MLSD' : 'LIST'} listing`, async () => {
      const server = await start({ mlst });
      const names = ['../escape', 'a/b', '/etc/passwd', '..', '.', 'cr\rname', 'nul\0name', '', ' ../x', 'x/..'];
      const latin1 = Buffer.from('caf\xe9.txt', 'latin1'); // not UTF-8
      const line = (name: string | Buffer) => Buffer.concat([
        Buffer.from(mlst ? 'type=file;size=1;modify=20240102030405; ' : '-rw-r--r--    1 1000     1000            1 Jan 02 03:04 '),
        typeof name === 'string' ? Buffer.from(name) : name,
        Buffer.from('\r\n'),
      ]);
      const listing = Buffer.concat([...names.map(line), line(latin1), line('ok.txt'), line('tab\there'), line(' lead')]);
      server.handle(mlst ? 'MLSD' : 'LIST', (ctx) => ctx.session.sendData(listing));
      const c = await connect(server, { mode: 'passive' });
      const got = (await c.list('/')).map((e) => e.name);
      assert.deepEqual(got.filter((n) => !n.startsWith('caf')), ['ok.txt', 'tab\there', ' lead']);
      for (const n of got) {
        assert.ok(!/[/\0\r\n]/.test(n), JSON.stringify(n));
        assert.ok(n !== '.' && n !== '..');
      }
      // A name that is not UTF-8 makes auto fall back to windows-1252 (src/ftp/charset.ts): it is
      // read as the Latin-1 name it is, and cannot break anything.
      const odd = got.filter((n) => n.startsWith('caf'));
      assert.deepEqual(odd, ['café.txt']);
    });
  }

  it('refuses an active-mode data connection from a third address and takes the real one', async () => {
    const server = await start({ activeDecoyFrom: '127.0.0.2', decoyPayload: Buffer.from('EVIL') });
    const c = await connect(server, { mode: 'active' });
    const warnings: string[] = [];
    c.on('event', (e: FtpEvent) => { if (e.type === 'warning') warnings.push(e.message); });
    assert.equal((await c.readFile('/a.txt')).toString(), 'hello');
    const decoy = server.dataConnections.find((d) => d.kind === 'decoy');
    assert.equal(decoy?.closedByClient, true, 'the decoy was hung up on');
    assert.equal(server.dataConnections.at(-1)?.kind, 'active');
    assert.ok(warnings.some((w) => w.includes('127.0.0.2')), warnings.join('\n'));
  });

  it('fails in active mode when only a third address connects (never reads its bytes)', async () => {
    const server = await start({ activeDecoyFrom: '127.0.0.2', activeDecoyOnly: true });
    const c = await connect(server, { mode: 'active', dataConnectTimeoutMs: 1000 });
    await rejectsWith(c.readFile('/a.txt'), 'data-channel');
    assert.equal(server.dataConnections.find((d) => d.kind === 'decoy')?.closedByClient, true);
  });
});

describe('hostile names from the user side', function () {
  let server: FaultServer;
  let client: FtpClient;
  before(async () => {
    server = await FaultServer.start({ files: { '/important.txt': 'keep me' } });
    client = await FtpClient.connect(optionsFor(server));
  });
  after(async () => {
    client.destroy();
    await server.stop();
  });

  const evil = ['/x\r\nDELE /important.txt', '/x\nDELE /important.txt', '/x\rRMD /', '/nul\0byte'];
  const ops: [string, (name: string) => Promise<unknown>][] = [
    ['readFile', (n) => client.readFile(n)],
    ['upload', (n) => client.upload(n, Buffer.from('x'))],
    ['list', (n) => client.list(n)],
    ['stat', (n) => client.stat(n)],
    ['mkdir', (n) => client.mkdir(n)],
    ['remove', (n) => client.remove(n)],
    ['removeDir', (n) => client.removeDir(n)],
    ['rename from', (n) => client.rename(n, '/y')],
    ['rename to', (n) => client.rename('/important.txt', n)],
    ['chmod', (n) => client.chmod(n, 0o644)],
  ];
  for (const [op, run] of ops) {
    it(`${op} refuses CR, LF and NUL with 'invalid-name' before any command is sent`, async () => {
      const before = server.commands.length;
      for (const name of evil) await rejectsWith(run(name), 'invalid-name');
      assert.deepEqual(server.commands.slice(before), []);
      assert.equal(server.files.get('/important.txt')?.toString(), 'keep me');
    });
  }

  it('through the provider logic too', async () => {
    const pool = new ConnectionPool<FtpClient>((mode) => FtpClient.connect(optionsFor(server, { mode })));
    const remote = new RemoteFs(pool);
    try {
      const before = server.commands.length;
      await rejectsWith(remote.writeFile('/a\r\nDELE /important.txt', Buffer.from('x'), { create: true, overwrite: true }), 'invalid-name');
      await rejectsWith(remote.rename('/important.txt', '/b\nDELE /important.txt', { overwrite: true }), 'invalid-name');
      await rejectsWith(remote.delete('/c\rd', { recursive: false }), 'invalid-name');
      // EPSV goes with the login where an earlier connection to this server found it (features remembered).
      assert.deepEqual(server.commands.slice(before).filter((c) => !['USER', 'PASS', 'FEAT', 'OPTS', 'TYPE', 'EPSV'].includes(c.verb)), []);
      assert.equal(server.files.get('/important.txt')?.toString(), 'keep me');
    } finally {
      await pool.close();
    }
  });
});

describe('wrong password', function () {
  let server: FaultServer;
  beforeEach(async () => {
    server = await FaultServer.start({ password: 'right-Pass-1' });
  });
  afterEach(() => server.stop());

  function checkNoPassword(err: FtpError, password: string): void {
    const everything = JSON.stringify({ m: err.message, t: err.replyText, c: err.command, s: err.stack, cause: String(err.cause ?? '') });
    assert.ok(!everything.includes(password), everything);
  }

  it('one connect is exactly one USER and one PASS, and the error has no password', async () => {
    // A server that echoes the password back must not get it into the error either.
    server.handle('PASS', (ctx) => ctx.session.reply(`530 Login incorrect for password ${ctx.arg}.`));
    const err = await rejectsWith(FtpClient.connect(optionsFor(server, { password: 'wrong-Secret-9' })), 'login');
    checkNoPassword(err, 'wrong-Secret-9');
    assert.equal(server.count('USER'), 1);
    assert.equal(server.count('PASS'), 1);
  });

  for (const maxConnections of [1, 3]) {
    it(`through a pool of ${maxConnections}: queued requests all fail after one attempt per connection, no loop, even for idempotent work`, async () => {
      const pool = new ConnectionPool<FtpClient>((mode) => FtpClient.connect(optionsFor(server, { mode, password: 'wrong-Secret-9' })), { maxConnections, busyRetryDelaysMs: [50, 50, 50] });
      try {
        const results = await Promise.allSettled([0, 1, 2, 3].map(() => pool.run((c) => c.list('/'), { idempotent: true })));
        for (const r of results) {
          assert.equal(r.status, 'rejected');
          const err = (r as PromiseRejectedResult).reason as FtpError;
          assert.ok(err instanceof FtpError && err.kind === 'login', String(err));
          checkNoPassword(err, 'wrong-Secret-9');
        }
        // A quiet period is the behaviour under test: no further attempt may come, and an absence
        // has no event to wait for. 300 ms is six of the pool's 50 ms retry delays.
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(server.count('PASS'), maxConnections, 'one attempt per connection opened at once');
        assert.equal(server.count('USER'), maxConnections);
        await rejectsWith(pool.run((c) => c.list('/'), { idempotent: true }), 'login');
        await new Promise((r) => setTimeout(r, 300)); // the same quiet period: no loop after this attempt either
        assert.equal(server.count('PASS'), maxConnections + 1, 'a later request tries once more, once');
      } finally {
        await pool.close();
      }
    });
  }
});
