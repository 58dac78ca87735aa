/**
 * Data connections, both ways round.
 *
 * Passive: we connect to a port the server opened (EPSV, else PASV). By default we connect to the
 * control connection's peer and ignore the PASV address — servers behind NAT advertise private
 * addresses, and trusting the address would let a hostile server point us elsewhere (FileZilla and
 * curl do the same).
 *
 * Active: we listen and the server connects to us (EPRT, else PORT). Only the control peer may
 * connect; anyone else is dropped. The transfer command must be sent before the server connects,
 * which is why this layer hands back a "prepared" channel whose socket is awaited later.
 *
 * These are fresh connections, one per transfer; the connection opened in advance, and the choice
 * between it and a fresh one, live in dataChannelProvider.ts.
 */
import * as net from 'node:net';
import { isIPv6Address } from './address';
import * as tls from 'node:tls';
import type { ControlConnection } from './control';
import { stripMapped } from './control';
import { FtpError, errorFromReply } from './errors';
import type { DirectRead } from './localFile';
import { bindThrough, connectThrough, describeProxy, ProxyError } from './proxy';
import { connectPreferring, sameFingerprint, serverNameFor } from './tlsTrust';
import type { Reply } from './reply';
import type { ConcreteMode, FtpEvent, ProxySettings } from './types';

export interface DataChannelSettings {
  host: string;
  trustPasvAddress: boolean;
  activeAddress?: string;
  activeListenAddress?: string;
  activePortRange?: [number, number];
  dataConnectTimeoutMs: number;
  /** Wrap data connections in TLS (PROT P was accepted). */
  secure: boolean;
  /**
   * Every data connection goes through this proxy: passive ones to the server's name (`host`),
   * active ones through a SOCKS5 BIND.
   */
  proxy?: ProxySettings;
  minTlsVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** Capabilities learned at run time, per connection (after jlaffaye/ftp's skipEPSV). */
export interface DataChannelQuirks {
  skipEpsv: boolean;
  skipEprt: boolean;
  /**
   * Mode commands known to work here (from FEAT or an earlier success). Only for these is the
   * transfer command sent in the same round trip: an old server that does not know EPSV might
   * otherwise run the RETR in its default active mode.
   */
  confirmed: Set<'EPSV' | 'PASV' | 'EPRT' | 'PORT'>;
  /**
   * The server answered a command sent after a transfer's data ended before the transfer's own
   * final reply (ftp-srv): the next EPSV in advance waits for that reply.
   */
  repliesOutOfOrder?: boolean;
  /**
   * The server closes a TLS data connection whose handshake begins before it has sent the transfer
   * command's 1xx: TLS starts only after it (RFC 4217's order, Python's ftplib does the same).
   */
  tlsAfterPreliminary?: boolean;
  /** Why active mode cannot work through the proxy (an HTTP proxy, a refused BIND): auto keeps to passive. */
  noActive?: string;
}

export interface PreparedChannel {
  readonly mode: ConcreteMode;
  /** The transfer command went out together with EPSV/PASV/EPRT/PORT (one round trip saved). */
  readonly commandSent: boolean;
  /** The socket reads into the caller's `DirectRead` memory: it emits no 'data' events. */
  readonly direct: boolean;
  /** Over a passive connection opened in advance (see PassiveInAdvance). */
  readonly inAdvance?: boolean;
  /** The connected (and, for FTPS, TLS-wrapped) data socket. Call after sending the transfer command. */
  socket(): Promise<net.Socket>;
  close(): void;
}

/** A data-channel failure, and whether the control connection still is in step. */
export class DataChannelError extends FtpError {
  /** The server closed the data connection during its TLS handshake (see DataChannelQuirks.tlsAfterPreliminary). */
  handshakeCut = false;

  constructor(mode: ConcreteMode, message: string, readonly controlInSync: boolean, cause?: unknown, code?: number, replyText?: string) {
    super('data-channel', message, { mode, cause, code, replyText });
  }
}

export interface Context {
  control: ControlConnection;
  settings: DataChannelSettings;
  quirks: DataChannelQuirks;
  emit(event: FtpEvent): void;
}

type ModeCommand = 'EPSV' | 'PASV' | 'EPRT' | 'PORT';

/**
 * Sends a mode command, with the transfer command right behind it when that is known to be safe.
 * If the mode command is refused, the pipelined command's own (negative) reply is read too, so
 * the replies stay in step.
 */
async function askMode(ctx: Context, name: ModeCommand, line: string, command: string, pipeline: boolean, ok: number): Promise<{ reply: Reply; commandSent: boolean }> {
  const { control, quirks } = ctx;
  const both = pipeline && quirks.confirmed.has(name);
  control.send(line);
  if (both) control.send(command);
  const reply = await readFinal(control);
  if (reply.code === ok) {
    quirks.confirmed.add(name);
    return { reply, commandSent: both };
  }
  if (both) {
    const mode: ConcreteMode = name === 'EPSV' || name === 'PASV' ? 'passive' : 'active';
    const owed = await control.read().catch(() => undefined);
    if (owed && owed.code < 200) {
      const err = new DataChannelError(mode, `${name} was refused but the server started the transfer anyway; reconnecting.`, false);
      control.destroy(err);
      throw err;
    }
  }
  return { reply, commandSent: false };
}

async function readFinal(control: ControlConnection): Promise<Reply> {
  for (;;) {
    const r = await control.read();
    if (r.code >= 200) return r;
  }
}

/**
 * The transfer command went out but no data connection came about: its reply says whether the
 * server refused the command itself (550: in step, not a data-channel fault) or still waits for
 * a connection (out of step: the session must be replaced).
 */
async function afterFailedConnect(control: ControlConnection, mode: ConcreteMode, command: string, failure: DataChannelError): Promise<never> {
  const r = await control.read(2000).catch(() => undefined);
  if (r && r.code >= 400) throw transferReplyError(r, command, mode, 'path-read');
  const err = new DataChannelError(mode, failure.message, false, failure);
  control.destroy(err);
  throw err;
}

// ---------------------------------------------------------------- passive

export async function preparePassive(ctx: Context, command: string, pipeline: boolean, directRead: DirectRead | undefined): Promise<PreparedChannel> {
  const { control, settings, quirks } = ctx;
  const ipv6 = isIPv6Address(control.peerAddress);
  let host = control.peerAddress;
  let port: number | undefined;
  let via = 'EPSV';
  let commandSent = false;
  if (!quirks.skipEpsv) {
    const { reply: r, commandSent: sent } = await askMode(ctx, 'EPSV', 'EPSV', command, pipeline, 229);
    commandSent = sent;
    if (r.code === 229) {
      port = parseEpsv(r.message);
      if (port === undefined) throw outOfStepIf(commandSent, control, new DataChannelError('passive', `The server's EPSV reply is malformed: "${r.message.slice(0, 100)}"`, !commandSent, undefined, r.code, r.text));
    } else if (r.code >= 500 && r.code < 600) {
      quirks.skipEpsv = true;
      ctx.emit({ type: 'learned', id: control.id, what: 'no-epsv', detail: `EPSV refused (${r.code} ${r.message}); using PASV from now on` });
    } else {
      throw closing(r, 'EPSV') ?? new DataChannelError('passive', `EPSV failed: ${r.code} ${r.message}`, true, undefined, r.code, r.text);
    }
  }
  if (port === undefined) {
    if (ipv6) throw new DataChannelError('passive', 'The server supports neither EPSV nor IPv6 passive mode; try active mode.', true);
    via = 'PASV';
    const { reply: r, commandSent: sent } = await askMode(ctx, 'PASV', 'PASV', command, pipeline, 227);
    commandSent = sent;
    if (r.code !== 227) throw closing(r, 'PASV') ?? new DataChannelError('passive', `PASV failed: ${r.code} ${r.message}`, true, undefined, r.code, r.text);
    const target = parsePasv(r.message);
    if (!target) throw outOfStepIf(commandSent, control, new DataChannelError('passive', `The server's PASV reply is malformed: "${r.message.slice(0, 100)}"`, !commandSent, undefined, r.code, r.text));
    port = target.port;
    // Behind a proxy the PASV address is the server's view of its own network: meaningless here.
    if (settings.trustPasvAddress && !settings.proxy && !isBogusPasvAddress(target.host, control.peerAddress)) host = target.host;
    else if (target.host !== control.peerAddress) {
      ctx.emit({ type: 'warning', id: control.id, message: `PASV offered ${target.host}:${target.port}; using the control peer ${control.peerAddress} instead.` });
    }
  }
  const target = `${host}:${port}`;
  const direct = directRead !== undefined && !settings.proxy;
  const socket = await connectData(ctx, host, port, directRead).catch((err: Error) => {
    const failure = new DataChannelError('passive', err instanceof ProxyError
      ? `Could not open the passive data connection to ${target}: ${err.message}`
      : `Could not open the passive data connection to ${target} (${(err as NodeJS.ErrnoException).code ?? err.message}) — a firewall may block the server's passive ports; try active mode.`,
    true, err);
    if (commandSent) return afterFailedConnect(control, 'passive', command, failure);
    throw failure;
  });
  return {
    mode: 'passive',
    commandSent,
    direct,
    socket: async () => finish(ctx, socket, 'passive', `${via} ${command.split(' ')[0]}`),
    close: () => socket.destroy(),
  };
}

/** A pipelined transfer command waits for a connection we will not make: give the session up. */
function outOfStepIf(commandSent: boolean, control: ControlConnection, err: DataChannelError): DataChannelError {
  if (commandSent) control.destroy(err);
  return err;
}

/**
 * A passive data connection. With FTPS it is a TLS socket from the start, whose handshake waits
 * for `finish` (`handshakes`): Node gives `onread` (reads straight into our memory instead of a
 * buffer allocated per TLS record) to a TLS socket that makes its own connection, not to one that
 * wraps a connected socket. Resolves once the TCP connection is up.
 */
export function connectData(ctx: Context, host: string, port: number, onread?: DirectRead): Promise<net.Socket> {
  const { settings, control } = ctx;
  const timeoutMs = settings.dataConnectTimeoutMs;
  if (settings.proxy) {
    // A plain TCP socket from the proxy (no `onread`: the proxy library made it); TLS, if any,
    // is put on it in `finish`, as on an accepted active-mode socket.
    return connectThrough(settings.proxy, host, port, timeoutMs).then((s) => {
      keepErrors(s);
      proxiedTargets.set(s, `${host}:${port}`);
      return s;
    });
  }
  return new Promise((resolve, reject) => {
    // tls.connect documents `onread` (for a socket it makes itself); @types/node does not list it.
    const secure: tls.ConnectionOptions & { onread?: DirectRead } = { host, port, onread, ...dataTls(ctx) };
    const s = settings.secure ? connectPreferring(secure, control.tlsGroup) : net.connect({ host, port, onread });
    if (s instanceof tls.TLSSocket) {
      const done = new Promise<void>((ok, failed) => {
        s.once('secureConnect', () => ok());
        s.once('error', failed);
        s.once('close', () => failed(new Error(HANDSHAKE_CUT)));
      });
      done.catch(() => undefined);
      handshakes.set(s, { begin: holdHandshake(s), done });
    }
    const timer = setTimeout(() => { s.destroy(); reject(Object.assign(new Error(`no connection within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })); }, timeoutMs);
    const onError = (e: Error) => { clearTimeout(timer); reject(e); };
    s.once('connect', () => { clearTimeout(timer); s.off('error', onError); keepErrors(s); resolve(s); });
    s.once('error', onError);
  });
}

/** `229 Entering Extended Passive Mode (|||6446|)` — the delimiter is whatever char follows '('. */
export function parseEpsv(message: string): number | undefined {
  const m = /\((.)\1\1(\d{1,5})\1\)/.exec(message);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? port : undefined;
}

/** `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`; parentheses are optional in practice. */
export function parsePasv(message: string): { host: string; port: number } | undefined {
  // Whole numbers only: "1192,…" or "…,2000" must not be read as "192,…" or "…,200".
  const m = /(?<!\d)(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3})(?!\d)/.exec(message);
  if (!m) return undefined;
  const n = m.slice(1).map(Number);
  if (n.some((x) => x > 255)) return undefined;
  const port = n[4] * 256 + n[5];
  if (port === 0) return undefined;
  return { host: n.slice(0, 4).join('.'), port };
}

/**
 * lftp's "bogus PASV address" rule: an unroutable address (0.0.0.0, private, loopback, link-local)
 * from a server we reach on a public address is a NAT artefact; use the control peer instead.
 */
export function isBogusPasvAddress(pasv: string, peer: string): boolean {
  // After lftp (ftpclass.cc, Handle_PASV): 0/8, multicast (224/4) and reserved (240/4) are never a
  // data address; a loopback one only from a loopback peer (from any other it points at this
  // machine); a private one only from a peer that is not public. (lftp also replaces a public
  // address offered by a private peer; a user who trusts PASV addresses keeps that one.)
  const first = Number(pasv.split('.')[0]);
  if (first === 0 || first >= 224) return true;
  // A dual-stack socket may write an IPv4 peer as "::ffff:a.b.c.d".
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(peer)?.[1] ?? peer;
  const peerLoopback = net.isIPv4(v4) ? v4.startsWith('127.') : v4 === '::1';
  // IPv6: unique-local fc00::/7 and link-local fe80::/10 are the private ones.
  const peerPrivate = peerLoopback || (net.isIPv4(v4) ? isPrivateV4(v4) : /^(f[cd]|fe[89ab])/i.test(v4));
  if (first === 127) return !peerLoopback;
  return isPrivateV4(pasv) && !peerPrivate;
}

function isPrivateV4(a: string): boolean {
  const [x, y] = a.split('.').map(Number);
  return x === 10 || x === 127 || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168) || (x === 169 && y === 254) || (x === 100 && y >= 64 && y <= 127);
}

// ---------------------------------------------------------------- active

/** Where the server is to connect for active mode, and the connection once it has. */
interface Listener {
  advertised: string;
  port: number;
  accepted: Promise<net.Socket>;
  close(): void;
}

/** Listening here: on the control connection's local address (or the configured one). */
async function listenHere(ctx: Context): Promise<Listener> {
  const { control, settings } = ctx;
  const listenAddress = settings.activeListenAddress ?? control.localAddress;
  const server = await listen(listenAddress, settings.activePortRange).catch((err: Error) => {
    throw new DataChannelError('active', `Could not listen for the server's data connection on ${listenAddress}: ${err.message}`, true, err);
  });
  const accepted = acceptFromPeer(server, control.peerAddress, settings.dataConnectTimeoutMs, ctx);
  accepted.catch(() => undefined);
  return {
    advertised: settings.activeAddress ?? listenAddress,
    port: (server.address() as net.AddressInfo).port,
    accepted,
    close: () => { server.close(); accepted.then((s) => s.destroy(), () => undefined); },
  };
}

/**
 * Listening at the proxy: SOCKS5 BIND. The proxy's address and port go into EPRT/PORT; the proxy
 * decides whom it lets connect (its bindreply rules), as the server's name was given to it. A
 * refusal (or an HTTP proxy, which has no BIND) is remembered: auto mode keeps to passive.
 */
async function listenAtProxy(ctx: Context, proxy: ProxySettings): Promise<Listener> {
  const { settings, quirks } = ctx;
  if (quirks.noActive) throw new DataChannelError('active', quirks.noActive, true);
  const binding = await bindThrough(proxy, settings.host, settings.dataConnectTimeoutMs, settings.dataConnectTimeoutMs).catch((err: Error) => {
    if (err instanceof ProxyError && err.failure === 'bind') quirks.noActive = err.message;
    throw new DataChannelError('active', err instanceof ProxyError && err.failure === 'bind' ? err.message : `Active mode through the proxy failed: ${err.message}`, true, err);
  });
  const accepted = binding.connection.then((s) => {
    keepErrors(s);
    proxiedTargets.set(s, `${binding.address}:${binding.port}`);
    return s;
  }, (err: Error) => {
    throw new DataChannelError('active', err instanceof ProxyError && err.failure === 'timeout' ? err.message : `Active mode through the proxy failed: ${err.message}`, false, err);
  });
  accepted.catch(() => undefined);
  return {
    advertised: binding.address,
    port: binding.port,
    accepted,
    close: () => { binding.close(); accepted.then((s) => s.destroy(), () => undefined); },
  };
}

export async function prepareActive(ctx: Context, command: string, pipeline: boolean): Promise<PreparedChannel> {
  const { control, settings, quirks } = ctx;
  const listener = settings.proxy ? await listenAtProxy(ctx, settings.proxy) : await listenHere(ctx);
  const { advertised, port, accepted } = listener;
  try {
    let via = 'EPRT';
    let ok = false;
    let commandSent = false;
    if (!quirks.skipEprt) {
      const family = isIPv6Address(advertised) ? 2 : 1;
      const { reply: r, commandSent: sent } = await askMode(ctx, 'EPRT', `EPRT |${family}|${advertised}|${port}|`, command, pipeline, 200);
      commandSent = sent;
      if (r.code === 200) ok = true;
      else if (r.code === 500 || r.code === 502 || r.code === 504) {
        quirks.skipEprt = true;
        ctx.emit({ type: 'learned', id: control.id, what: 'no-eprt', detail: `EPRT refused (${r.code} ${r.message}); using PORT from now on` });
      }
      else throw closing(r, 'EPRT') ?? new DataChannelError('active', `The server refused active mode: EPRT answered ${r.code} ${r.message} — try passive mode.`, true, undefined, r.code, r.text);
    }
    if (!ok) {
      if (!net.isIPv4(advertised)) throw new DataChannelError('active', 'The server does not support EPRT, and PORT cannot carry an IPv6 address; try passive mode.', true);
      via = 'PORT';
      const { reply: r, commandSent: sent } = await askMode(ctx, 'PORT', `PORT ${advertised.split('.').join(',')},${port >> 8},${port & 255}`, command, pipeline, 200);
      commandSent = sent;
      if (r.code !== 200) throw closing(r, 'PORT') ?? new DataChannelError('active', `The server refused active mode: PORT answered ${r.code} ${r.message} — try passive mode.`, true, undefined, r.code, r.text);
    }
    return {
      mode: 'active',
      commandSent,
      direct: false,
      socket: async () => {
        const s = await accepted;
        return finish(ctx, s, 'active', `${via} ${command.split(' ')[0]}`);
      },
      close: () => listener.close(),
    };
  } catch (e) {
    listener.close();
    throw e;
  }
}

function listen(address: string, range?: [number, number]): Promise<net.Server> {
  const tryPort = (port: number) => new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer({ pauseOnConnect: true });
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true, backlog: 4 }, () => { server.removeListener('error', reject); resolve(server); });
  });
  if (!range) return tryPort(0);
  const [lo, hi] = range;
  // Start at a random port of the range so parallel connections do not all collide on the first.
  const count = hi - lo + 1;
  const start = Math.floor(Math.random() * count);
  return (async () => {
    let last: unknown;
    for (let i = 0; i < count; i++) {
      try { return await tryPort(lo + ((start + i) % count)); } catch (e) { last = e; }
    }
    throw new Error(`no free port in ${lo}-${hi} (${(last as Error)?.message ?? ''})`);
  })();
}

function acceptFromPeer(server: net.Server, peer: string, timeoutMs: number, ctx: Context): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      server.close();
      reject(new DataChannelError('active',
        `Data connection failed in active mode: the server did not connect back within ${timeoutMs / 1000} s — a firewall or NAT is probably in the way; try passive mode.`,
        false));
    }, timeoutMs);
    server.on('connection', (s) => {
      const from = stripMapped(s.remoteAddress ?? '');
      if (from !== peer) {
        // A data connection from a third host is either an attack (port theft) or a misconfiguration.
        ctx.emit({ type: 'warning', id: ctx.control.id, message: `Refused an active-mode data connection from ${from}; only ${peer} may connect.` });
        s.destroy();
        return;
      }
      clearTimeout(timer);
      server.close();
      keepErrors(s);
      s.resume();
      resolve(s);
    });
    server.on('close', () => { clearTimeout(timer); reject(new DataChannelError('active', 'Active-mode listener closed.', true)); });
  });
}

// ---------------------------------------------------------------- both

/**
 * A data socket can be reset by the server before anyone pumps it. Without a listener that error
 * would be thrown as uncaught and take the process down; with this one it stays on the socket
 * (`destroyed`, `errored`) for the transfer to find.
 */
function keepErrors(socket: net.Socket): void {
  socket.on('error', () => undefined);
}

/** Data sockets that lead to the proxy, and the server address:port (or BIND port) behind it, for the log. */
const proxiedTargets = new WeakMap<net.Socket, string>();

const HANDSHAKE_CUT = 'the connection closed during the TLS handshake';

/** The TLS handshakes of data sockets that are TLS sockets from their connect on (see connectData). */
const handshakes = new WeakMap<net.Socket, { begin(): void; done: Promise<void> }>();

/**
 * Holds back the ClientHello of a TLS socket that connects by itself until the returned `begin` is
 * called: the TCP connection (and `onread`) come at once, the handshake only once the transfer
 * command has gone out. Some servers close a data connection whose handshake begins before they
 * have read the transfer command (RFC 4217's examples start TLS after it). Node starts the
 * handshake on connect through its TLS handle's `start()`; that call is what waits here. Where a
 * Node version has no such handle, the handshake starts on connect, as it always did.
 */
function holdHandshake(socket: tls.TLSSocket): () => void {
  const handle = (socket as unknown as { _handle?: { start?: () => void } })._handle;
  const start = handle?.start;
  if (!handle || typeof start !== 'function') return () => undefined;
  let held = false;
  handle.start = () => { held = true; };
  return () => {
    handle.start = start;
    if (held && !socket.destroyed) start.call(handle);
  };
}

/**
 * TLS options of a data connection: the control connection's session resumed (vsftpd's
 * require_ssl_reuse), the control host as the server name. The key-exchange group the control
 * connection negotiated goes first (connectPreferring): vsftpd would otherwise ask again
 * (HelloRetryRequest, +1 RTT).
 */
function dataTls(ctx: Context): tls.ConnectionOptions {
  return {
    session: ctx.control.sessionForData,
    servername: serverNameFor(ctx.settings.host),
    rejectUnauthorized: false,
    minVersion: ctx.settings.minTlsVersion ?? 'TLSv1.2',
  };
}

export /**
 * The data socket, ready for the transfer: for FTPS, with its TLS handshake done — begun only now,
 * once the transfer command has left (the caller sends it first), never before.
 */
async function finish(ctx: Context, socket: net.Socket, mode: ConcreteMode, command: string): Promise<net.Socket> {
  socket.setNoDelay(true);
  const local = `${stripMapped(socket.localAddress ?? '')}:${socket.localPort}`;
  const remote = proxiedTargets.get(socket) ?? `${stripMapped(socket.remoteAddress ?? '')}:${socket.remotePort}`;
  const proxy = ctx.settings.proxy && describeProxy(ctx.settings.proxy);
  if (!ctx.settings.secure) {
    ctx.emit({ type: 'data-open', id: ctx.control.id, mode, command, local, remote, tls: false, proxy });
    return socket;
  }
  // The transfer command must be on its way before our ClientHello is.
  await ctx.control.written();
  const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new DataChannelError(mode, 'TLS handshake on the data connection timed out.', false)); }, ctx.settings.dataConnectTimeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      // Cut before the handshake ended (a connection opened in advance whose listener the server
      // dropped, or a server that wants its 1xx sent first): a data-channel failure, which the
      // client retries on a fresh connection.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNRESET' || code === 'EPIPE' || err.message === HANDSHAKE_CUT) {
        const cut = new DataChannelError(mode, `The data connection closed during its TLS handshake (${err.message}).`, false, err);
        cut.handshakeCut = true;
        reject(cut);
      } else {
        reject(new FtpError('tls', `TLS on the data connection failed: ${err.message}`, { mode, cause: err }));
      }
    };
    const held = handshakes.get(socket);
    if (held) {
      held.begin();
      held.done.then(() => { clearTimeout(timer); resolve(socket as tls.TLSSocket); }, fail);
      return;
    }
    // An accepted (active-mode) socket: wrapped here.
    const s = connectPreferring({ socket, ...dataTls(ctx) }, ctx.control.tlsGroup, () => { clearTimeout(timer); s.removeAllListeners('error'); keepErrors(s); resolve(s); });
    s.once('error', fail);
  });
  // The data connection must present the same certificate as the control connection.
  const controlFp = ctx.control.peerFingerprint256;
  const dataFp = secure.getPeerCertificate()?.fingerprint256;
  if (controlFp && dataFp && !sameFingerprint(controlFp, dataFp)) {
    secure.destroy();
    throw new FtpError('tls', `The data connection presented a different certificate (${dataFp}) than the control connection; refusing it.`, { mode });
  }
  ctx.emit({ type: 'data-open', id: ctx.control.id, mode, command, local, remote, tls: true, resumed: secure.isSessionReused(), proxy });
  return secure;
}

/**
 * A 421 to EPSV/PASV/EPRT/PORT is the server closing the session, not a refusal of the mode: it
 * must read as a lost connection (which the pool retries), never as a data-channel failure.
 */
function closing(reply: { code: number; message: string; text: string }, command: string): FtpError | undefined {
  return reply.code === 421 ? new FtpError('connection-lost', `${command}: the server closed the connection (421 ${reply.message})`, { code: 421, replyText: reply.text, command }) : undefined;
}

/** Error for a negative reply to the transfer command itself. */
export function transferReplyError(reply: { code: number; message: string; text: string }, command: string, mode: ConcreteMode, context: 'path-read' | 'path-write' | 'data'): FtpError {
  if (reply.code === 425 || (reply.code === 522 && /reuse/i.test(reply.message))) {
    const hint = reply.code === 522
      ? 'the server requires TLS session reuse on data connections'
      : mode === 'active' ? 'the server could not connect back — a firewall or NAT is probably in the way; try passive mode' : 'try active mode';
    return new DataChannelError(mode, `Data connection failed in ${mode} mode: ${reply.code} ${reply.message} (${hint}).`, true, undefined, reply.code, reply.text);
  }
  return errorFromReply(reply, command, context);
}
