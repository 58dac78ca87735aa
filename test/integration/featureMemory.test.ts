/**
 * The first EPSV goes out with the login, and the first transfer alone over the data connection it
 * opened: where what the server offered in FEAT is remembered (the pool growing, a reconnect), and
 * on trust for a server not seen before with passiveWithLogin 'always' (the CLI's one-shots).
 * Against vsftpd, proftpd, pure-ftpd and the embedded ftp-srv; a server that does not know EPSV
 * (fault server) costs nothing but the refusal, once.
 */
import * as assert from 'node:assert/strict';
import { FtpClient } from '../../src/ftp/client';
import { forgetTlsGroups } from '../../src/ftp/control';
import type { ConnectOptions, FeatureMemory, FtpEvent, KnownFeatures } from '../../src/ftp/types';
import { startDemoServer } from '../support/demoServer';
import { DropProxy } from '../support/dropProxy';
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

/** A FeatureMemory of the caller's own (the extension's across windows), its contents open to the test. */
function memory(): FeatureMemory & { known: Map<string, KnownFeatures> } {
  const known = new Map<string, KnownFeatures>();
  return { known, get: (k) => known.get(k), set: (k, v) => { if (v) known.set(k, v); else known.delete(k); } };
}

/** Whether the session sent RETR before FEAT's answer (211) came. */
function retrBeforeFeatAnswer(events: FtpEvent[]): boolean {
  const sentRetr = events.findIndex((e) => e.type === 'command' && e.text.startsWith('RETR'));
  const featAnswered = events.findIndex((e) => e.type === 'reply' && e.code === 211);
  assert.ok(sentRetr >= 0 && featAnswered >= 0, 'both RETR and FEAT\'s answer are in the log');
  return sentRetr < featAnswered;
}

const REAL: ServerKind[] = ['vsftpd', 'proftpd', 'pure-ftpd'];

describe('the first data connection opened with the login', function () {
  this.timeout(60_000);

  for (const kind of REAL) {
    it(`on ${kind}, the first connection to it: on trust with passiveWithLogin 'always'`, async () => {
      const server = await startServer(kind);
      try {
        const { login, listing } = await firstConnection(optionsFor(server, { mode: 'passive', passiveWithLogin: 'always' }));
        assert.deepEqual(login, ['USER', 'PASS', 'TYPE', 'EPSV', 'FEAT'], 'EPSV in the login\'s write, FEAT behind it');
        assert.equal(listing.length, 1, `the listing goes out alone: ${JSON.stringify(listing)}`);
      } finally {
        await server.stop();
      }
    });

    it(`on ${kind}, FEAT remembered for the next connection`, async () => {
      const server = await startServer(kind);
      try {
        const { login, listing } = await secondConnection(optionsFor(server, { mode: 'passive' }));
        // proftpd and pure-ftpd list UTF8: remembered, OPTS UTF8 ON goes with the login too.
        assert.deepEqual(login, ['USER', 'PASS', ...(kind === 'vsftpd' ? [] : ['OPTS']), 'TYPE', 'EPSV', 'FEAT'], 'EPSV in the login\'s write');
        assert.equal(listing.length, 1, `the listing goes out alone: ${JSON.stringify(listing)}`);
        assert.match(listing[0], /^(MLSD|LIST)$/);
      } finally {
        await server.stop();
      }
    });
  }

  it('on the embedded server (ftp-srv)', async () => {
    const demo = await startDemoServer({ port: 0, pasvRange: [31230, 31250] });
    try {
      const { login, listing } = await secondConnection({ host: demo.host, port: demo.port, mode: 'passive' });
      assert.deepEqual(login, ['USER', 'PASS', 'OPTS', 'TYPE', 'EPSV', 'FEAT']);
      assert.deepEqual(listing, ['LIST']);
    } finally {
      await demo.stop();
    }
  });

  it('over FTPS (vsftpd, which accepts a data connection only with the control connection\'s TLS session)', async () => {
    const server = await startServer('vsftpd', { tls: 'explicit' });
    try {
      const { login, listing } = await secondConnection(optionsFor(server, { mode: 'passive' }));
      assert.deepEqual(login, ['USER', 'PASS', 'TYPE', 'PBSZ', 'PROT', 'EPSV', 'FEAT']);
      assert.deepEqual(listing, ['LIST']);
    } finally {
      await server.stop();
    }
  });

  it('in active mode sends nothing ahead', async () => {
    const server = await startServer('vsftpd');
    try {
      const { login } = await secondConnection(optionsFor(server, { mode: 'active' }));
      assert.deepEqual(login, ['USER', 'PASS', 'TYPE', 'FEAT']);
    } finally {
      await server.stop();
    }
  });

  it('not for a session that will make no transfer (passiveWithLogin \'never\'), nor for a server not seen before by default', async () => {
    const server = await startServer('vsftpd');
    try {
      assert.deepEqual((await firstConnection(optionsFor(server, { mode: 'passive' }))).login, ['USER', 'PASS', 'TYPE', 'FEAT'], 'not seen before');
      const { login } = await secondConnection(optionsFor(server, { mode: 'passive', passiveWithLogin: 'never' }));
      assert.deepEqual(login, ['USER', 'PASS', 'TYPE', 'FEAT']);
    } finally {
      await server.stop();
    }
  });

  it('kept where the caller says (the extension keeps it across windows), not in the process', async () => {
    const server = await startServer('vsftpd');
    try {
      const window1 = memory();
      const first = await FtpClient.connect(optionsFor(server, { mode: 'passive', featureMemory: window1 }));
      await first.list('/');
      await first.close();
      assert.deepEqual([...window1.known.values()].map((k) => ({ epsv: k.epsv, feat: k.feat?.map(([name]) => name).sort() })), [{ epsv: true, feat: ['EPRT', 'EPSV', 'MDTM', 'PASV', 'REST', 'SIZE', 'TVFS'] }]);
      const login = async (featureMemory: FeatureMemory) => (await firstConnection(optionsFor(server, { mode: 'passive', featureMemory }))).login;
      assert.deepEqual(await login(window1), ['USER', 'PASS', 'TYPE', 'EPSV', 'FEAT'], 'the next window, with the kept memory');
      assert.deepEqual(await login(memory()), ['USER', 'PASS', 'TYPE', 'FEAT'], 'another memory knows nothing of it');
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
        assert.deepEqual(withLogin(events), ['USER', 'PASS', 'TYPE', 'EPSV', 'FEAT']);
        assert.deepEqual((await c.list('/')).map((e) => e.name), ['a.txt']);
        assert.equal(server.count('EPSV'), 1, 'the refusal with the login was enough: the listing went straight to PASV');
        assert.ok(events.some((e) => e.type === 'learned' && e.what === 'no-epsv'), 'told in the log');
      } finally {
        await c.close();
      }
      const next: FtpEvent[] = [];
      await (await FtpClient.connect({ ...options, onEvent: (e) => next.push(e) })).close();
      assert.deepEqual(withLogin(next), ['USER', 'PASS', 'OPTS', 'TYPE', 'FEAT'], 'remembered: nothing sent ahead');
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
        assert.deepEqual(withLogin(events), ['USER', 'PASS', 'OPTS', 'TYPE', 'EPSV', 'FEAT']);
        assert.deepEqual((await c.list('/')).map((e) => e.name), ['a.txt']);
        assert.ok(server.count('PASV') >= 1, 'fell back to PASV');
      } finally {
        await c.close();
      }
      const third: FtpEvent[] = [];
      const d = await FtpClient.connect({ ...options, onEvent: (e) => third.push(e) });
      await d.close();
      assert.deepEqual(withLogin(third), ['USER', 'PASS', 'OPTS', 'TYPE', 'FEAT'], 'nothing sent ahead once the memory was contradicted (the rest of FEAT still remembered)');
    } finally {
      await server.stop();
    }
  });

  it('with FEAT remembered, the first transfer goes out without waiting for FEAT\'s answer, which then refreshes the memory', async () => {
    const server = await FaultServer.start({ files: { '/a.txt': 'a' } });
    try {
      const options: ConnectOptions = { host: '127.0.0.1', port: server.port, user: server.user, password: server.password, mode: 'passive' };
      await (await FtpClient.connect(options)).close();
      // The server now takes its time over FEAT (commands after it wait too, as a real server's would).
      server.handle('FEAT', async (ctx) => { await new Promise((r) => setTimeout(r, 300)); await ctx.next(); });
      const events: FtpEvent[] = [];
      const c = await FtpClient.connect({ ...options, onEvent: (e) => events.push(e) });
      try {
        assert.equal((await c.readFile('/a.txt')).toString(), 'a');
        assert.ok(retrBeforeFeatAnswer(events), `RETR sent before FEAT's answer came: ${JSON.stringify(events.filter((e) => e.type === 'command' || e.type === 'reply').map((e) => (e.type === 'command' ? `> ${e.text}` : `< ${(e as { code: number }).code}`)))}`);
      } finally {
        await c.close();
      }
      // Without a memory, the session waits for FEAT before its first command.
      const fresh: FtpEvent[] = [];
      const d = await FtpClient.connect({ ...options, featureMemory: memory(), onEvent: (e) => fresh.push(e) });
      try {
        await d.readFile('/a.txt');
        assert.ok(!retrBeforeFeatAnswer(fresh), 'a server not seen before: FEAT first');
      } finally {
        await d.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('a server that answers the first command in the middle of FEAT\'s answer (ftp-srv, busy): each command gets its own reply', async () => {
    const server = await FaultServer.start({ files: { '/a.txt': 'hello' } });
    const featureMemory = memory();
    try {
      const options: ConnectOptions = { host: '127.0.0.1', port: server.port, user: server.user, password: server.password, mode: 'passive', featureMemory, replyTimeoutMs: 5_000 };
      await (await FtpClient.connect(options)).close();
      const remembered = [...featureMemory.known.values()][0]?.feat?.map(([name, value]) => ` ${name}${value ? ` ${value}` : ''}\r\n`);
      assert.ok(remembered && remembered.length > 2, 'FEAT remembered after the first login');
      // ftp-srv writes a reply line by line and runs a command that came in a packet of its own at
      // once: the first command's reply lands between FEAT's lines.
      let featRest: string | undefined;
      server.handleOnce('FEAT', (ctx) => {
        ctx.session.raw(`211-Extensions supported\r\n${remembered.slice(0, 2).join('')}`);
        featRest = `${remembered.slice(2).join('')}211 End\r\n`;
      });
      server.handleOnce('SIZE', async (ctx) => {
        await ctx.next();
        ctx.session.raw(featRest ?? '');
      });
      const events: FtpEvent[] = [];
      const c = await FtpClient.connect({ ...options, onEvent: (e) => events.push(e) });
      try {
        const entry = await c.stat('/a.txt');
        assert.deepEqual({ type: entry.type, size: entry.size }, { type: 'file', size: 5 });
        assert.equal(server.count('FEAT'), 2);
        assert.deepEqual((await c.list('/')).map((e) => e.name), ['a.txt']);
        assert.deepEqual(events.filter((e) => e.type === 'learned' || e.type === 'warning'), [], 'FEAT read as it was sent, nothing reconnected');
      } finally {
        await c.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('a server that dropped MLST since the last login: the listing follows this login\'s FEAT (LIST), and the memory with it', async () => {
    const server = await FaultServer.start({ files: { '/a.txt': 'a' }, mlst: true });
    const featureMemory = memory();
    try {
      const options: ConnectOptions = { host: '127.0.0.1', port: server.port, user: server.user, password: server.password, mode: 'passive', featureMemory };
      const first = await FtpClient.connect(options);
      assert.ok(first.features.has('MLST'));
      await first.close();
      // Reconfigured: no MLST/MLSD any more, and slow to answer FEAT, so the listing is asked for on the remembered word.
      server.handle('FEAT', async (ctx) => {
        await new Promise((r) => setTimeout(r, 200));
        ctx.session.raw('211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n MDTM\r\n211 End\r\n');
      });
      server.handle('MLSD', (ctx) => ctx.session.reply('500 MLSD not understood.'));
      const events: FtpEvent[] = [];
      const c = await FtpClient.connect({ ...options, onEvent: (e) => events.push(e) });
      try {
        assert.deepEqual((await c.list('/')).map((e) => e.name), ['a.txt']);
        const sent = events.filter((e) => e.type === 'command').map((e) => (e as { text: string }).text.split(' ')[0]);
        assert.ok(sent.includes('MLSD') && sent.includes('LIST'), `MLSD on the memory's word, then LIST: ${JSON.stringify(sent)}`);
        assert.ok(!c.features.has('MLST'));
        assert.ok(events.some((e) => e.type === 'learned' && e.what === 'features'), 'told in the log');
      } finally {
        await c.close();
      }
      assert.deepEqual([...featureMemory.known.values()].map((k) => k.feat?.map(([name]) => name)), [['EPSV', 'PASV', 'SIZE', 'MDTM']]);
    } finally {
      await server.stop();
    }
  });
});

/**
 * The TLS ClientHellos each connection through `proxy` sent after "AUTH TLS": two on one connection
 * are a HelloRetryRequest (the server wanted another group's key share).
 */
function clientHellos(proxy: DropProxy): number[] {
  return proxy.connections.map((c) => {
    const bytes = Buffer.concat(c.sent);
    let at = bytes.indexOf('AUTH TLS\r\n') + 'AUTH TLS\r\n'.length;
    let hellos = 0;
    while (at + 5 <= bytes.length) {
      const length = bytes.readUInt16BE(at + 3);
      if (bytes[at] === 0x16 && bytes[at + 5] === 0x01) hellos++;
      at += 5 + length;
    }
    return hellos;
  });
}

describe('the TLS group remembered with the features', function () {
  this.timeout(60_000);

  it('vsftpd (P-256 only): a first connection of a later process offers it at once — one ClientHello, no HelloRetryRequest', async () => {
    const server = await startServer('vsftpd', { tls: 'explicit' });
    const proxy = await DropProxy.start(server);
    try {
      const remembered = memory();
      const options = optionsFor(server, { port: proxy.port, mode: 'passive', featureMemory: remembered });
      forgetTlsGroups();
      const first = await FtpClient.connect(options);
      await first.settled();
      await first.close();
      assert.equal([...remembered.known.values()][0]?.tlsGroup, 'P-256', 'remembered with what the server offered');
      // A new process: nothing in this one's memory, the features' memory kept (globalState, servers.json).
      forgetTlsGroups();
      const later = await FtpClient.connect(options);
      await later.list('/');
      await later.close();
      assert.deepEqual(clientHellos(proxy), [2, 1], 'the first handshake was retried for P-256, the later one was not');
    } finally {
      await proxy.stop();
      await server.stop();
    }
  });
});
