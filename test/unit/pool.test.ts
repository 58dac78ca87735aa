import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as FakeTimers from '@sinonjs/fake-timers';
import { FtpError } from '../../src/ftp/errors';
import { ConnectionPool, type PoolEvent } from '../../src/ftp/pool';
import type { DataMode, FtpEvent } from '../../src/ftp/types';

/** A scripted stand-in for FtpClient: it exercises the pool's queueing, not FTP. */
class FakeClient extends EventEmitter {
  mode: DataMode;
  closed = false;
  noops = 0;
  noopFails = false;
  constructor(
    readonly id: string,
    mode: DataMode,
  ) {
    super();
    this.mode = mode;
  }
  async noop(): Promise<void> {
    this.noops++;
    if (this.noopFails) {
      this.drop();
      throw new FtpError('connection-lost', 'Connection closed by server');
    }
  }
  async close(): Promise<void> {
    this.drop();
  }
  destroy(): void {
    this.drop();
  }
  /** The server hangs up. */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

interface Server {
  clients: FakeClient[];
  connects: number;
  /** Next connect attempts fail with these errors, in order. */
  failures: FtpError[];
  /** Refuse connections beyond this many open ones (like vsftpd max_per_ip). */
  maxPerIp: number;
}

function fakeServer(): { server: Server; factory: (mode: DataMode) => Promise<FakeClient> } {
  const server: Server = { clients: [], connects: 0, failures: [], maxPerIp: Infinity };
  const factory = async (mode: DataMode) => {
    const n = ++server.connects;
    await tick();
    const failure = server.failures.shift();
    if (failure) throw failure;
    if (server.clients.filter((c) => !c.closed).length >= server.maxPerIp) {
      throw new FtpError('busy', '421 There are too many connections from your internet address.', { code: 421 });
    }
    const client = new FakeClient(`c${n}`, mode);
    server.clients.push(client);
    return client;
  };
  return { server, factory };
}

/** One turn of the event loop (setImmediate is left real by the fake clock below). */
const tick = () => new Promise((r) => setImmediate(r));

/** A promise with its resolve exposed, to hold a lent connection as long as a test wants. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

function poolEvents(pool: ConnectionPool<FakeClient>): PoolEvent[] {
  const events: PoolEvent[] = [];
  pool.on('pool', (e: PoolEvent) => events.push(e));
  return events;
}

/** The next pool event that `matches`. */
function nextPoolEvent(pool: ConnectionPool<FakeClient>, matches: (e: PoolEvent) => boolean): Promise<PoolEvent> {
  return new Promise((resolve) => {
    const listener = (e: PoolEvent) => {
      if (!matches(e)) return;
      pool.off('pool', listener);
      resolve(e);
    };
    pool.on('pool', listener);
  });
}

describe('ConnectionPool', () => {
  let pool: ConnectionPool<FakeClient> | undefined;
  /**
   * The pool's idle close, keepalive, probe and busy retry run on this clock: tests move time with
   * `clock.tickAsync`. setImmediate stays real, so the fake server's connects still take a turn.
   */
  let clock: FakeTimers.Clock;
  beforeEach(() => {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
    clock.uninstall();
  });

  it('reuses one connection for sequential work', async () => {
    const { server, factory } = fakeServer();
    pool = new ConnectionPool(factory);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await pool.run(async (c) => c.id));
    assert.deepEqual(ids, ['c1', 'c1', 'c1']);
    assert.equal(server.connects, 1);
    assert.equal(pool.size, 1);
    assert.equal(pool.inUse, 0);
  });

  it('never opens more than the limit and serves the queue in order', async () => {
    const { server, factory } = fakeServer();
    pool = new ConnectionPool(factory, { maxConnections: 2 });
    const hold = gate();
    const order: number[] = [];
    const firstTwo = gate();
    let concurrent = 0;
    let peak = 0;
    const jobs = [0, 1, 2, 3, 4].map((n) =>
      pool!.run(async () => {
        concurrent++;
        peak = Math.max(peak, concurrent);
        order.push(n);
        if (order.length === 2) firstTwo.open();
        if (n < 2) await hold.promise;
        await tick();
        concurrent--;
      }),
    );
    await firstTwo.promise;
    assert.equal(pool.inUse, 2);
    assert.equal(server.connects, 2, 'no third connection was asked for');
    assert.deepEqual(order, [0, 1]);
    hold.open();
    await Promise.all(jobs);
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(server.connects, 2);
  });

  it('closes connections that stay idle', async () => {
    const { server, factory } = fakeServer();
    pool = new ConnectionPool(factory, { idleTimeoutMs: 40, keepaliveMs: 0 });
    await pool.run(async () => undefined);
    assert.equal(pool.size, 1);
    await clock.tickAsync(39);
    assert.equal(pool.size, 1, 'not closed before the idle timeout');
    assert.equal(server.clients[0].closed, false);
    await clock.tickAsync(21); // the timeout plus one sweep (every half timeout)
    assert.equal(pool.size, 0);
    assert.equal(server.clients[0].closed, true);
  });

  it('sends NOOP on idle connections until idle close', async () => {
    const { server, factory } = fakeServer();
    pool = new ConnectionPool(factory, { idleTimeoutMs: 200, keepaliveMs: 40 });
    await pool.run(async () => undefined);
    await clock.tickAsync(39);
    assert.equal(server.clients[0].noops, 0, 'no keepalive before the keepalive period');
    await clock.tickAsync(91);
    assert.ok(server.clients[0].noops >= 2, `expected keepalives, got ${server.clients[0].noops}`);
    await clock.tickAsync(200);
    assert.equal(pool.size, 0, 'keepalive must not keep a connection open past the idle timeout');
  });

  it('replaces a connection the server closed while idle', async () => {
    const { server, factory } = fakeServer();
    pool = new ConnectionPool(factory);
    const events = poolEvents(pool);
    await pool.run(async () => undefined);
    server.clients[0].drop();
    assert.equal(pool.size, 0);
    const id = await pool.run(async (c) => c.id);
    assert.equal(id, 'c2');
    assert.ok(events.some((e) => e.type === 'drop' && e.id === 'c1'));
  });

  it('retries idempotent work once on a fresh connection after the connection was lost', async () => {
    const { server, factory } = fakeServer();
    pool = new ConnectionPool(factory);
    const events = poolEvents(pool);
    let calls = 0;
    const result = await pool.run(
      async (c) => {
        calls++;
        if (calls === 1) {
          c.drop();
          throw new FtpError('connection-lost', '421 Timeout.', { code: 421 });
        }
        return c.id;
      },
      { idempotent: true },
    );
    assert.equal(result, 'c2');
    assert.equal(calls, 2);
    assert.equal(server.connects, 2);
    assert.ok(events.some((e) => e.type === 'reconnect'));
  });

  it('retries only once', async () => {
    const { factory } = fakeServer();
    pool = new ConnectionPool(factory);
    let calls = 0;
    await assert.rejects(
      pool.run(
        async () => {
          calls++;
          throw new FtpError('timeout', 'No reply within 30 s');
        },
        { idempotent: true },
      ),
      (e: unknown) => e instanceof FtpError && e.kind === 'timeout',
    );
    assert.equal(calls, 2);
  });

  it('does not repeat work that is not idempotent', async () => {
    const { factory } = fakeServer();
    pool = new ConnectionPool(factory);
    let calls = 0;
    await assert.rejects(
      pool.run(async (c) => {
        calls++;
        c.drop();
        throw new FtpError('connection-lost', 'Connection reset');
      }),
      /Connection reset/,
    );
    assert.equal(calls, 1);
  });

  it('discards a client that lost its connection even if it did not notice yet', async () => {
    const { factory } = fakeServer();
    pool = new ConnectionPool(factory);
    await assert.rejects(
      pool.run(async () => {
        throw new FtpError('connection-lost', 'Connection reset');
      }),
    );
    const id = await pool.run(async (c) => c.id);
    assert.equal(id, 'c2');
  });

  it('probes a long-idle connection before work that cannot be repeated', async () => {
    const { server, factory } = fakeServer();
    pool = new ConnectionPool(factory, { probeAfterIdleMs: 20, keepaliveMs: 0 });
    await pool.run(async () => undefined);
    server.clients[0].noopFails = true; // the server dropped it silently
    await clock.tickAsync(20);
    const id = await pool.run(async (c) => c.id);
    assert.equal(id, 'c2');
  });

  it('shares one request among identical concurrent idempotent requests', async () => {
    const { factory } = fakeServer();
    pool = new ConnectionPool(factory);
    let calls = 0;
    const reply = gate();
    const stat = () =>
      pool!.run(
        async () => {
          calls++;
          await reply.promise; // the server has not answered the first one yet
          return { size: 42 };
        },
        { idempotent: true, key: 'stat:/a.txt' },
      );
    const both = Promise.all([stat(), stat()]);
    reply.open();
    const [a, b] = await both;
    assert.equal(calls, 1);
    assert.equal(a, b);
    await stat();
    assert.equal(calls, 2, 'a later request is not served from the old one');
  });

  it('shrinks the limit and queues when the server refuses more connections', async () => {
    const { server, factory } = fakeServer();
    server.maxPerIp = 1;
    pool = new ConnectionPool(factory, { maxConnections: 3 });
    const events = poolEvents(pool);
    const hold = gate();
    const shrunkToOne = nextPoolEvent(pool, (e) => e.type === 'shrink' && e.limit === 1);
    const jobs = [0, 1, 2].map(() =>
      pool!.run(async (c) => {
        await hold.promise;
        return c.id;
      }),
    );
    await shrunkToOne;
    assert.equal(pool.limit, 1);
    assert.ok(events.some((e) => e.type === 'shrink' && e.limit === 1));
    hold.open();
    assert.deepEqual(await Promise.all(jobs), ['c1', 'c1', 'c1']);
  });

  it('remembers the limit a refusal taught after its connections closed, for a while, then tries the full limit again', async () => {
    const { server, factory } = fakeServer();
    server.maxPerIp = 2;
    pool = new ConnectionPool(factory, { maxConnections: 4, idleTimeoutMs: 1000, keepaliveMs: 0, limitMemoryMs: 600_000 });
    const events = poolEvents(pool);
    const refusals = () => events.filter((e) => e.type === 'connect-failed').length;
    const burst = async () => {
      const hold = gate();
      const jobs = [0, 1, 2, 3].map(() => pool!.run(() => hold.promise));
      for (let i = 0; i < 50 && pool!.inUse < 2; i++) await tick();
      await tick();
      hold.open();
      await Promise.all(jobs);
      await clock.tickAsync(1500); // idle close: none of ours left
      assert.equal(pool!.size, 0);
    };
    await burst();
    assert.equal(pool.limit, 2);
    const refusedFirst = refusals();
    assert.ok(refusedFirst >= 1);
    await clock.tickAsync(60_000);
    await burst();
    assert.equal(refusals(), refusedFirst, 'within the memory no connection above the limit is tried');
    assert.equal(pool.limit, 2);
    await clock.tickAsync(600_000);
    await burst();
    assert.ok(refusals() > refusedFirst, 'after it the full limit is tried again');
    assert.equal(pool.limit, 2);
  });

  it('waits and retries when every slot of the server is taken by someone else', async () => {
    const { server, factory } = fakeServer();
    server.failures.push(new FtpError('busy', '421 Too many users', { code: 421 }));
    pool = new ConnectionPool(factory, { busyRetryDelaysMs: [20, 20] });
    const events = poolEvents(pool);
    const waiting = nextPoolEvent(pool, (e) => e.type === 'busy-wait');
    const run = pool.run(async (c) => c.id);
    assert.deepEqual(await waiting, { type: 'busy-wait', delayMs: 20, reason: '421 Too many users' });
    await clock.tickAsync(19);
    assert.equal(server.connects, 1, 'no new attempt before the delay');
    await clock.tickAsync(1);
    assert.equal(server.connects, 2);
    const id = await run;
    assert.equal(id, 'c2');
    assert.ok(events.some((e) => e.type === 'busy-wait'));
  });

  it('fails everyone waiting after a login failure, without retrying it', async () => {
    const { server, factory } = fakeServer();
    server.failures.push(new FtpError('login', '530 Login incorrect.', { code: 530 }));
    pool = new ConnectionPool(factory, { maxConnections: 1 });
    const results = await Promise.allSettled([pool.run(async () => 1), pool.run(async () => 2, { idempotent: true })]);
    assert.deepEqual(
      results.map((r) => r.status === 'rejected' && (r.reason as FtpError).kind),
      ['login', 'login'],
    );
    assert.equal(server.connects, 1);
    assert.equal(pool.lastError?.kind, 'login');
  });

  it('sets the mode on idle clients now and on lent clients when they come back', async () => {
    const { server, factory } = fakeServer();
    pool = new ConnectionPool(factory, { mode: 'auto', maxConnections: 2 });
    const hold = gate();
    const busyJob = pool.run(async () => hold.promise); // holds c1
    await pool.run(async () => undefined); // opens c2, which goes back idle
    const [lent, idle] = server.clients;
    pool.setMode('active');
    assert.equal(idle.mode, 'active');
    assert.equal(lent.mode, 'auto');
    hold.open();
    await busyJob;
    assert.equal(lent.mode, 'active');
    const freshMode = await pool.run(async (c) => c.mode);
    assert.equal(freshMode, 'active');
  });

  it('forwards client events and remembers the last concrete mode', async () => {
    const { factory } = fakeServer();
    pool = new ConnectionPool(factory);
    const seen: FtpEvent[] = [];
    pool.on('event', (e: FtpEvent) => seen.push(e));
    await pool.run(async (c) => {
      c.emit('event', { type: 'command', id: c.id, text: 'NOOP' } satisfies FtpEvent);
      c.emit('event', { type: 'data-open', id: c.id, mode: 'active', command: 'EPRT', local: 'a', remote: 'b', tls: false } satisfies FtpEvent);
    });
    assert.deepEqual(
      seen.map((e) => e.type),
      ['command', 'data-open'],
    );
    assert.equal(pool.lastConcreteMode, 'active');
  });

  it('lets a waiter give up while queued', async () => {
    const { factory } = fakeServer();
    pool = new ConnectionPool(factory, { maxConnections: 1 });
    const hold = gate();
    const first = pool.run(async () => hold.promise);
    const controller = new AbortController();
    const second = pool.run(async () => 'ran', { signal: controller.signal });
    await tick();
    controller.abort();
    await assert.rejects(second, (e: unknown) => e instanceof FtpError && e.kind === 'cancelled');
    hold.open();
    await first;
  });

  describe('background lane (search)', () => {
    /** Resolves once `predicate` holds, checked after each turn of the event loop (bounded). */
    const until = async (predicate: () => boolean, what: string) => {
      for (let i = 0; i < 200 && !predicate(); i++) await tick();
      assert.ok(predicate(), `timed out waiting for ${what}`);
    };

    it('holds at most the limit less the reserve, and interactive work gets the rest at once', async () => {
      const { server, factory } = fakeServer();
      pool = new ConnectionPool(factory, { maxConnections: 3, backgroundReserve: 1 });
      const hold = gate();
      const background = [0, 1, 2, 3].map(() => pool!.run(() => hold.promise, { lane: 'background' }));
      await until(() => pool!.backgroundInUse === 2, 'two background connections');
      await tick();
      assert.equal(pool.backgroundInUse, 2, 'no third connection for background work');
      assert.equal(server.connects, 2);
      // The background still holds its two and has two jobs queued: the user's work is not queued behind them.
      assert.equal(await pool.run(async (c) => c.id), 'c3');
      hold.open();
      await Promise.all(background);
      assert.equal(server.connects, 3);
    });

    it('holds no more than backgroundConnections, even when the limit would allow more', async () => {
      const { server, factory } = fakeServer();
      pool = new ConnectionPool(factory, { maxConnections: 5, backgroundReserve: 1, backgroundConnections: 2 });
      assert.equal(pool.backgroundLimit, 2);
      const hold = gate();
      const background = [0, 1, 2, 3].map(() => pool!.run(() => hold.promise, { lane: 'background' }));
      await until(() => pool!.backgroundInUse === 2, 'two background connections');
      await tick();
      assert.equal(pool.backgroundInUse, 2);
      assert.equal(server.connects, 2);
      hold.open();
      await Promise.all(background);
      assert.equal(server.connects, 2);
    });

    it('holds no more than interactiveConnections for interactive work; a search has the rest of the limit', async () => {
      const { server, factory } = fakeServer();
      pool = new ConnectionPool(factory, { maxConnections: 4, backgroundReserve: 1, backgroundConnections: 3, interactiveConnections: 2 });
      const hold = gate();
      const editor = [0, 1, 2, 3].map(() => pool!.run(() => hold.promise));
      await until(() => pool!.inUse === 2, 'two interactive connections');
      await tick();
      assert.equal(server.connects, 2, 'the editor\'s work keeps to its two');
      const search = [0, 1, 2].map(() => pool!.run(() => hold.promise, { lane: 'background' }));
      await until(() => pool!.backgroundInUse === 2, 'the search on the other two');
      await tick();
      assert.equal(server.connects, 4);
      hold.open();
      await Promise.all([...editor, ...search]);
      assert.equal(server.connects, 4);
    });

    it('gives the connections a search opened beyond the user\'s back soon after, and keeps the user\'s for the idle timeout', async () => {
      const { server, factory } = fakeServer();
      pool = new ConnectionPool(factory, {
        maxConnections: 5, backgroundReserve: 1, interactiveConnections: 2, idleTimeoutMs: 60_000, surplusIdleTimeoutMs: 10_000, keepaliveMs: 0,
      });
      const hold = gate();
      const search = [0, 1, 2, 3].map(() => pool!.run(() => hold.promise, { lane: 'background' }));
      await until(() => pool!.backgroundInUse === 4, 'four search connections');
      hold.open();
      await Promise.all(search);
      assert.equal(pool.size, 4);
      await clock.tickAsync(9_000);
      assert.equal(pool.size, 4, 'none closed before the surplus timeout');
      await clock.tickAsync(6_000);
      assert.equal(pool.size, 2, 'the two above interactiveConnections closed');
      assert.equal(server.clients.filter((c) => c.closed).length, 2);
      await clock.tickAsync(40_000);
      assert.equal(pool.size, 2, 'the user\'s two stay until the idle timeout');
      await clock.tickAsync(20_000);
      assert.equal(pool.size, 0);
    });

    it('keeps the user\'s idle connection during a long search (only what the user\'s work could not take is surplus)', async () => {
      const { server, factory } = fakeServer();
      pool = new ConnectionPool(factory, {
        maxConnections: 5, backgroundReserve: 1, backgroundConnections: 3, interactiveConnections: 2, idleTimeoutMs: 60_000, surplusIdleTimeoutMs: 10_000, keepaliveMs: 0,
      });
      const hold = gate();
      const search = [0, 1, 2, 3].map(() => pool!.run(() => hold.promise, { lane: 'background' }));
      await until(() => pool!.backgroundInUse === 3, 'three search connections');
      assert.equal(await pool.run(async (c) => c.id), 'c4', 'the user\'s file opens on a connection of its own');
      await clock.tickAsync(20_000);
      assert.equal(pool.size, 4, 'the idle one is the user\'s to take again while the search holds the others');
      assert.equal(server.clients.filter((c) => c.closed).length, 0);
      hold.open();
      await Promise.all(search);
      await clock.tickAsync(15_000);
      assert.equal(pool.size, 2, 'once the search is over, what the user\'s work cannot hold goes');
    });

    it('takes new limits without closing what is lent, and keeps to the new share from then on', async () => {
      const { server, factory } = fakeServer();
      pool = new ConnectionPool(factory, { maxConnections: 5, backgroundReserve: 1, backgroundConnections: 4, interactiveConnections: 2, keepaliveMs: 0 });
      const first = gate();
      const running = [0, 1, 2, 3].map(() => pool!.run(() => first.promise, { lane: 'background' }));
      await until(() => pool!.backgroundInUse === 4, 'four search connections');
      pool.setLimits({ maxConnections: 3, backgroundConnections: 2 });
      assert.deepEqual([pool.limit, pool.backgroundLimit], [3, 2]);
      assert.equal(server.clients.filter((c) => c.closed).length, 0, 'nothing lent was closed');
      let peak = 0;
      const later = [0, 1, 2, 3, 4, 5].map(() => pool!.run(async () => {
        peak = Math.max(peak, pool!.backgroundInUse);
        await tick();
      }, { lane: 'background' }));
      first.open();
      await Promise.all([...running, ...later]);
      assert.ok(peak <= 2, `the search held ${peak} at once after the change`);
      assert.equal(server.connects, 4, 'no connection opened for the new work');
    });

    it('serves interactive work before background work that queued earlier', async () => {
      const { factory } = fakeServer();
      pool = new ConnectionPool(factory, { maxConnections: 1 });
      const hold = gate();
      const order: string[] = [];
      const first = pool.run(() => hold.promise);
      await until(() => pool!.inUse === 1, 'the first job');
      const jobs = [
        pool.run(async () => void order.push('search 1'), { lane: 'background' }),
        pool.run(async () => void order.push('search 2'), { lane: 'background' }),
        pool.run(async () => void order.push('open file'), { lane: 'interactive' }),
      ];
      await tick();
      hold.open();
      await Promise.all([first, ...jobs]);
      assert.deepEqual(order, ['open file', 'search 1', 'search 2']);
    });

    it('uses its one connection even with a pool of one (it waits its turn, never forever)', async () => {
      const { factory } = fakeServer();
      pool = new ConnectionPool(factory, { maxConnections: 1, backgroundReserve: 1 });
      assert.equal(pool.backgroundLimit, 1);
      assert.equal(await pool.run(async (c) => c.id, { lane: 'background' }), 'c1');
    });

    it('a 421 shrinks the background share, not the connection kept for the user', async () => {
      const { server, factory } = fakeServer();
      server.maxPerIp = 2;
      pool = new ConnectionPool(factory, { maxConnections: 3, backgroundReserve: 1 });
      const user = gate();
      const search = gate();
      const order: string[] = [];
      const editing = pool.run(() => user.promise);
      await until(() => pool!.inUse === 1, 'the user\'s connection');
      const shrunk = nextPoolEvent(pool, (e) => e.type === 'shrink');
      let peakBackground = 0;
      const background = [1, 2, 3].map((n) =>
        pool!.run(async () => {
          peakBackground = Math.max(peakBackground, pool!.backgroundInUse);
          await search.promise;
          order.push(`search ${n}`);
        }, { lane: 'background' }),
      );
      assert.deepEqual(await shrunk, { type: 'shrink', limit: 2, reason: '421 There are too many connections from your internet address.' });
      assert.equal(pool.backgroundLimit, 1, 'the search now has one connection');
      // The user's next action queues behind the user's own, not behind the search's two waiting jobs.
      const save = pool.run(async () => void order.push('save'));
      user.open();
      await save;
      assert.deepEqual(order, ['save'], 'the save ran while the search still waited');
      search.open();
      await Promise.all([editing, ...background]);
      assert.equal(peakBackground, 1);
      assert.deepEqual(order, ['save', 'search 1', 'search 2', 'search 3']);
    });
  });
});
