/**
 * Issue #21: each connection a pool adds after its first resumes the first one's TLS session
 * (tickets), with TLS 1.2 and TLS 1.3, and the data connections of every connection resume its
 * control session. TLS 1.3 tickets come after the handshake, TLS 1.2 tickets within it: both
 * paths are checked through the `tls` and `data-open` events (`socket.isSessionReused()`).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import tls from 'node:tls';
import { FtpClient } from '../../src/ftp/client';
import { forgetTlsSessions } from '../../src/ftp/control';
import { ConnectionPool } from '../../src/ftp/pool';
import type { FtpEvent } from '../../src/ftp/types';
import { optionsFor } from '../support/realClients';
import { startServer, stopAllServers, type ServerKind } from '../support/realServers';

type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** Node's ceiling for every TLS socket of this process (our options set only the floor). */
function capTls(version: TlsVersion): () => void {
  const node = tls as { DEFAULT_MAX_VERSION: string };
  const before = node.DEFAULT_MAX_VERSION;
  node.DEFAULT_MAX_VERSION = version;
  return () => { node.DEFAULT_MAX_VERSION = before; };
}

describe('TLS session resumption across a pool\'s connections (#21)', function () {
  this.timeout(120_000);
  after(() => stopAllServers());

  // pure-ftpd resumes TLS 1.2 sessions, but no TLS 1.3 one (its default): there a full handshake each time.
  const cases: Array<[ServerKind, TlsVersion, boolean]> = [
    ['vsftpd', 'TLSv1.2', true], ['vsftpd', 'TLSv1.3', true],
    ['proftpd', 'TLSv1.2', true], ['proftpd', 'TLSv1.3', true],
    ['pure-ftpd', 'TLSv1.2', true], ['pure-ftpd', 'TLSv1.3', false],
  ];
  for (const [kind, version, resumes] of cases) {
    it(`${kind}, ${version}: the connections the pool adds ${resumes ? 'resume the first one\'s session, and their data connections resume theirs' : 'make full handshakes, and work'}`, async () => {
      const uncap = capTls(version);
      const server = await startServer(kind, { tls: 'explicit' });
      const events: FtpEvent[] = [];
      const pool = new ConnectionPool((mode) => FtpClient.connect(optionsFor(server, { mode, tls: { trustedFingerprints: [server.certFingerprint256 as string], minVersion: version }, onEvent: (e) => events.push(e) })), { maxConnections: 3, mode: 'passive' });
      try {
        fs.writeFileSync(path.join(server.root, 'r.txt'), 'resumed');
        server.giveToUser();
        // Nothing an earlier test left: the first connection has no session to offer.
        forgetTlsSessions();
        assert.equal((await pool.run((c) => c.readFile('/r.txt'))).toString(), 'resumed');
        // Three requests held until all three have a connection: the pool must grow to three.
        let inside = 0;
        let allInside!: () => void;
        const together = new Promise<void>((resolve) => { allInside = resolve; });
        await Promise.all([1, 2, 3].map(() => pool.run(async (c) => {
          if (++inside === 3) allInside();
          await together;
          assert.equal((await c.readFile('/r.txt')).toString(), 'resumed');
        })));
        const controls = events.filter((e): e is Extract<FtpEvent, { type: 'tls' }> => e.type === 'tls' && e.channel === 'control');
        assert.equal(controls.length, 3, 'three control connections');
        assert.deepEqual(controls.map((e) => e.protocol), [version, version, version]);
        assert.equal(controls[0].resumed, false, 'the first has nothing to resume');
        assert.deepEqual(controls.slice(1).map((e) => e.resumed), [resumes, resumes], 'the added ones resume the first one\'s session');
        const data = events.filter((e): e is Extract<FtpEvent, { type: 'data-open' }> => e.type === 'data-open');
        assert.ok(data.length >= 4, `a data connection per read (${data.length})`);
        assert.ok(data.every((e) => e.resumed === resumes), 'each data connection resumes its control session');
      } finally {
        await pool.close();
        await server.stop();
        uncap();
      }
    });
  }
});
