/**
 * Where a session's data connections come from. One provider per session: it knows the session's
 * settings and what the server was found to accept (`quirks`), and it owns the passive connection
 * opened in advance — the only place that connection is made, handed out or closed.
 *
 * A transfer asks `open()` for a channel: the connection opened in advance when it can carry this
 * command, else a fresh one (dataChannel.ts). When a passive transfer's data has ended the transfer
 * calls `openNext()`, which sends EPSV at once so that the next transfer finds a connection ready.
 */
import * as net from 'node:net';
import { isIPv6Address } from './address';
import type { ControlConnection } from './control';
import { connectData, DataChannelError, finish, isBogusPasvAddress, parseEpsv, parsePasv, prepareActive, preparePassive, type Context, type DataChannelQuirks, type DataChannelSettings, type PreparedChannel } from './dataChannel';
import type { DirectRead } from './localFile';
import type { Reply } from './reply';
import type { ConcreteMode, FtpEvent } from './types';

export interface ChannelRequest {
  /** The transfer command, e.g. "RETR /a.txt". */
  command: string;
  /** The command may go out with the mode command (nothing such as REST must come between). */
  pipeline: boolean;
  /** A download's own memory to read into, where the socket allows it. */
  directRead?: DirectRead;
  /** A connection opened in advance may carry it (not a stream upload: a stale one would consume the stream). */
  reuse: boolean;
}

export interface ProviderOptions {
  /** host:port: what is learned about the server's TLS data connections is kept per server. */
  serverKey: string;
  settings: DataChannelSettings;
  quirks: DataChannelQuirks;
  /** Open the next passive connection after each passive transfer (ConnectOptions.passiveInAdvance). */
  inAdvance: boolean;
  /** Open the first one with the login (ConnectOptions.passiveWithLogin). */
  withLogin: boolean;
  emit(event: FtpEvent): void;
}

export class DataChannelProvider {
  readonly quirks: DataChannelQuirks;
  private ready?: PassiveInAdvance;
  private control?: ControlConnection;

  constructor(private readonly options: ProviderOptions) {
    this.quirks = options.quirks;
    if (tlsAfterPreliminary.has(options.serverKey)) this.quirks.tlsAfterPreliminary = true;
  }

  /** For FTPS, the data socket is asked for only after the transfer command's 1xx. */
  get tlsAfterPreliminary(): boolean {
    return this.options.settings.secure && this.quirks.tlsAfterPreliminary === true;
  }

  /**
   * A TLS data connection was closed during its handshake, begun after the transfer command: this
   * server wants its 1xx sent before our ClientHello, as in RFC 4217's examples. Remembered for the
   * server; true when that is news (the transfer is worth another try).
   */
  learnTlsAfterPreliminary(): boolean {
    if (!this.options.settings.secure || this.quirks.tlsAfterPreliminary) return false;
    this.quirks.tlsAfterPreliminary = true;
    remember(tlsAfterPreliminary, this.options.serverKey);
    this.options.emit({ type: 'learned', id: this.control?.id ?? '', what: 'tls-after-preliminary', detail: 'the server closed a TLS data connection whose handshake began before its 1xx reply; from now on TLS on data connections starts after it' });
    return true;
  }

  /** The session's control connection, new after each (re)connect; a connection made for the old one is closed. */
  attach(control: ControlConnection, secure: boolean): void {
    // Attached again after the login to the same connection: what it opened with the login stays.
    if (control !== this.control) this.drop();
    this.control = control;
    this.options.settings.secure = secure;
  }

  /**
   * A throwaway provider for diagnostics: the same settings, a copy of what is known about the
   * server (so that what a probe finds does not change the session), nothing opened in advance.
   */
  forProbe(variant: 'EPSV' | 'PASV' | 'EPRT' | 'PORT'): DataChannelProvider {
    const probe = new DataChannelProvider({
      serverKey: this.options.serverKey,
      settings: { ...this.options.settings },
      quirks: { ...this.quirks, skipEpsv: variant === 'PASV', skipEprt: variant === 'PORT', confirmed: new Set(this.quirks.confirmed) },
      inAdvance: false,
      withLogin: false,
      emit: this.options.emit,
    });
    probe.control = this.control;
    return probe;
  }

  private context(): Context {
    if (!this.control) throw new Error('DataChannelProvider used before attach()');
    return { control: this.control, settings: this.options.settings, quirks: this.quirks, emit: this.options.emit };
  }

  /** A data channel for one transfer in `mode`. */
  async open(mode: ConcreteMode, request: ChannelRequest): Promise<PreparedChannel> {
    const ready = this.ready;
    this.ready = undefined;
    if (ready && mode === 'passive' && request.reuse && request.pipeline && ready.alive()) {
      return useInAdvance(this.context(), ready, request.command, request.directRead);
    }
    ready?.close('not usable for this transfer');
    const ctx = this.context();
    return mode === 'passive'
      ? preparePassive(ctx, request.command, request.pipeline, request.directRead)
      : prepareActive(ctx, request.command, request.pipeline);
  }

  /**
   * EPSV (or PASV) goes out now and the data connect starts when it is answered. Resolves with
   * the reply that command got, once the connect has started (or undefined when the server said
   * anything but yes, or nothing was sent). The send and the reply's read are queued
   * synchronously, so commands sent later get their own replies. `first`: the one sent with the login.
   */
  openNext(first = false): Promise<Reply | undefined> {
    const control = this.control;
    if (!(first ? this.options.withLogin : this.options.inAdvance) || !control || control.closed) return Promise.resolve(undefined);
    this.drop();
    let reply: Reply | undefined;
    return openPassiveInAdvance(this.context(), (r) => { reply = r; }).then((ready) => {
      // The session moved on meanwhile (closed, reconnected, dropped): nothing may stay open.
      if (ready && (control !== this.control || control.closed)) ready.close('the session closed');
      else this.ready = ready;
      return reply;
    }, () => reply);
  }

  /** Closes the connection opened in advance, if any. */
  drop(reason = 'the session closed'): void {
    this.ready?.close(reason);
    this.ready = undefined;
  }
}

/** Servers (host:port) whose TLS data connections must wait for the 1xx; a few at most. */
const tlsAfterPreliminary = new Set<string>();

function remember(set: Set<string>, key: string): void {
  set.add(key);
  if (set.size > 64) set.delete(set.values().next().value as string);
}

// ---------------------------------------------------------------- passive, opened in advance

/**
 * A passive data connection opened after a transfer, while the session waits for its next command:
 * the server's EPSV/PASV reply is read, the TCP connect may still be under way. The next transfer
 * command then goes out alone (1 round trip instead of EPSV + connect + command). With FTPS our
 * ClientHello goes out right after the connect too, resuming the control connection's session as
 * always; the server answers it only once it accepts the connection, at the transfer command
 * (vsftpd), so the handshake ends when the connection is used. Like every passive connection it
 * goes to the control peer's address unless the user trusts PASV addresses.
 *
 * Back to back (a search's downloads) the next command leaves the moment the EPSV reply comes, so
 * the connect has only just begun: the server accepts once the handshake's last ACK reaches it, and
 * the 1xx comes 2 round trips after the command. vsftpd's lingering close then holds each 226 (and
 * the EPSV reply behind it) a round trip after the data: ~3 round trips per small file, which
 * sending the EPSV earlier would not shorten there (bench/results-2026-12-07b-search-speed.md).
 */
interface PassiveInAdvance {
  readonly via: 'EPSV' | 'PASV';
  readonly target: string;
  /** The connected socket, or undefined if the connect failed. */
  readonly socket: Promise<net.Socket | undefined>;
  /** The socket's reads, which a download may still take over (see LateDirectRead). */
  readonly reads: LateDirectRead;
  /** Still usable: connecting, or connected and neither closed nor reset by the server. */
  alive(): boolean;
  /** A transfer took it: from now on its end is the transfer's, not news of its own. */
  claim(): void;
  close(reason: string): void;
}

/** A connection opened in advance is used only this long after; the pool closes idle sessions at 60 s by default. */
const IN_ADVANCE_MAX_AGE_MS = 60_000;
/** Keepalive probes on the idle connection, so that NAT and stateful firewalls keep its mapping. */
const IN_ADVANCE_KEEPALIVE_MS = 10_000;

/**
 * Sends EPSV (or PASV where EPSV is known not to work) and starts the connect. Only with a mode
 * command known to work here (FEAT or an earlier success); resolves undefined when the server says
 * anything but yes — the reply was read, so the control connection stays in step.
 */
async function openPassiveInAdvance(ctx: Context, seen: (reply: Reply) => void): Promise<PassiveInAdvance | undefined> {
  const { control, settings, quirks } = ctx;
  const ipv6 = isIPv6Address(control.peerAddress);
  const via = !quirks.skipEpsv ? 'EPSV' : 'PASV';
  if (!quirks.confirmed.has(via) || (via === 'PASV' && ipv6)) return undefined;
  const r = await control.request(via);
  seen(r);
  let host = control.peerAddress;
  let port: number | undefined;
  if (via === 'EPSV') {
    if (r.code !== 229) return undefined;
    port = parseEpsv(r.message);
  } else {
    if (r.code !== 227) return undefined;
    const t = parsePasv(r.message);
    // Same rule as preparePassive: the control peer unless the user trusts the PASV address.
    if (t && settings.trustPasvAddress && !settings.proxy && !isBogusPasvAddress(t.host, control.peerAddress)) host = t.host;
    port = t?.port;
  }
  if (port === undefined) return undefined;
  const target = `${host}:${port}`;
  const event = (state: 'ready' | 'failed' | 'closed', reason?: string) => ctx.emit({ type: 'in-advance', id: control.id, state, via, target, reason });
  let socket: net.Socket | undefined;
  let failed = false;
  let closedBy: string | undefined;
  let claimed = false;
  const since = Date.now();
  const reads = new LateDirectRead();
  const connecting = connectData(ctx, host, port, reads).then((s) => {
    reads.socket = s;
    if (closedBy) { s.destroy(); return undefined; }
    // An idle connection through NAT or a stateful firewall can be forgotten there while both ends
    // still think it open; keepalive probes keep the mapping, and an old one is not used at all.
    s.setKeepAlive(true, IN_ADVANCE_KEEPALIVE_MS);
    socket = s;
    s.once('close', () => { if (!closedBy && !claimed) event('closed', 'the server closed it'); });
    event('ready');
    return s;
  }, (err: Error) => {
    failed = true;
    // Closed before the connect ended (through a proxy it cannot be called off): nothing to tell.
    if (!closedBy) event('failed', (err as NodeJS.ErrnoException).code ?? err.message);
    return undefined;
  });
  return {
    via, target, socket: connecting, reads,
    alive: () => !closedBy && !failed && Date.now() - since < IN_ADVANCE_MAX_AGE_MS && (socket === undefined || !(socket.destroyed || socket.readableEnded)),
    claim: () => { claimed = true; },
    close: (reason) => {
      // Closed by the server already, or failed: that was told when it happened.
      if (!closedBy && !claimed && !failed && !socket?.destroyed) event('closed', reason);
      closedBy ??= reason;
      socket?.destroy();
    },
  };
}

/**
 * The transfer command over a connection opened in advance. If it turns out dead after the command
 * went out, the server answers 425 (in step), or the connect failed and the session is given up
 * (out of step); both are DataChannelErrors, which the session retries with a fresh EPSV (after a
 * reconnect in the second case).
 */
function useInAdvance(ctx: Context, ready: PassiveInAdvance, command: string, directRead: DirectRead | undefined): PreparedChannel {
  // Through a proxy the socket was made without our reads: its bytes come as 'data' events.
  const direct = directRead !== undefined && !ctx.settings.proxy;
  if (direct) ready.reads.target = directRead;
  ready.claim();
  ctx.control.send(command);
  // The command went out and no connection will come: the server waits for one, out of step.
  const socket = ready.socket.then((s) => {
    if (s) return s;
    throw new DataChannelError('passive', `The data connection opened in advance to ${ready.target} did not come about.`, false);
  });
  socket.catch(() => undefined);
  return {
    mode: 'passive',
    commandSent: true,
    direct,
    inAdvance: true,
    socket: async () => finish(ctx, await socket, 'passive', `${ready.via} (in advance) ${command.split(' ')[0]}`),
    close: () => ready.close('the transfer ended'),
  };
}

/**
 * The reads of a passive connection opened in advance, before anyone knows what it will carry. A
 * download to a file takes them over (`target`): the socket then reads straight into the
 * download's blocks, as a passive socket opened for it would — through Node's stream buffers every
 * read would be a fresh allocation, and the download after a first one ran at half speed
 * (bench/findings.md). Anything else gets each read as the socket's own chunk, exactly as a socket
 * without `onread` hands it out.
 */
class LateDirectRead implements DirectRead {
  target?: DirectRead;
  socket?: net.Socket;
  private readonly spare = Buffer.allocUnsafe(64 * 1024);

  // Arrow functions: Node calls these with the socket as `this`.
  readonly buffer = (): Uint8Array => this.target?.buffer() ?? this.spare;

  readonly callback = (n: number, buf: Uint8Array): boolean => {
    const target = this.target;
    if (!target) {
      // What Node does for a socket without onread: a chunk of its own, pushed to the stream.
      return this.socket?.push(Buffer.from(buf.subarray(0, n))) ?? true;
    }
    if (buf !== this.spare) return target.callback(n, buf);
    // Node read into our memory once more after the download took over: hand the bytes on as if read into its own.
    let more = true;
    for (let off = 0; off < n;) {
      const into = target.buffer();
      const k = Math.min(into.length, n - off);
      into.set(buf.subarray(off, off + k));
      more = target.callback(k, into);
      off += k;
    }
    return more;
  };
}
