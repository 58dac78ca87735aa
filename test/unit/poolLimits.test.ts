/**
 * Which failed connects shrink the pool: only the server's own limit reply (421, 530 "too many")
 * does. A refused, failed or timed-out TCP connect, a name that does not resolve, a TLS failure say
 * nothing about a limit (issue 22: a server nobody listened on was reported as "the server refused
 * another connection … using at most 1").
 *
 * The pool gets its clients from a connect function, so each test feeds it the FtpErrors that
 * ControlConnection and errorFromReply produce — and one test lets the real FtpClient.connect fail
 * against a loopback port nothing listens on.
 */
import * as assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import * as net from 'node:net';
import { FtpClient } from '../../src/ftp/client';
import { ProxyError } from '../../src/ftp/proxy';
import { FtpError, errorFromReply, isFtpError } from '../../src/ftp/errors';
import { ConnectionPool, type PoolEvent } from '../../src/ftp/pool';
import type { DataMode } from '../../src/ftp/types';

class FakeClient extends EventEmitter {
  closed = false;
  constructor(
    readonly id: string,
    public mode: DataMode,
  ) {
    super();
  }
  async noop(): Promise<void> {}
  async close(): Promise<void> {
    this.destroy();
  }
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

/** The errors each kind of failed connect produces (messages as control.ts and errors.ts word them). */
const NOT_A_LIMIT: Record<string, () => FtpError> = {
  'a refused TCP connect': () => new FtpError('connect', 'Could not connect to 127.0.0.1:2199: nothing listens on that port — check the port and that the FTP server runs.'),
  'a name that does not resolve': () => new FtpError('connect', 'Could not connect to ftp.nowhere.invalid:21: the host name does not resolve — check its spelling.'),
  'an unreachable network': () => new FtpError('connect', 'Could not connect to 10.255.0.1:21: the network is unreachable — check the network or VPN.'),
  'a timed-out TCP connect': () => new FtpError('timeout', 'Could not connect to 10.255.0.1:21 within 15 s — is the host reachable and the port right?'),
  'no greeting in time': () => new FtpError('timeout', 'No reply from 127.0.0.1 within 15 s.'),
  'a TLS failure': () => new FtpError('tls', 'TLS handshake with 127.0.0.1 failed: wrong version number'),
  'a proxy that is down': () => new ProxyError('unreachable', 'Could not reach the SOCKS5 proxy 10.0.0.9:1080: nothing listens there — check that the proxy runs and that the port is right.'),
  'a proxy that refuses to connect': () => new ProxyError('refused', 'The proxy refused to connect to ftp.example.com:21: not allowed by its rules (SOCKS5 10.0.0.9:1080).'),
};

/**
 * A connect function whose attempts the test settles one by one: `attempts[i].fail(err)` or
 * `.succeed()`, in any order — the way concurrent connects to a real server end.
 */
function scriptedConnects() {
  const attempts: { fail(err: FtpError): void; succeed(): FakeClient }[] = [];
  const started = new EventEmitter();
  const connect = (mode: DataMode): Promise<FakeClient> =>
    new Promise<FakeClient>((resolve, reject) => {
      const n = attempts.length + 1;
      attempts.push({
        fail: reject,
        succeed: () => {
          const client = new FakeClient(`c${n}`, mode);
          resolve(client);
          return client;
        },
      });
      started.emit('attempt', n);
    });
  /** Resolves once `count` attempts have started. */
  const attemptsStarted = async (count: number) => {
    while (attempts.length < count) await once(started, 'attempt');
  };
  return { attempts, connect, attemptsStarted };
}

function recordEvents(pool: ConnectionPool<FakeClient>): PoolEvent[] {
  const events: PoolEvent[] = [];
  pool.on('pool', (e: PoolEvent) => events.push(e));
  return events;
}

/** Resolves with the next pool event of this type. */
function nextPoolEvent<T extends PoolEvent['type']>(pool: ConnectionPool<FakeClient>, type: T): Promise<Extract<PoolEvent, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (e: PoolEvent) => {
      if (e.type !== type) return;
      pool.off('pool', listener);
      resolve(e as Extract<PoolEvent, { type: T }>);
    };
    pool.on('pool', listener);
  });
}

/** A promise and its resolver, to hold a lent connection as long as a test wants. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('ConnectionPool: what shrinks the limit', () => {
  let pool: ConnectionPool<FakeClient> | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  /** A pool of `maxConnections`: one connection logged in and busy, a second request waiting while its connect is under way. */
  async function oneBusyOneWaiting(maxConnections: number) {
    const { attempts, connect, attemptsStarted } = scriptedConnects();
    const p = new ConnectionPool(connect, { maxConnections });
    pool = p;
    const events = recordEvents(p);
    const hold = gate();
    const first = p.run(async (c) => {
      await hold.promise;
      return c.id;
    });
    await attemptsStarted(1);
    attempts[0].succeed();
    await nextPoolEvent(p, 'connect');
    const second = p.run(async (c) => c.id);
    await attemptsStarted(2);
    return { pool: p, attempts, attemptsStarted, events, hold, first, second };
  }

  for (const [what, error] of Object.entries(NOT_A_LIMIT)) {
    it(`${what} while another connect is under way: every request fails with it, the limit stays`, async () => {
      const { attempts, connect, attemptsStarted } = scriptedConnects();
      pool = new ConnectionPool(connect, { maxConnections: 2 });
      const events = recordEvents(pool);
      const runs = [pool.run(async (c) => c.id), pool.run(async (c) => c.id), pool.run(async (c) => c.id)].map((p) =>
        p.then(
          () => 'succeeded',
          (err: unknown) => err,
        ),
      );
      await attemptsStarted(2);
      const first = error();
      attempts[0].fail(first);
      attempts[1].fail(error());
      const results = await Promise.all(runs);
      for (const result of results) assert.ok(isFtpError(result) && result.kind === first.kind && result.message === first.message, `each request fails with "${first.message}", got ${String(result)}`);
      assert.equal(attempts.length, 2, 'no connect attempt per queued request');
      assert.deepEqual(events.filter((e) => e.type === 'shrink'), []);
      assert.equal(pool.limit, 2);
    });
  }

  for (const [what, error] of Object.entries(NOT_A_LIMIT).filter(([, e]) => e().kind !== 'tls')) {
    it(`${what} while one of ours is logged in: the request waits for that one, the limit stays, the next connect is tried`, async () => {
      const { pool: p, attempts, attemptsStarted, events, hold, first, second } = await oneBusyOneWaiting(2);
      const failed = nextPoolEvent(p, 'connect-failed');
      attempts[1].fail(error());
      await failed;
      assert.equal(p.limit, 2);
      hold.open();
      assert.deepEqual(await Promise.all([first, second]), ['c1', 'c1'], 'the waiting request ran on the logged-in connection');
      assert.equal(attempts.length, 2, 'no retry while the only way is to wait');

      // Two at once again: the pool still opens a second connection (it was never capped at 1).
      const release = gate();
      const both = [0, 1].map(() =>
        p.run(async (c) => {
          await release.promise;
          return c.id;
        }),
      );
      await attemptsStarted(3);
      attempts[2].succeed();
      await nextPoolEvent(p, 'connect');
      release.open();
      assert.deepEqual((await Promise.all(both)).sort(), ['c1', 'c3']);
      assert.deepEqual(events.filter((e) => e.type === 'shrink'), []);
    });
  }

  it('a real limit reply still shrinks it: 421 and 530 "too many users" while one of ours is logged in', async () => {
    const limitReplies = [
      errorFromReply({ code: 421, message: 'There are too many connections from your internet address.', text: '421 There are too many connections from your internet address.' }, '(greeting)', 'login'),
      errorFromReply({ code: 530, message: 'Sorry, the maximum number of clients (2) from your host are already connected.', text: '530 Sorry, the maximum number of clients (2) from your host are already connected.' }, 'PASS ****', 'login'),
    ];
    for (const reply of limitReplies) {
      assert.equal(reply.kind, 'busy', `${reply.message} is read as a limit`);
      const { pool: p, attempts, hold, first, second } = await oneBusyOneWaiting(3);
      const shrunk = nextPoolEvent(p, 'shrink');
      attempts[1].fail(reply);
      assert.equal((await shrunk).limit, 1);
      assert.equal(p.limit, 1);
      hold.open();
      assert.deepEqual(await Promise.all([first, second]), ['c1', 'c1']);
      await p.close();
    }
  });

  it('the real FtpClient against a loopback port nothing listens on: both requests fail with "nothing listens", no shrink', async () => {
    const port = await closedPort();
    let connects = 0;
    const realPool = new ConnectionPool<FtpClient>(
      (mode, onEvent) => {
        connects++;
        return FtpClient.connect({ host: '127.0.0.1', port, user: 'user', password: 'secret', mode, onEvent, connectTimeoutMs: 5000 });
      },
      { maxConnections: 2 },
    );
    const events: PoolEvent[] = [];
    realPool.on('pool', (e: PoolEvent) => events.push(e));
    try {
      const results = await Promise.allSettled([realPool.run(async () => 'listed'), realPool.run(async () => 'stat', { idempotent: true })]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.ok(isFtpError(r.reason, 'connect'), String(r.reason));
        assert.match(r.reason.message, /nothing listens on that port/);
      }
      assert.equal(connects, 2);
      assert.deepEqual(events.filter((e) => e.type === 'shrink'), []);
      assert.equal(realPool.limit, 2);
      assert.equal(realPool.lastError?.kind, 'connect');
    } finally {
      await realPool.close();
    }
  });
});

/** A loopback port that was free a moment ago: nothing listens on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
