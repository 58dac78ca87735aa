/**
 * The control connection: one TCP (or TLS) socket, a reply parser, and a FIFO of callers waiting
 * for replies. Replies arrive in command order, so pipelined commands are just several sends
 * followed by as many reads.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { NameCodec } from './charset';
import { FtpError } from './errors';
import { connectThrough, describeProxy } from './proxy';
import { ReplyParser, type Reply } from './reply';
import { checkCertificate, connectPreferring, negotiatedGroup, serverNameFor, trustedWithoutAsking, type VerifiedPeer } from './tlsTrust';
import type { FtpEvent, ProxySettings, TlsOptions } from './types';

/**
 * The key-exchange group each server (host:port) chose, so that the next connection to it offers
 * that group first and skips a HelloRetryRequest (see preferGroup). Bounded: a few servers at most.
 */
const tlsGroups = new Map<string, string>();

/**
 * The latest TLS session (ticket) of each server's control connections: the next control connection
 * to it resumes it, which spares the server's signature and the key exchange — each connection a
 * pool adds, and each reconnect, costs less CPU on both sides (and a round trip with TLS 1.2).
 */
const controlSessions = new Map<string, { session: Buffer; peer: VerifiedPeer }>();

/**
 * Forgets every server's remembered session: the next control connection to each makes a full
 * handshake. For measuring what resumption saves (the bench's tls-resume scenario) and for tests.
 */
export function forgetTlsSessions(): void {
  controlSessions.clear();
}

/** Forgets which group each server chose (this process's memory): for tests of the memory beyond it. */
export function forgetTlsGroups(): void {
  tlsGroups.clear();
}

/** Per-server memory, newest last; bounded: a few servers at most. */
export function remember<T>(memory: Map<string, T>, key: string, value: T | undefined): void {
  if (value === undefined || memory.get(key) === value) return;
  memory.delete(key);
  memory.set(key, value);
  if (memory.size > 64) memory.delete(memory.keys().next().value as string);
}

interface Waiter {
  resolve(r: Reply): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
}

export interface ControlOptions {
  id: string;
  host: string;
  port: number;
  implicitTls: boolean;
  tls?: TlsOptions;
  /** Connect through this proxy; the server's name goes to the proxy, which resolves it. */
  proxy?: ProxySettings;
  /** See ConnectOptions.earlyConnection. */
  earlyConnection?: () => net.Socket | undefined;
  /** The group this server chose at an earlier handshake, from a memory beyond this process (KnownFeatures.tlsGroup). */
  tlsGroup?: string;
  connectTimeoutMs: number;
  replyTimeoutMs: number;
  emit(event: FtpEvent): void;
}

const SECRET_COMMANDS = /^(PASS|ACCT)\b/i;
const CRLF = Buffer.from('\r\n');
/** Until a session sets its charset: RFC 2640's default, and what every reply so far was read as. */
const UTF8 = new NameCodec('utf8');

export class ControlConnection {
  private socket!: net.Socket;
  private parser = new ReplyParser();
  private replies: Reply[] = [];
  private waiters: Waiter[] = [];
  private failure?: FtpError;
  /** Commands of this tick are being batched into one write. */
  private corked = false;
  private lastWrite: Promise<void> = Promise.resolve();
  private closeListeners: ((err?: FtpError) => void)[] = [];
  private secrets: string[] = [];
  /** The charset commands are written in and replies read in; see setCharset. */
  private codec: () => NameCodec = () => UTF8;
  /** TLS session of the control connection, reused on data connections (vsftpd require_ssl_reuse). */
  tlsSession?: Buffer;
  private offered?: { session: Buffer; peer: VerifiedPeer };
  private verifiedPeer?: VerifiedPeer;
  /** The server certificate's SHA-256 fingerprint, also on a resumed session (which shows none). */
  get peerFingerprint256(): string | undefined { return this.verifiedPeer?.fingerprint256 || undefined; }
  /** The key-exchange group the server chose on this connection: offered first on data connections. */
  tlsGroup?: string;
  /**
   * Address of the server as seen on the control connection: the only peer data connections may
   * use. Through a proxy, the server's name as given: only the proxy knows its address.
   */
  peerAddress = '';
  localAddress = '';
  readonly id: string;

  private constructor(private readonly options: ControlOptions) {
    this.id = options.id;
  }

  static async open(options: ControlOptions): Promise<ControlConnection> {
    const c = new ControlConnection(options);
    await c.connect();
    return c;
  }

  get isTls(): boolean { return this.socket instanceof tls.TLSSocket; }
  get closed(): boolean { return this.failure !== undefined; }
  get tlsSocket(): tls.TLSSocket | undefined { return this.socket instanceof tls.TLSSocket ? this.socket : undefined; }

  /** The session to resume on a data connection: the newest ticket, else the handshake's session. */
  get sessionForData(): Buffer | undefined { return this.tlsSession ?? this.tlsSocket?.getSession(); }

  /** Replies and errors must never carry the password, even if a server echoes it. */
  addSecret(secret: string | undefined): void {
    if (secret && secret.length >= 3) this.secrets.push(secret);
  }

  mask(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('****');
    return out;
  }

  /** Returns the unsubscribe function: transfers subscribe once each, and must not pile up. */
  onClose(listener: (err?: FtpError) => void): () => void {
    this.closeListeners.push(listener);
    return () => {
      const i = this.closeListeners.indexOf(listener);
      if (i >= 0) this.closeListeners.splice(i, 1);
    };
  }

  private get serverKey(): string { return `${this.options.host}:${this.options.port}`; }

  /** The group to offer first: the one this server chose last, in this process or before it. */
  private get preferredGroup(): string | undefined { return tlsGroups.get(this.serverKey) ?? this.options.tlsGroup; }

  private async connect(): Promise<void> {
    const { host, port, connectTimeoutMs, proxy, implicitTls } = this.options;
    const early = proxy ? undefined : this.options.earlyConnection?.();
    const socket = proxy ? await this.connectThroughProxy(proxy) : await new Promise<net.Socket>((resolve, reject) => {
      const timer = setTimeout(() => {
        s.destroy();
        early?.destroy();
        reject(new FtpError('timeout', `Could not connect to ${host}:${port} within ${connectTimeoutMs / 1000} s — is the host reachable and the port right?`));
      }, connectTimeoutMs);
      const done = (err?: Error) => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        if (err) reject(connectError(err, host, port)); else resolve(s);
      };
      const s: net.Socket = implicitTls
        ? connectPreferring({ ...(early ? { socket: early } : { host, port }), ...this.tlsOptions() }, this.preferredGroup, () => done())
        : early ?? net.connect({ host, port }, () => done());
      s.once('error', done);
      this.captureSession(s);
      if (early && !implicitTls) {
        if (early.connecting) early.once('connect', () => done()); else done();
      }
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    this.peerAddress = proxy ? host : stripMapped(socket.remoteAddress ?? host);
    this.localAddress = stripMapped(socket.localAddress ?? '');
    this.attach(socket);
    this.options.emit({ type: 'connect', id: this.id, host, port, address: proxy ? undefined : this.peerAddress, tls: implicitTls, proxy: proxy && describeProxy(proxy), early: early !== undefined || undefined });
    if (socket instanceof tls.TLSSocket) await this.afterHandshake(socket);
  }

  /**
   * The TCP connection through the proxy (its failures are ProxyErrors), then TLS on it for
   * implicit FTPS: end to end with the server, checked against the server's name.
   */
  private async connectThroughProxy(proxy: ProxySettings): Promise<net.Socket> {
    const { host, port, connectTimeoutMs } = this.options;
    const raw = await connectThrough(proxy, host, port, connectTimeoutMs);
    return this.options.implicitTls ? this.startTls(raw) : raw;
  }

  /** TLS on a connected socket (after AUTH TLS, or implicit FTPS through a proxy). */
  private startTls(raw: net.Socket): Promise<tls.TLSSocket> {
    const { host, connectTimeoutMs } = this.options;
    return new Promise<tls.TLSSocket>((resolve, reject) => {
      const timer = setTimeout(() => { raw.destroy(); reject(new FtpError('timeout', `TLS handshake with ${host} timed out.`)); }, connectTimeoutMs);
      const s = connectPreferring({ socket: raw, ...this.tlsOptions() }, this.preferredGroup, () => {
        clearTimeout(timer); s.removeAllListeners('error'); resolve(s);
      });
      this.captureSession(s);
      s.once('error', (err) => { clearTimeout(timer); raw.destroy(); reject(new FtpError('tls', `TLS handshake with ${host} failed: ${err.message}`, { cause: err })); });
    });
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new FtpError('connection-lost', `Connection to ${this.options.host} lost: ${err.message}`, { cause: err })));
    socket.on('close', () => this.fail(new FtpError('connection-lost', `The server ${this.options.host} closed the connection.`)));
    // A socket from a proxy comes paused, holding the server's first bytes (proxy.ts).
    socket.resume();
  }

  /** TLS 1.3 sends session tickets after the handshake, so listen from the start. */
  private captureSession(socket: net.Socket): void {
    if (socket instanceof tls.TLSSocket) {
      socket.on('session', (session: Buffer) => {
        this.tlsSession = session;
        this.rememberSession();
      });
    }
  }

  /** TLS towards the server, whichever way the socket came: its name, our floor, a session to resume. */
  private tlsOptions(): tls.ConnectionOptions {
    // The certificate is checked after the handshake (afterHandshake), where a pinned one may pass.
    return { servername: serverNameFor(this.options.host), rejectUnauthorized: false, minVersion: this.options.tls?.minVersion ?? 'TLSv1.2', session: this.sessionToOffer() };
  }

  /** The session a former control connection to this server left, where it may be resumed. */
  private sessionToOffer(): Buffer | undefined {
    const known = controlSessions.get(this.serverKey);
    this.offered = known && trustedWithoutAsking(known.peer, this.options.tls) ? known : undefined;
    return this.offered?.session;
  }

  /** A session is kept for the next connection only once its certificate has passed the check. */
  private rememberSession(): void {
    if (this.tlsSession && this.verifiedPeer) remember(controlSessions, this.serverKey, { session: this.tlsSession, peer: this.verifiedPeer });
  }

  private async afterHandshake(socket: tls.TLSSocket): Promise<void> {
    const resumedFrom = socket.isSessionReused() ? this.offered?.peer : undefined;
    this.verifiedPeer = await checkCertificate(socket, this.options.host, this.options.tls, resumedFrom).catch((e) => { this.destroy(); throw e; });
    this.rememberSession();
    this.tlsGroup = negotiatedGroup(socket);
    remember(tlsGroups, this.serverKey, this.tlsGroup);
    this.options.emit({
      type: 'tls', id: this.id, channel: 'control', protocol: socket.getProtocol() ?? '?',
      cipher: socket.getCipher()?.name ?? '?', resumed: socket.isSessionReused(), authorized: socket.authorized, group: this.tlsGroup,
    });
  }

  /** Upgrade after `AUTH TLS` was accepted (RFC 4217). */
  async upgradeTls(): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    const secure = await this.startTls(raw);
    this.attach(secure);
    await this.afterHandshake(secure);
  }

  private onData(chunk: Buffer): void {
    let replies: Reply[];
    try {
      replies = this.parser.push(chunk);
    } catch (e) {
      this.fail(e instanceof FtpError ? e : new FtpError('protocol', String(e)));
      this.socket.destroy();
      return;
    }
    for (const raw of replies) {
      const reply = this.secrets.length ? { ...raw, text: this.mask(raw.text), message: this.mask(raw.message) } : raw;
      this.options.emit({ type: 'reply', id: this.id, code: reply.code, text: reply.text });
      const w = this.waiters.shift();
      if (w) {
        if (w.timer) clearTimeout(w.timer);
        w.resolve(reply);
      } else {
        this.replies.push(reply);
      }
      // 421 means the server is closing this connection, whatever command it answers: nothing
      // more may be sent on it, and nobody may wait for replies that will never come.
      if (reply.code === 421) {
        this.fail(new FtpError('connection-lost', `The server ${this.options.host} is closing the connection (421 ${reply.message}).`, { code: 421, replyText: reply.text }));
        this.socket.end();
        return;
      }
    }
  }

  private fail(err: FtpError): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(err);
    }
    this.options.emit({ type: 'close', id: this.id, reason: err.message });
    for (const l of this.closeListeners) l(err);
  }

  /**
   * From now on, commands (the paths in them) are written in this charset and replies read in it,
   * so a name goes back to the server as the bytes it came as. A function: the session's charset
   * may be learned later, by another session of the same server.
   */
  setCharset(codec: () => NameCodec): void {
    this.codec = codec;
    this.parser.decode = (line) => codec().decode(line);
  }

  /**
   * Sends one command line. CR, LF and NUL never reach the wire: they would inject commands. The
   * check is made on the bytes too, after encoding, since those are what the server reads.
   */
  send(command: string): void {
    const refuse = () => new FtpError('invalid-name', `Refusing to send a command containing a line break or NUL: ${JSON.stringify(maskCommand(command))}`);
    if (/[\r\n\0]/.test(command)) throw refuse();
    if (this.failure) throw this.failure;
    const codec = this.codec();
    const bytes = codec.encode(command);
    if (!bytes) {
      throw new FtpError('invalid-name', `Cannot send ${JSON.stringify(maskCommand(command))} in ${codec.charset}: a name in it has characters ${codec.charset} cannot write, or shows "\uFFFD" for bytes that were not valid ${codec.charset} — set the server's encoding to the charset its file names use.`);
    }
    if (bytes.includes(0x0d) || bytes.includes(0x0a) || bytes.includes(0x00)) throw refuse();
    this.options.emit({ type: 'command', id: this.id, text: maskCommand(command) });
    // Commands sent together (USER+PASS, FEAT+TYPE, EPSV+RETR) leave in one write, so in one
    // packet: servers that handle each packet on its own, such as ftp-srv, otherwise run them at
    // once and interleave their replies (a 200 inside a multi-line 211), and the client waits for
    // a reply that was swallowed.
    if (!this.corked) {
      const socket = this.socket;
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    this.lastWrite = new Promise((resolve) => this.socket.write(Buffer.concat([bytes, CRLF]), () => resolve()));
  }

  /** Resolves once every command sent so far has been handed to the network. */
  written(): Promise<void> {
    return this.lastWrite;
  }

  /** The next reply, in order. A buffered unsolicited reply (e.g. 421) is returned first. */
  read(timeoutMs = this.options.replyTimeoutMs): Promise<Reply> {
    const buffered = this.replies.shift();
    if (buffered) return Promise.resolve(buffered);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        w.timer = setTimeout(() => {
          const err = new FtpError('timeout', `No reply from ${this.options.host} within ${timeoutMs / 1000} s.`);
          // The reply stream is out of step now; the connection cannot be trusted any more.
          this.fail(err);
          this.socket.destroy();
        }, timeoutMs);
      }
      this.waiters.push(w);
    });
  }

  /** Sends a command and returns its first reply that is not preliminary (1xx). */
  async request(command: string, timeoutMs?: number): Promise<Reply> {
    this.send(command);
    for (;;) {
      const r = await this.read(timeoutMs);
      if (r.code >= 200) return r;
    }
  }

  /** Data arriving with nobody asking for it (e.g. a 421 before idle close) shows up here. */
  get hasUnsolicited(): boolean { return this.replies.length > 0; }

  destroy(reason?: FtpError): void {
    this.fail(reason ?? new FtpError('connection-lost', 'Connection closed.'));
    this.socket?.destroy();
  }

  /**
   * Polite close: QUIT and our FIN go out together; the 221 is not waited for (it would cost a
   * round trip and tells nothing), nor is the server's FIN: the socket no longer keeps a process
   * alive (a one-shot CLI command exits once its work is confirmed), and is destroyed if the server
   * does not close it soon.
   */
  async quit(): Promise<void> {
    if (this.failure) return;
    const socket = this.socket;
    try { this.send('QUIT'); } catch { /* closing anyway */ }
    this.fail(new FtpError('connection-lost', 'Connection closed by client.'));
    socket.end();
    socket.unref();
    setTimeout(() => socket.destroy(), 2000).unref();
  }
}

export function maskCommand(command: string): string {
  return SECRET_COMMANDS.test(command) ? command.replace(/^(\S+).*$/s, '$1 ****') : command;
}

export function stripMapped(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function connectError(err: Error & { code?: string }, host: string, port: number): FtpError {
  const hints: Record<string, string> = {
    ECONNREFUSED: 'nothing listens on that port — check the port and that the FTP server runs',
    ENOTFOUND: 'the host name does not resolve — check its spelling',
    EAI_AGAIN: 'the host name could not be resolved right now — check your network',
    EHOSTUNREACH: 'the host is unreachable — check the network or VPN',
    ENETUNREACH: 'the network is unreachable — check the network or VPN',
    ETIMEDOUT: 'the connection timed out — a firewall may drop it',
    ECONNRESET: 'the connection was reset — a firewall or the server refused it',
  };
  const hint = (err.code && hints[err.code]) || err.message;
  const kind = err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /SSL|TLS/i.test(err.message) ? 'tls' : 'connect';
  return new FtpError(kind, `Could not connect to ${host}:${port}: ${hint}.`, { cause: err });
}
