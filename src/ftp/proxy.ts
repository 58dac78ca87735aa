/**
 * Connections through a proxy: SOCKS5 (CONNECT for the control and passive data connections, BIND
 * for active mode) and HTTP CONNECT (passive only: an HTTP proxy cannot accept a connection for us).
 *
 * FTP is not HTTP: every data connection is a TCP connection of its own, to another port, so the
 * proxy must tunnel arbitrary TCP. The proxy resolves the server's name (SOCKS5 "domain name"
 * addresses, the CONNECT line), so a client that can reach nothing but the proxy still works.
 *
 * We make the TCP connection to the proxy ourselves, then hand it to the SOCKS library: its own
 * errors for an unreachable proxy lose the errno, and "the proxy is down" must read differently
 * from "the proxy could not reach the server".
 */
import * as net from 'node:net';
import { isIPv6Address } from './address';
import type { SocksClientOptions, SocksProxy } from 'socks';
import { FtpError } from './errors';
import type { ProxyKind, ProxySettings } from './types';


export type ProxyFailure =
  | 'unreachable'   // the proxy itself could not be reached (down, wrong port, DNS)
  | 'auth'          // the proxy refused our user name and password, or wants some
  | 'refused'       // the proxy could not or would not connect to the server
  | 'bind'          // the proxy will not accept a connection for us (active mode)
  | 'timeout'       // the proxy did not answer in time
  | 'protocol';     // the proxy's answer was not SOCKS5 / HTTP

/** A failure of the proxy hop, not of the FTP server: told apart by type and by its words. */
export class ProxyError extends FtpError {
  /** 'auth' because no password was given at all (a prompt cancelled), not because the proxy refused one. */
  passwordNotGiven = false;

  constructor(readonly failure: ProxyFailure, message: string, cause?: unknown) {
    super('proxy', message, { cause });
    this.name = 'ProxyError';
  }
}

const DEFAULT_PORTS: Record<ProxyKind, number> = { socks5: 1080, http: 8080 };

/**
 * `socks5://[user@]host:port` (also `socks5h://`, `socks://`: SOCKS5 with the name resolved by the
 * proxy, which is what we always do) or `http://[user@]host:port`. A password in the URL is taken
 * (VS Code's `http.proxy` may carry one); callers that must not keep it in settings refuse it.
 */
export function parseProxyUrl(text: string): ProxySettings {
  const trimmed = text.trim();
  let u: URL;
  try { u = new URL(trimmed); } catch {
    // Not echoed: what cannot be parsed cannot be masked either, and it may hold a password.
    throw new ProxyError('protocol', 'Not a proxy URL — write socks5://[user@]host:port or http://[user@]host:port.');
  }
  const scheme = u.protocol.replace(/:$/, '').toLowerCase();
  const kind: ProxyKind | undefined = scheme === 'socks5' || scheme === 'socks5h' || scheme === 'socks' ? 'socks5' : scheme === 'http' ? 'http' : undefined;
  if (!kind) {
    const hint = scheme === 'https' ? ' (a proxy reached over TLS is not supported; most "https" proxies take http:// CONNECT)' : scheme === 'socks4' || scheme === 'socks4a' ? ' (SOCKS4 has no authentication and no IPv6; use SOCKS5)' : '';
    throw new ProxyError('protocol', `Unsupported proxy type "${scheme}"${hint} — write socks5://[user@]host:port or http://[user@]host:port.`);
  }
  if (!u.hostname) throw new ProxyError('protocol', `The proxy URL "${maskUrl(trimmed)}" names no host.`);
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash) {
    throw new ProxyError('protocol', `The proxy URL "${maskUrl(trimmed)}" must be only scheme, [user@]host and port.`);
  }
  return {
    kind,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : DEFAULT_PORTS[kind],
    user: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  };
}

/** The proxy as the log and errors show it: never its password. */
export function describeProxy(p: ProxySettings): string {
  const host = isIPv6Address(p.host) ? `[${p.host}]` : p.host;
  return `${p.kind}://${p.user ? `${encodeURIComponent(p.user)}@` : ''}${host}:${p.port}`;
}

/** A URL with any password replaced, for messages about a URL we could not parse. */
function maskUrl(text: string): string {
  return text.replace(/^([a-z0-9+.-]+:\/\/[^:/@]*):[^@/]*@/i, '$1:****@');
}

function hostPort(host: string, port: number): string {
  return `${isIPv6Address(host) ? `[${host}]` : host}:${port}`;
}

/** The plain TCP connection to the proxy; its failure is the proxy's. */
function reachProxy(proxy: ProxySettings, timeoutMs: number): Promise<net.Socket> {
  const where = `the ${proxy.kind === 'http' ? 'HTTP' : 'SOCKS5'} proxy ${hostPort(proxy.host, proxy.port)}`;
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: proxy.host, port: proxy.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new ProxyError('timeout', `Could not reach ${where} within ${timeoutMs / 1000} s — check the proxy setting and the network.`));
    }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); s.removeAllListeners('error'); resolve(s); });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const hints: Record<string, string> = {
        ECONNREFUSED: 'nothing listens there — check that the proxy runs and that the port is right',
        ENOTFOUND: 'its host name does not resolve — check the proxy setting',
        EAI_AGAIN: 'its host name could not be resolved right now — check your network',
        EHOSTUNREACH: 'it is unreachable — check the network or VPN',
        ENETUNREACH: 'the network is unreachable — check the network or VPN',
        ETIMEDOUT: 'the connection timed out — a firewall may drop it',
        ECONNRESET: 'the connection was reset',
      };
      reject(new ProxyError('unreachable', `Could not reach ${where}: ${(err.code && hints[err.code]) || err.message}.`, err));
    });
  });
}

/**
 * A TCP connection to host:port through the proxy, ready for FTP (or TLS) on top. Resolves once
 * the proxy says the connection to the server is up.
 */
export async function connectThrough(given: ProxySettings, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  const proxy = await withPassword(given);
  const socket = await reachProxy(proxy, timeoutMs);
  try {
    if (proxy.kind === 'http') return await httpConnect(socket, proxy, host, port, timeoutMs);
    const { SocksClient } = await socks();
    const info = await SocksClient.createConnection({ ...socksOptions(proxy, host, port, timeoutMs, 'connect'), existing_socket: socket });
    return await handOver(info.socket);
  } catch (e) {
    socket.destroy();
    throw e instanceof FtpError ? e : socksError(e, proxy, host, port, 'connect');
  }
}

/**
 * The SOCKS library, loaded at the first connection through a SOCKS proxy, not with this module:
 * with its IP address parser it took ~5 ms of every command-line start-up (even from V8's code
 * cache; ~8 ms without), for what only `--proxy` needs.
 */
function socks(): Promise<typeof import('socks')> {
  return import('socks');
}

/** The proxy with its password at hand (asked for, where it is a function). */
async function withPassword(proxy: ProxySettings): Promise<ProxySettings & { password?: string }> {
  if (proxy.user === undefined || typeof proxy.password !== 'function') return proxy as ProxySettings & { password?: string };
  const password = await proxy.password();
  if (password === undefined) {
    const err = new ProxyError('auth', `No password given for the proxy ${describeProxy(proxy)} (the prompt was cancelled).`);
    err.passwordNotGiven = true;
    throw err;
  }
  return { ...proxy, password };
}

function socksOptions(proxy: ProxySettings & { password?: string }, host: string, port: number, timeoutMs: number, command: 'connect' | 'bind'): SocksClientOptions {
  const p: SocksProxy = { host: proxy.host, port: proxy.port, type: 5 };
  if (proxy.user !== undefined) { p.userId = proxy.user; p.password = proxy.password ?? ''; }
  return { proxy: p, command, destination: { host, port }, timeout: timeoutMs };
}

/** The SOCKS library's messages, in words that say whose fault it is and what to do. */
function socksError(e: unknown, proxy: ProxySettings, host: string, port: number, command: 'connect' | 'bind'): ProxyError {
  const message = (e as Error)?.message ?? String(e);
  const where = `The SOCKS5 proxy ${hostPort(proxy.host, proxy.port)}`;
  if (/Authentication failed/i.test(message)) {
    return new ProxyError('auth', `${where} refused the user name or password${proxy.user ? ` for "${proxy.user}"` : ''} — check the proxy user and password.`, e);
  }
  if (/no accepted authentication type/i.test(message)) {
    return new ProxyError('auth', proxy.user
      ? `${where} accepts none of the authentication methods offered (none, user name and password).`
      : `${where} requires a user name and password — write the proxy as socks5://user@${hostPort(proxy.host, proxy.port)}.`, e);
  }
  if (/timed out/i.test(message)) return new ProxyError('timeout', `${where} did not answer in time.`, e);
  const rejected = /rejected (?:incoming bound )?connection - (\w+)/i.exec(message);
  if (rejected) {
    const words: Record<string, string> = {
      Failure: 'general failure', NotAllowed: 'not allowed by its rules', NetworkUnreachable: 'network unreachable',
      HostUnreachable: 'host unreachable', ConnectionRefused: 'connection refused', TTLExpired: 'TTL expired',
      CommandNotSupported: 'command not supported', AddressNotSupported: 'address type not supported',
    };
    const why = words[rejected[1]] ?? rejected[1];
    if (command === 'bind') return new ProxyError('bind', `${where} refused to accept a data connection for active mode (BIND: ${why}) — use passive mode.`, e);
    return new ProxyError('refused', `The proxy refused to connect to ${hostPort(host, port)}: ${why} (SOCKS5 ${hostPort(proxy.host, proxy.port)}).`, e);
  }
  if (/Socket closed/i.test(message)) return new ProxyError('protocol', `${where} closed the connection during its handshake.`, e);
  return new ProxyError('protocol', `${where}: ${message}.`, e);
}

/**
 * The socket the SOCKS library hands back, paused with every byte in it: the library resumes it
 * on the next turn of the event loop and emits what came with its last reply (the server's first
 * bytes may) to whoever listens then — nobody yet, since we hand the socket on only later. So
 * listen first, then pause and put those bytes back. Whoever takes the socket resumes it.
 */
function handOver(socket: net.Socket): Promise<net.Socket> {
  const early: Buffer[] = [];
  const collect = (chunk: Buffer) => early.push(chunk);
  socket.on('data', collect);
  return new Promise((resolve) => setImmediate(() => {
    socket.off('data', collect);
    socket.pause();
    for (const chunk of early.reverse()) socket.unshift(chunk);
    resolve(socket);
  }));
}

// ---------------------------------------------------------------- HTTP CONNECT

/** An HTTP proxy's reply head is small; anything bigger is not one. */
const MAX_HEAD = 16 * 1024;

function httpConnect(socket: net.Socket, proxy: ProxySettings & { password?: string }, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  const target = hostPort(host, port);
  const where = `The HTTP proxy ${hostPort(proxy.host, proxy.port)}`;
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  if (proxy.user !== undefined) {
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(`${proxy.user}:${proxy.password ?? ''}`).toString('base64')}`);
  }
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new ProxyError('timeout', `${where} did not answer CONNECT ${target} within ${timeoutMs / 1000} s.`)), timeoutMs);
    const finish = (err?: ProxyError, rest?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) { socket.destroy(); reject(err); return; }
      socket.pause();
      // The server's first bytes (its greeting) can come in the same packet as the proxy's reply.
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const onError = (e: Error) => finish(new ProxyError('protocol', `${where} failed during CONNECT: ${e.message}.`, e));
    const onClose = () => finish(new ProxyError('protocol', `${where} closed the connection without answering CONNECT ${target}.`));
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD) finish(new ProxyError('protocol', `${where} sent an answer too long to be an HTTP reply.`));
        return;
      }
      const status = head.subarray(0, end).toString('latin1').split('\r\n')[0];
      const m = /^HTTP\/1\.[01] (\d{3})\s*(.*)$/.exec(status);
      if (!m) { finish(new ProxyError('protocol', `${where} did not answer in HTTP: "${status.slice(0, 80)}".`)); return; }
      const code = Number(m[1]);
      const reason = `${code}${m[2] ? ` ${m[2].slice(0, 100)}` : ''}`;
      if (code >= 200 && code < 300) { finish(undefined, head.subarray(end + 4)); return; }
      // 407 is HTTP's answer; tinyproxy answers a wrong BasicAuth with 401.
      if (code === 407 || code === 401) {
        finish(new ProxyError('auth', proxy.user
          ? `${where} refused the user name or password for "${proxy.user}" (${reason}) — check the proxy user and password.`
          : `${where} requires a user name and password (${reason}) — write the proxy as http://user@${hostPort(proxy.host, proxy.port)}.`));
        return;
      }
      finish(new ProxyError('refused', `The proxy refused to connect to ${target}: ${reason} (HTTP ${hostPort(proxy.host, proxy.port)}).`));
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

// ---------------------------------------------------------------- SOCKS5 BIND (active mode)

export interface ProxyBinding {
  /** Where the proxy listens for the server's data connection: goes into EPRT/PORT. */
  address: string;
  port: number;
  /** The server's connection, relayed by the proxy (its second BIND reply). */
  connection: Promise<net.Socket>;
  close(): void;
}

/**
 * SOCKS5 BIND: the proxy listens on a port of its own and tells us where (first reply); when the
 * server connects there it tells us again (second reply) and the connection becomes the data
 * connection. `server` is the FTP server's name: proxies use it to decide whom to let connect.
 * An address of 0.0.0.0 in the first reply means "the proxy's own", as curl reads it.
 */
export async function bindThrough(given: ProxySettings, server: string, timeoutMs: number, acceptTimeoutMs: number): Promise<ProxyBinding> {
  if (given.kind !== 'socks5') {
    throw new ProxyError('bind', `An HTTP proxy cannot accept the server's data connection, so active mode does not work through ${describeProxy(given)} — use passive mode.`);
  }
  const proxy = await withPassword(given);
  const { SocksClient } = await socks();
  const socket = await reachProxy(proxy, timeoutMs);
  const client = new SocksClient(socksOptions(proxy, server, 0, timeoutMs, 'bind'));
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const close = () => {
    closed = true;
    clearTimeout(timer);
    // Destroying the socket makes the library emit one more 'error': it must find a listener.
    client.removeAllListeners();
    client.on('error', () => undefined);
    socket.destroy();
  };
  const bound = new Promise<{ host: string; port: number }>((resolve, reject) => {
    client.once('bound', (info: { remoteHost?: { host: string; port: number } }) => resolve(info.remoteHost ?? { host: '0.0.0.0', port: 0 }));
    client.once('error', (e: Error) => reject(socksError(e, proxy, server, 0, 'bind')));
  });
  const connection = new Promise<net.Socket>((resolve, reject) => {
    timer = setTimeout(() => {
      close();
      reject(new ProxyError('timeout', `The server did not connect to the proxy's port for active mode within ${acceptTimeoutMs / 1000} s — use passive mode.`));
    }, acceptTimeoutMs);
    client.once('established', (info: { socket: net.Socket }) => { clearTimeout(timer); resolve(handOver(info.socket)); });
    client.on('error', (e: Error) => { clearTimeout(timer); if (!closed) reject(socksError(e, proxy, server, 0, 'bind')); });
  });
  connection.catch(() => undefined);
  // Our connection: without it the library would make one of its own (and errors without errno).
  client.connect(socket);
  let where: { host: string; port: number };
  try {
    where = await bound;
  } catch (e) {
    close();
    throw e;
  }
  const unspecified = where.host === '0.0.0.0' || where.host === '::';
  return {
    address: unspecified ? (socket.remoteAddress ?? proxy.host).replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '') : where.host,
    port: where.port,
    connection,
    close,
  };
}
