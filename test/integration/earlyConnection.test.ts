/**
 * ConnectOptions.earlyConnection: a TCP connection started before the client existed (the command
 * line's launcher starts one while it loads) carries the session — plain, explicit and implicit
 * FTPS, on vsftpd, proftpd, pure-ftpd and the embedded server — whether the server greeted into
 * it long before or the connect is still under way.
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { FtpClient } from '../../src/ftp/client';
import type { FtpEvent } from '../../src/ftp/types';
import { startDemoServer } from '../support/demoServer';
import { optionsFor } from '../support/realClients';
import { startServer, stopAllServers, type RunningServer, type ServerKind } from '../support/realServers';

after(() => stopAllServers());

/** Logs in over `early` and lists the root: the session's events. */
async function sessionOver(server: RunningServer, early: net.Socket): Promise<{ events: FtpEvent[] }> {
  const events: FtpEvent[] = [];
  let asked = 0;
  const client = await FtpClient.connect(optionsFor(server, { earlyConnection: () => { asked++; return early; }, onEvent: (e) => events.push(e) }));
  try {
    await client.list('/');
    assert.equal(asked, 1);
    return { events };
  } finally {
    await client.close();
  }
}

describe('a control connection started before the client', function () {
  this.timeout(60_000);

  const cases: [ServerKind, 'explicit' | 'implicit' | undefined][] = [
    ['vsftpd', undefined], ['vsftpd', 'explicit'], ['vsftpd', 'implicit'], ['proftpd', undefined], ['pure-ftpd', 'explicit'],
  ];
  it('the embedded server (ftp-srv): carries the session when the server greeted into it before it was taken', async () => {
    const demo = await startDemoServer({ port: 0, pasvRange: [31260, 31280] });
    try {
      const early = net.connect(demo.port, demo.host);
      await once(early, 'readable');
      const events: FtpEvent[] = [];
      const client = await FtpClient.connect({ host: demo.host, port: demo.port, mode: 'passive', earlyConnection: () => early, onEvent: (e) => events.push(e) });
      try {
        await client.list('/');
      } finally {
        await client.close();
      }
      const connect = events.find((e) => e.type === 'connect');
      assert.equal(connect?.type === 'connect' && connect.early, true);
      assert.ok(early.bytesRead > 100, `the session went over the early socket (${early.bytesRead} bytes read)`);
    } finally {
      await demo.stop();
    }
  });

  for (const [kind, tls] of cases) {
    const name = `${kind}${tls ? ` (${tls} FTPS)` : ''}`;

    it(`${name}: carries the session when the server greeted into it before it was taken`, async () => {
      const server = await startServer(kind, { tls });
      const early = net.connect(server.port, server.host);
      // The greeting (or, implicit FTPS, nothing yet: the server waits for our ClientHello) is in.
      if (!tls || tls === 'explicit') await once(early, 'readable');
      else await once(early, 'connect');
      const before = early.bytesRead;
      const { events } = await sessionOver(server, early);
      const connect = events.find((e) => e.type === 'connect');
      assert.equal(connect?.type === 'connect' && connect.early, true, 'the connect event names the early connection');
      assert.ok(early.bytesRead > before + 100, `the session went over the early socket (${early.bytesRead} bytes read)`);
      assert.equal(events.filter((e) => e.type === 'connect').length, 1, 'no second control connection');
      await server.stop();
    });

    it(`${name}: carries the session when it is taken while still connecting`, async () => {
      const server = await startServer(kind, { tls });
      const early = net.connect(server.port, server.host);
      assert.equal(early.connecting, true);
      const { events } = await sessionOver(server, early);
      assert.ok(events.some((e) => e.type === 'reply' && e.code === 230), 'logged in');
      assert.ok(early.bytesRead > 100);
      await server.stop();
    });
  }
});
