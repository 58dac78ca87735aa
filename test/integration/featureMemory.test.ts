/**
 * The first EPSV goes out with the login, and the first transfer alone over the data connection it
 * opened: where what the server offered in FEAT is remembered (the pool growing, a reconnect), and
 * on trust for a server not seen before with passiveWithLogin 'always' (the CLI's one-shots).
 * Against vsftpd, proftpd, pure-ftpd and the embedded ftp-srv; a server that does not know EPSV
 * (fault server) costs nothing but the refusal, once.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import type { ConnectOptions, FeatureMemory, FtpEvent, KnownFeatures } from '../../src/ftp/types';
import { FaultServer } from '../support/faultServer';
import { optionsFor } from '../support/realClients';
import { startServer, stopAllServers, type ServerKind } from '../support/realServers';

after(() => stopAllServers());

/** Commands each connection sent before its first reply: what went out with the login. */
function withLogin(events: FtpEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.type === 'reply' && e.code !== 220 && e.code !== 234) break;
    if (e.type === 'command') out.push(e.text.split(' ')[0]);
  }
  return out.filter((c) => c !== 'AUTH');
}

/** What a second connection sends with its login, and for its first listing. */
async function secondConnection(options: ConnectOptions): Promise<{ login: string[]; listing: string[] }> {
  // The pool's first connection: logged in and listed once.
  const first = await FtpClient.connect(options);
  await first.list('/');
  await first.close();
  return firstConnection(options);
}

/** What a connection sends with its login, and for its first listing (the first to this server when nothing came before). */
async function firstConnection(options: ConnectOptions): Promise<{ login: string[]; listing: string[] }> {
  const events: FtpEvent[] = [];
  const second = await FtpClient.connect({ ...options, onEvent: (e) => events.push(e) });
  try {
    const login = withLogin(events);
    await second.settled();
    const before = events.length;
    await second.list('/');
    const sent = events.slice(before).filter((e) => e.type === 'command').map((e) => (e as { text: string }).text.split(' ')[0]);
    // Up to the listing command: the EPSV after it opens the next connection in advance.
    const listing = sent.slice(0, sent.findIndex((c) => c === 'MLSD' || c === 'LIST') + 1);
    return { login, listing };
  } finally {
    await second.close();
  }
}

const REAL: ServerKind[] = ['vsftpd', 'proftpd', 'pure-ftpd'];

describe('the first data connection opened with the login', function () {
  this.timeout(60_000);

  for (const kind of REAL) {
    it(`on ${kind}, the first connection to it: on trust with passiveWithLogin 'always'`, async () => {
      const server = await startServer(kind);
      try {
        const { login, listing } = await firstConnection(optionsFor(server, { mode: 'passive', passiveWithLogin: 'always' }));
        assert.deepEqual(login, ['USER', 'PASS', 'FEAT', 'TYPE', 'EPSV'], 'EPSV in the login\'s write');
        assert.equal(listing.length, 1, `the listing goes out alone: ${JSON.stringify(listing)}`);
      } finally {
        await server.stop();
      }
    });

    it(`on ${kind}, FEAT remembered for the next connection`, async () => {
      const server = await startServer(kind);
      try {
        const { login, listing } = await secondConnection(optionsFor(server, { mode: 'passive' }));
        assert.deepEqual(login, ['USER', 'PASS', 'FEAT', 'TYPE', 'EPSV'], 'EPSV in the login\'s write');
        assert.equal(listing.length, 1, `the listing goes out alone: ${JSON.stringify(listing)}`);
        assert.match(listing[0], /^(MLSD|LIST)$/);
      } finally {
        await server.stop();
      }
    });
  }

  it('on the embedded server (ftp-srv)', async () => {
    const { startDemoServer } = (await import(path.resolve(__dirname, '../../../scripts/demo-server.mjs'))) as { startDemoServer(o: object): Promise<{ host: string; port: number; stop(): Promise<void> }> };
    const demo = await startDemoServer({ port: 0, pasvRange: [31230, 31250] });
    try {
      const { login, listing } = await secondConnection({ host: demo.host, port: demo.port, mode: 'passive' });
      assert.deepEqual(login, ['USER', 'PASS', 'FEAT', 'TYPE', 'EPSV']);
      assert.deepEqual(listing, ['LIST']);
    } finally {
      await demo.stop();
    }
  });

  it('over FTPS (vsftpd, which accepts a data connection only with the control connection\'s TLS session)', async () => {
    const server = await startServer('vsftpd', { tls: 'explicit' });
    try {
      const { login, listing } = await secondConnection(optionsFor(server, { mode: 'passive' }));
      assert.deepEqual(login, ['USER', 'PASS', 'FEAT', 'TYPE', 'PBSZ', 'PROT', 'EPSV']);
      assert.deepEqual(listing, ['LIST']);
    } finally {
      await server.stop();
    }
  });

  it('in active mode sends nothing ahead', async () => {
    const server = await startServer('vsftpd');
    try {
      const { login } = await secondConnection(optionsFor(server, { mode: 'active' }));
      assert.deepEqual(login, ['USER', 'PASS', 'FEAT', 'TYPE']);
    } finally {
      await server.stop();
    }
  });

  it('not for a session that will make no transfer (passiveWithLogin \'never\'), nor for a server not seen before by default', async () => {
    const server = await startServer('vsftpd');
    try {
      assert.deepEqual((await firstConnection(optionsFor(server, { mode: 'passive' }))).login, ['USER', 'PASS', 'FEAT', 'TYPE'], 'not seen before');
      const { login } = await secondConnection(optionsFor(server, { mode: 'passive', passiveWithLogin: 'never' }));
      assert.deepEqual(login, ['USER', 'PASS', 'FEAT', 'TYPE']);
    } finally {
      await server.stop();
    }
  });

  it('kept where the caller says (the extension keeps it across windows), not in the process', async () => {
    const server = await startServer('vsftpd');
    const memory = (): FeatureMemory & { known: Map<string, KnownFeatures> } => {
      const known = new Map<string, KnownFeatures>();
      return { known, get: (k) => known.get(k), set: (k, v) => { if (v) known.set(k, v); else known.delete(k); } };
    };
    try {
      const window1 = memory();
      const first = await FtpClient.connect(optionsFor(server, { mode: 'passive', featureMemory: window1 }));
      await first.list('/');
      await first.close();
      assert.deepEqual([...window1.known.values()], [{ epsv: true }]);
      const login = async (featureMemory: FeatureMemory) => (await firstConnection(optionsFor(server, { mode: 'passive', featureMemory }))).login;
      assert.deepEqual(await login(window1), ['USER', 'PASS', 'FEAT', 'TYPE', 'EPSV'], 'the next window, with the kept memory');
      assert.deepEqual(await login(memory()), ['USER', 'PASS', 'FEAT', 'TYPE'], 'another memory knows nothing of it');
    } finally {
      await server.stop();
    }
  });

  it('a server that does not know EPSV: refused once with the login, then PASV, and nothing sent ahead to it again', async () => {
    const server = await FaultServer.start({ files: { '/a.txt': 'a' }, old: { noEpsv: true } });
    try {
      const options: ConnectOptions = { host: '127.0.0.1', port: server.port, user: server.user, password: server.password, mode: 'passive', passiveWithLogin: 'always' };
      const events: FtpEvent[] = [];
      const c = await FtpClient.connect({ ...options, onEvent: (e) => events.push(e) });
      try {
        assert.deepEqual(withLogin(events), ['USER', 'PASS', 'FEAT', 'TYPE', 'EPSV']);
        assert.deepEqual((await c.list('/')).map((e) => e.name), ['a.txt']);
        assert.equal(server.count('EPSV'), 1, 'the refusal with the login was enough: the listing went straight to PASV');
        assert.ok(events.some((e) => e.type === 'learned' && e.what === 'no-epsv'), 'told in the log');
      } finally {
        await c.close();
      }
      const next: FtpEvent[] = [];
      await (await FtpClient.connect({ ...options, onEvent: (e) => next.push(e) })).close();
      assert.deepEqual(withLogin(next), ['USER', 'PASS', 'FEAT', 'TYPE'], 'remembered: nothing sent ahead');
    } finally {
      await server.stop();
    }
  });

  it('a server that no longer answers EPSV: the listing goes through PASV, and the memory is dropped', async () => {
    const server = await FaultServer.start({ files: { '/a.txt': 'a' } });
    try {
      const options: ConnectOptions = { host: '127.0.0.1', port: server.port, user: server.user, password: server.password, mode: 'passive' };
      await (await FtpClient.connect(options)).close();
      server.handle('EPSV', (ctx) => ctx.session.reply('500 EPSV not understood.'));
      const events: FtpEvent[] = [];
      const c = await FtpClient.connect({ ...options, onEvent: (e) => events.push(e) });
      try {
        assert.deepEqual(withLogin(events), ['USER', 'PASS', 'FEAT', 'TYPE', 'EPSV']);
        assert.deepEqual((await c.list('/')).map((e) => e.name), ['a.txt']);
        assert.ok(server.count('PASV') >= 1, 'fell back to PASV');
      } finally {
        await c.close();
      }
      const third: FtpEvent[] = [];
      const d = await FtpClient.connect({ ...options, onEvent: (e) => third.push(e) });
      await d.close();
      assert.deepEqual(withLogin(third), ['USER', 'PASS', 'FEAT', 'TYPE'], 'nothing sent ahead once the memory was contradicted');
    } finally {
      await server.stop();
    }
  });
});
