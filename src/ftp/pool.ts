/**
 * Connections per server: a small limit, a fair FIFO queue, idle close, keepalive, transparent
 * reconnect and one retry of idempotent work. Servers cap connections per IP (often 2–8) and answer
 * 421/530 when the cap is hit, so such a reply shrinks the limit instead of failing the user's
 * action; a connect that fails for any other reason never does.
 *
 * Work comes in two lanes. Interactive work (the editor's reads, saves, listings) is served first;
 * background work (a search's walk and downloads) waits behind it and holds at most the limit less
 * `backgroundReserve` connections (at least one), so a search never takes every connection from
 * the user. A 421 that lowers the limit lowers the background's share with it, never the reserve.
 *
 * The pool knows clients only through `PooledClient` and creates them with an injected factory, so
 * it runs (and is tested) in plain Node without a server.
 */
import { EventEmitter } from 'node:events';
import * as defaults from './defaults';
import { FtpError, isFtpError } from './errors';
import type { ConcreteMode, DataMode, FtpEvent } from './types';

/** What the pool needs from a client (FtpClient satisfies it). */
export interface PooledClient {
  readonly id: string;
  mode: DataMode;
  readonly lastMode?: ConcreteMode;
  readonly closed: boolean;
  noop(): Promise<void>;
  close(): Promise<void>;
  destroy(err?: Error): void;
  on(event: 'event', listener: (e: FtpEvent) => void): unknown;
  on(event: 'close', listener: (reason?: Error) => void): unknown;
  off(event: 'event', listener: (e: FtpEvent) => void): unknown;
  off(event: 'close', listener: (reason?: Error) => void): unknown;
}

/**
 * Creates and logs in a new client in the given mode. `onEvent` should get the client's events
 * from the first byte (greeting, login), before the pool can subscribe to the client itself.
 */
export type ClientFactory<C extends PooledClient> = (mode: DataMode, onEvent: (e: FtpEvent) => void) => Promise<C>;

export interface PoolOptions {
  /** Most connections at once (default: defaults.poolSize). */
  maxConnections?: number;
  /** Close a connection idle this long (default: defaults.poolIdleTimeoutMs). */
  idleTimeoutMs?: number;
  /**
   * Close a connection above `interactiveConnections` idle this long (default:
   * defaults.poolSurplusIdleTimeoutMs): the connections a search opened beyond the user's own go
   * back to the server soon after the search, not a whole idle timeout later.
   */
  surplusIdleTimeoutMs?: number;
  /**
   * How long a limit the server's refusal (421) taught outlives our connections (default:
   * defaults.poolLimitMemoryMs): the next search within it is not refused again at every connection
   * above it; after it, the pool tries the full limit again (other clients may have held the slots).
   */
  limitMemoryMs?: number;
  /** Send NOOP on a connection idle this long, until idle close (default: defaults.poolKeepaliveMs; 0 = never). */
  keepaliveMs?: number;
  /**
   * Before non-idempotent work, probe with NOOP a connection idle at least this long (default
   * 10 000 ms): servers drop idle sessions silently and such work cannot be retried blindly.
   */
  probeAfterIdleMs?: number;
  /** Delays before retrying a refused connection when none of ours is alive (default 1 s, 2 s, 4 s). */
  busyRetryDelaysMs?: number[];
  /** Initial data mode (default: defaults.dataMode). */
  mode?: DataMode;
  /** Connections background work leaves to interactive work (default: defaults.poolBackgroundReserve). */
  backgroundReserve?: number;
  /** Most connections background work may hold, within the limit less the reserve (default: no further cap). */
  backgroundConnections?: number;
  /**
   * Most connections interactive work may hold (default: the limit): the user's poolSize when the
   * pool was made bigger only so that a search could have connections of its own.
   */
  interactiveConnections?: number;
}

/** Interactive work goes first; background work (search) uses what interactive work leaves. */
export type Lane = 'interactive' | 'background';

export interface RunOptions {
  /** Safe to repeat after a lost connection or a timeout (reads, listings, stat). */
  idempotent?: boolean;
  /**
   * With `idempotent`, for work that is safe to repeat only up to a point (a save's upload, not
   * once its rename went out): asked when it failed whether it may still go again.
   */
  repeatable?: () => boolean;
  /** Identical concurrent idempotent requests with the same key share one request. */
  key?: string;
  /** Aborts waiting in the queue (the work itself gets the signal from the caller). */
  signal?: AbortSignal;
  /** Default 'interactive'. */
  lane?: Lane;
}

export type PoolEvent =
  | { type: 'connect'; id: string; size: number }
  | { type: 'reuse'; id: string }
  | { type: 'drop'; id: string; reason?: string }
  | { type: 'reconnect'; reason: string }
  | { type: 'shrink'; limit: number; reason: string }
  | { type: 'idle-close'; id: string }
  | { type: 'connect-failed'; error: FtpError }
  | { type: 'busy-wait'; delayMs: number; reason: string }
  | { type: 'mode'; mode: DataMode };

interface Waiter<C> {
  lane: Lane;
  resolve(client: C): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface IdleEntry<C> {
  client: C;
  since: number;
  lastPing: number;
}

interface Tracked {
  onEvent(e: FtpEvent): void;
  onClose(reason?: Error): void;
}

const RETRYABLE = new Set(['connection-lost', 'timeout']);

export class ConnectionPool<C extends PooledClient> extends EventEmitter {
  private readonly factory: ClientFactory<C>;
  private maxConnections: number;
  private readonly idleTimeoutMs: number;
  private readonly surplusIdleTimeoutMs: number;
  private readonly limitMemoryMs: number;
  /** When the server last refused a connection over its limit (Date.now()); 0: never. */
  private shrunkAt = 0;
  private readonly keepaliveMs: number;
  private readonly probeAfterIdleMs: number;
  private readonly busyRetryDelaysMs: number[];

  private currentLimit: number;
  private currentMode: DataMode;
  private concreteMode?: ConcreteMode;
  private error?: FtpError;

  private readonly idle: IdleEntry<C>[] = [];
  private readonly busy = new Set<C>();
  /** The lent connections that background work holds. */
  private readonly backgroundBusy = new Set<C>();
  private readonly backgroundReserve: number;
  private backgroundConnections: number;
  private readonly interactiveConnections: number;
  private readonly tracked = new Map<C, Tracked>();
  private readonly waiters: Waiter<C>[] = [];
  private readonly inflight = new Map<string, Promise<unknown>>();
  private connecting = 0;
  private busyRetries = 0;
  private busyRetryTimer?: NodeJS.Timeout;
  /** A connect failed while one of ours was alive: open no more until one of ours comes back or goes. */
  private holdOpens = false;
  private timer?: NodeJS.Timeout;
  private running = 0;
  private disposed = false;

  constructor(factory: ClientFactory<C>, options: PoolOptions = {}) {
    super();
    this.factory = factory;
    this.maxConnections = Math.max(1, options.maxConnections ?? defaults.poolSize);
    this.idleTimeoutMs = options.idleTimeoutMs ?? defaults.poolIdleTimeoutMs;
    this.surplusIdleTimeoutMs = Math.min(this.idleTimeoutMs, options.surplusIdleTimeoutMs ?? defaults.poolSurplusIdleTimeoutMs);
    this.limitMemoryMs = options.limitMemoryMs ?? defaults.poolLimitMemoryMs;
    this.keepaliveMs = options.keepaliveMs ?? defaults.poolKeepaliveMs;
    this.probeAfterIdleMs = options.probeAfterIdleMs ?? 10_000;
    this.busyRetryDelaysMs = options.busyRetryDelaysMs ?? [1000, 2000, 4000];
    this.currentLimit = this.maxConnections;
    this.currentMode = options.mode ?? defaults.dataMode;
    this.backgroundReserve = Math.max(0, options.backgroundReserve ?? defaults.poolBackgroundReserve);
    this.backgroundConnections = Math.max(1, options.backgroundConnections ?? Infinity);
    this.interactiveConnections = Math.max(1, options.interactiveConnections ?? Infinity);
  }

  /** Live connections (idle + lent). */
  get size(): number {
    return this.idle.length + this.busy.size;
  }
  /** Connections lent out right now. */
  get inUse(): number {
    return this.busy.size;
  }
  /** Connections being opened right now. */
  get pending(): number {
    return this.connecting;
  }
  /** Operations running or queued (for a busy indicator). */
  get activity(): number {
    return this.running;
  }
  /** Current limit: the configured maximum, or less after the server refused connections. */
  get limit(): number {
    return this.currentLimit;
  }
  /** Most connections background work may hold now: the limit less the reserve (at most `backgroundConnections`), at least one. */
  get backgroundLimit(): number {
    return Math.max(1, Math.min(this.backgroundConnections, this.currentLimit - this.backgroundReserve));
  }
  /** Most connections interactive work may hold now: the limit, at most `interactiveConnections`. */
  get interactiveLimit(): number {
    return Math.min(this.interactiveConnections, this.currentLimit);
  }
  /** Connections background work holds right now. */
  get backgroundInUse(): number {
    return this.backgroundBusy.size;
  }
  get maxSize(): number {
    return this.maxConnections;
  }
  get lastError(): FtpError | undefined {
    return this.error;
  }
  get mode(): DataMode {
    return this.currentMode;
  }
  /** Concrete mode of the last data connection any of our clients opened. */
  get lastConcreteMode(): ConcreteMode | undefined {
    return this.concreteMode;
  }

  /**
   * New limits (a setting changed), without closing anything: work in progress keeps its
   * connections, no new ones open above the limits, and idle ones above them close as surplus. A
   * lower limit the server taught (421) stays while it is lower.
   */
  setLimits(limits: { maxConnections: number; backgroundConnections?: number }): void {
    const taught = this.currentLimit < this.maxConnections ? this.currentLimit : Infinity;
    this.maxConnections = Math.max(1, limits.maxConnections);
    this.currentLimit = Math.min(this.maxConnections, taught);
    this.backgroundConnections = Math.max(1, limits.backgroundConnections ?? Infinity);
    if (this.idle.length > 0) {
      this.stopTimer();
      this.ensureTimer(); // the surplus period may be new
    }
    this.pump();
  }

  /** New mode for idle and future clients now, for lent ones when they come back. */
  setMode(mode: DataMode): void {
    this.currentMode = mode;
    for (const entry of this.idle) entry.client.mode = mode;
    this.emitPool({ type: 'mode', mode });
    this.emit('state');
  }

  /**
   * Runs `fn` with a lent connection and returns the connection afterwards. Idempotent work is
   * retried once on a fresh connection after a lost connection or a timeout.
   */
  run<T>(fn: (client: C) => Promise<T>, options: RunOptions = {}): Promise<T> {
    // Shared only within a lane: an interactive request must not wait behind a background one.
    const key = options.idempotent && options.key !== undefined ? `${options.lane ?? 'interactive'}:${options.key}` : undefined;
    if (key !== undefined) {
      const shared = this.inflight.get(key);
      if (shared) return shared as Promise<T>;
    }
    const work = this.track(this.execute(fn, options));
    if (key !== undefined) {
      this.inflight.set(key, work);
      const forget = () => {
        if (this.inflight.get(key) === work) this.inflight.delete(key);
      };
      work.then(forget, forget);
    }
    return work;
  }

  /** Closes every connection and fails whatever waits. */
  async close(): Promise<void> {
    this.disposed = true;
    this.stopTimer();
    if (this.busyRetryTimer) clearTimeout(this.busyRetryTimer);
    const err = new FtpError('cancelled', 'The connection pool was closed');
    for (const waiter of this.waiters.splice(0)) this.settle(waiter, undefined, err);
    const clients = [...this.idle.splice(0).map((e) => e.client), ...this.busy];
    this.busy.clear();
    await Promise.all(
      clients.map(async (client) => {
        this.untrack(client);
        try {
          await client.close();
        } catch {
          client.destroy();
        }
      }),
    );
    this.emit('state');
  }

  /** Drops idle connections now (e.g. the user asked to disconnect); lent ones close when returned. */
  async closeIdle(): Promise<void> {
    const entries = this.idle.splice(0);
    await Promise.all(entries.map((e) => this.retire(e.client, 'idle-close')));
    this.emit('state');
  }

  private async track<T>(work: Promise<T>): Promise<T> {
    this.running++;
    this.emit('state');
    try {
      return await work;
    } finally {
      this.running--;
      this.emit('state');
    }
  }

  private async execute<T>(fn: (client: C) => Promise<T>, options: RunOptions): Promise<T> {
    try {
      return await this.attempt(fn, options);
    } catch (err) {
      if (!options.idempotent || options.repeatable?.() === false || !isFtpError(err) || !RETRYABLE.has(err.kind) || options.signal?.aborted) throw err;
      this.emitPool({ type: 'reconnect', reason: err.message });
      return await this.attempt(fn, options);
    }
  }

  private async attempt<T>(fn: (client: C) => Promise<T>, options: RunOptions): Promise<T> {
    let client = await this.acquire(options);
    if (!options.idempotent) client = await this.probe(client, options);
    let ok = false;
    try {
      const result = await fn(client);
      ok = true;
      return result;
    } catch (err) {
      // A lost control connection may not have flagged the client closed yet: never lend it again.
      if (isFtpError(err, 'connection-lost') && !client.closed) client.destroy(err);
      if (isFtpError(err)) this.error = err;
      throw err;
    } finally {
      if (ok && this.error && !client.closed) this.error = undefined;
      this.release(client);
    }
  }

  /** A long-idle connection may be dead: test it before work that must not be repeated. */
  private async probe(client: C, options: RunOptions): Promise<C> {
    const idleFor = this.lastIdleFor.get(client) ?? 0;
    if (idleFor < this.probeAfterIdleMs) return client;
    try {
      await client.noop();
      return client;
    } catch (err) {
      if (!client.closed) client.destroy(err instanceof Error ? err : undefined);
      this.release(client);
      this.emitPool({ type: 'reconnect', reason: 'idle connection no longer answered' });
      return this.acquire(options);
    }
  }

  private readonly lastIdleFor = new WeakMap<C, number>();

  private acquire(options: RunOptions): Promise<C> {
    if (this.disposed) return Promise.reject(new FtpError('cancelled', 'The connection pool was closed'));
    if (options.signal?.aborted) return Promise.reject(new FtpError('cancelled', 'Cancelled'));
    return new Promise<C>((resolve, reject) => {
      const waiter: Waiter<C> = { lane: options.lane ?? 'interactive', resolve, reject, signal: options.signal };
      if (options.signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) {
            this.waiters.splice(i, 1);
            this.settle(waiter, undefined, new FtpError('cancelled', 'Cancelled while waiting for a connection'));
          }
        };
        options.signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.pump();
    });
  }

  private settle(waiter: Waiter<C>, client: C | undefined, err?: unknown): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if (client) waiter.resolve(client);
    else waiter.reject(err);
  }

  /**
   * The waiter to serve next: the first interactive one while interactive work holds less than its
   * share, else the first background one while the background holds less than its share. `take`
   * removes it from the queue.
   */
  private nextWaiter(take: boolean): Waiter<C> | undefined {
    let i = this.interactiveInUse < this.interactiveLimit ? this.waiters.findIndex((w) => w.lane === 'interactive') : -1;
    if (i < 0 && this.backgroundBusy.size < this.backgroundLimit) i = this.waiters.findIndex((w) => w.lane === 'background');
    if (i < 0) return undefined;
    const waiter = this.waiters[i];
    if (take) this.waiters.splice(i, 1);
    return waiter;
  }

  /** Waiters a new connection could serve now: each lane's up to its share. */
  private servableWaiters(): number {
    const interactive = this.waiters.filter((w) => w.lane === 'interactive').length;
    const background = this.waiters.length - interactive;
    return Math.min(interactive, Math.max(0, this.interactiveLimit - this.interactiveInUse)) + Math.min(background, Math.max(0, this.backgroundLimit - this.backgroundBusy.size));
  }

  /** Lent connections that interactive work holds. */
  private get interactiveInUse(): number {
    return this.busy.size - this.backgroundBusy.size;
  }

  /** Lends `client` to the next waiter that may have it; false when none may. */
  private handOver(client: C, idleFor: number): boolean {
    const waiter = this.nextWaiter(true);
    if (!waiter) return false;
    this.lend(client, idleFor, waiter.lane);
    this.settle(waiter, client);
    return true;
  }

  /**
   * With none of ours open, a limit the server taught is forgotten once it is old: the slots it
   * counted may have been other clients'. Within limitMemoryMs it stands, or every search would be
   * refused again at each connection above it.
   */
  private forgetLimitIfIdle(): void {
    if (this.size === 0 && this.connecting === 0 && Date.now() - this.shrunkAt >= this.limitMemoryMs) this.currentLimit = this.maxConnections;
  }

  /** Hands idle connections to waiters in order and opens new ones while under the limit. */
  private pump(): void {
    if (this.currentLimit < this.maxConnections) this.forgetLimitIfIdle();
    while (this.nextWaiter(false)) {
      const entry = this.takeIdle();
      if (!entry) break;
      this.handOver(entry.client, Date.now() - entry.since);
      this.emitPool({ type: 'reuse', id: entry.client.id });
    }
    while (
      this.servableWaiters() > this.connecting &&
      this.size + this.connecting < this.currentLimit &&
      !this.busyRetryTimer &&
      !this.holdOpens &&
      !this.disposed
    ) {
      this.openConnection();
    }
    this.emit('state');
  }

  private takeIdle(): IdleEntry<C> | undefined {
    // Most recently used first, so surplus connections stay idle long enough to be closed.
    while (this.idle.length > 0) {
      const entry = this.idle.pop()!;
      if (!entry.client.closed) return entry;
      this.untrack(entry.client);
      this.emitPool({ type: 'drop', id: entry.client.id, reason: 'closed while idle' });
    }
    return undefined;
  }

  private lend(client: C, idleFor: number, lane: Lane): void {
    this.busy.add(client);
    if (lane === 'background') this.backgroundBusy.add(client);
    this.lastIdleFor.set(client, idleFor);
  }

  private openConnection(): void {
    this.connecting++;
    let attached = false;
    this.factory(this.currentMode, (e) => { if (!attached) this.emit('event', e); }).then(
      (client) => {
        attached = true;
        this.connecting--;
        this.busyRetries = 0;
        this.error = undefined;
        if (this.disposed) {
          void client.close().catch(() => client.destroy());
          return;
        }
        client.mode = this.currentMode;
        this.attach(client);
        // Counted as lent while the event goes out, so `size` includes it.
        this.busy.add(client);
        this.emitPool({ type: 'connect', id: client.id, size: this.size });
        this.busy.delete(client);
        if (!this.handOver(client, 0)) this.parkIdle(client);
        this.pump();
      },
      (err: unknown) => {
        this.connecting--;
        const error = isFtpError(err) ? err : new FtpError('connect', String((err as Error)?.message ?? err), { cause: err });
        this.error = error;
        this.emitPool({ type: 'connect-failed', error });
        this.onConnectFailure(error);
      },
    );
  }

  private onConnectFailure(error: FtpError): void {
    if (this.disposed) return;
    const live = this.size + this.connecting;
    // Only the server's own words (421, 530 "too many") say that it allows no more connections.
    // A refused, failed or timed-out TCP connect, a name that does not resolve or a TLS failure
    // says nothing about a limit: taking it for one would shrink the pool for good on a network
    // hiccup, and on a server that cannot be reached at all it hid the real failure behind
    // "the server refused another connection".
    if (error.kind === 'busy' && live > 0) {
      // The server allows no more than we have: wait for ours instead of failing.
      const limit = Math.max(1, live);
      this.shrunkAt = Date.now();
      if (limit < this.currentLimit) {
        this.currentLimit = limit;
        this.emitPool({ type: 'shrink', limit, reason: error.message });
      }
      this.pump();
      return;
    }
    // A connection cut during greeting or login is a network hiccup, not the server's answer: like
    // a busy server, it is worth a few delayed tries before anyone waiting is failed for it.
    const transient = error.kind === 'busy' || error.kind === 'connection-lost';
    if (transient && this.busyRetries < this.busyRetryDelaysMs.length) {
      // Other clients hold all the server's slots, or the network dropped us: wait a little and try again.
      const delayMs = this.busyRetryDelaysMs[this.busyRetries++];
      this.emitPool({ type: 'busy-wait', delayMs, reason: error.message });
      this.busyRetryTimer = setTimeout(() => {
        this.busyRetryTimer = undefined;
        this.pump();
      }, delayMs);
      this.busyRetryTimer.unref?.();
      return;
    }
    this.busyRetries = 0;
    // Likewise a proxy that refused one more connection: ours through it still work.
    if (this.size > 0 && (error.kind === 'connect' || error.kind === 'timeout' || error.kind === 'proxy')) {
      // One of ours is logged in, so the server is there: what waits can have that connection
      // when it comes back. No new connection until then, or a refused connect would be retried
      // in a tight loop; the limit itself stays (see above).
      this.holdOpens = true;
      this.emit('state');
      return;
    }
    // No connection of ours is logged in and the server did not take this one: everyone waiting
    // would fail the same way (one error for all, not one connect attempt each — and a login
    // failure must not be repeated: servers lock accounts).
    if (this.size === 0) {
      for (const waiter of this.waiters.splice(0)) this.settle(waiter, undefined, error);
    } else {
      const waiter = this.waiters.shift();
      if (waiter) this.settle(waiter, undefined, error);
    }
    this.emit('state');
  }

  private release(client: C): void {
    if (!this.busy.delete(client)) return;
    this.backgroundBusy.delete(client);
    this.holdOpens = false;
    if (client.closed || this.disposed) {
      this.retire(client, client.closed ? 'drop' : 'idle-close').catch(() => undefined);
      this.pump();
      return;
    }
    if (client.mode !== this.currentMode) client.mode = this.currentMode;
    if (this.handOver(client, 0)) {
      this.emitPool({ type: 'reuse', id: client.id });
      this.emit('state');
      return;
    }
    this.parkIdle(client);
  }

  private parkIdle(client: C): void {
    const now = Date.now();
    this.idle.push({ client, since: now, lastPing: now });
    this.ensureTimer();
    this.emit('state');
  }

  private async retire(client: C, why: 'drop' | 'idle-close'): Promise<void> {
    this.untrack(client);
    if (why === 'drop') this.emitPool({ type: 'drop', id: client.id });
    else this.emitPool({ type: 'idle-close', id: client.id });
    this.forgetLimitIfIdle();
    if (!client.closed) {
      try {
        await client.close();
      } catch {
        client.destroy();
      }
    }
  }

  private attach(client: C): void {
    const tracked: Tracked = {
      onEvent: (e) => {
        if (e.type === 'data-open') this.concreteMode = e.mode;
        this.emit('event', e);
      },
      onClose: (reason) => {
        // A connection the server closed while idle leaves the pool at once.
        const i = this.idle.findIndex((entry) => entry.client === client);
        if (i >= 0) {
          this.idle.splice(i, 1);
          this.untrack(client);
          this.emitPool({ type: 'drop', id: client.id, reason: reason?.message });
          this.forgetLimitIfIdle();
          this.emit('state');
        }
      },
    };
    this.tracked.set(client, tracked);
    client.on('event', tracked.onEvent);
    client.on('close', tracked.onClose);
  }

  private untrack(client: C): void {
    const tracked = this.tracked.get(client);
    if (!tracked) return;
    this.tracked.delete(client);
    client.off('event', tracked.onEvent);
    client.off('close', tracked.onClose);
  }

  private ensureTimer(): void {
    if (this.timer || this.disposed) return;
    const periods = [this.idleTimeoutMs, this.keepaliveMs, ...(this.hasSurplus ? [this.surplusIdleTimeoutMs] : [])].filter((ms) => ms > 0);
    const tick = Math.max(10, Math.min(...periods, 5000) / 2);
    this.timer = setInterval(() => this.sweep(), tick);
    this.timer.unref?.();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The pool may hold more connections than interactive work uses: a search's, to close early. */
  private get hasSurplus(): boolean {
    return this.maxConnections > this.interactiveConnections;
  }

  /** Closes connections idle too long; keeps the others alive with NOOP. */
  private sweep(): void {
    const now = Date.now();
    // Idle connections beyond what the user's own work may still take are a search's leftovers;
    // oldest first (the idle list is used most-recent-first, so what stays longest unused is surplus).
    let surplus = this.idle.length - Math.max(0, this.interactiveConnections - this.interactiveInUse);
    for (const entry of [...this.idle]) {
      const idleFor = now - entry.since;
      if (idleFor >= this.idleTimeoutMs || (surplus > 0 && idleFor >= this.surplusIdleTimeoutMs)) {
        surplus--;
        this.idle.splice(this.idle.indexOf(entry), 1);
        void this.retire(entry.client, 'idle-close');
      } else if (this.keepaliveMs > 0 && now - entry.lastPing >= this.keepaliveMs) {
        entry.lastPing = now;
        void this.keepalive(entry);
      }
    }
    if (this.idle.length === 0) this.stopTimer();
    this.emit('state');
  }

  private async keepalive(entry: IdleEntry<C>): Promise<void> {
    // Lent to itself for the NOOP so nobody else writes on it meanwhile.
    const i = this.idle.indexOf(entry);
    if (i < 0) return;
    this.idle.splice(i, 1);
    this.busy.add(entry.client);
    try {
      await entry.client.noop();
    } catch {
      if (!entry.client.closed) entry.client.destroy();
    }
    if (!this.busy.delete(entry.client)) return;
    if (entry.client.closed || this.disposed) {
      void this.retire(entry.client, 'drop');
      this.pump();
      return;
    }
    if (this.handOver(entry.client, 0)) return;
    // Idle time keeps counting from the last real use: keepalive must not keep a connection forever.
    this.idle.push(entry);
    this.ensureTimer();
  }

  private emitPool(event: PoolEvent): void {
    this.emit('pool', event);
  }
}
