/**
 * A scriptable fake FTP server on loopback, for the faults no real server produces on demand:
 * dropped connections mid-transfer, 421 at any moment, endless or giant replies, malformed
 * EPSV/PASV replies, PASV pointing elsewhere, hostile listings, stalls and trickles, and in active
 * mode a data connection from a third address.
 *
 * It serves a small in-memory tree with enough of RFC 959/2428/3659 for FtpClient to do real work
 * (login, FEAT, EPSV/PASV/EPRT/PORT, LIST/MLSD, RETR/STOR, SIZE/MDTM/MLST, MKD/RMD/DELE/RNFR/RNTO).
 * Any command can be replaced by a handler, which may still run the default behaviour, with a
 * transfer fault, through `next()`. Like a real server, STOR truncates its target as soon as the
 * transfer starts, so a broken upload straight onto a file leaves it truncated.
 */
import { X509Certificate, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { ensureCertificate } from './realServers';

export interface TransferFault {
  /** Bytes per write, and the pause between writes: a trickling download (default: one write). */
  chunkBytes?: number;
  intervalMs?: number;
  /** After this many bytes have moved (either direction), drop the control and data connections. */
  dropAfterBytes?: number;
  /** After this many bytes, send "421" and close the control connection instead. */
  reply421AfterBytes?: number;
  /** After this many bytes, stop moving data but keep both connections open. */
  stallAfterBytes?: number;
  /** Uploads: read at most `chunkBytes` per `intervalMs` (a slow server). */
  slowRead?: boolean;
  /** Downloads: announce this size in the 150, as vsftpd and proftpd do ("(N bytes)"). */
  announcedBytes?: number;
  /**
   * Uploads: what to answer instead of "226 Transfer complete." once the data is in (a write that
   * failed at the end: "451 …", "452 …"); raw lines, CRLF between them, for several replies.
   */
  finalReply?: string;
  /**
   * Uploads: wait this long between closing the data connection and the final reply, as vsftpd
   * does during its lingering close; commands sent meanwhile wait, as vsftpd's do.
   */
  finalReplyDelayMs?: number;
}

export interface CommandContext {
  session: Session;
  verb: string;
  arg: string;
  /** Runs the built-in behaviour of the command, optionally with a transfer fault. */
  next(fault?: TransferFault): Promise<void>;
}

export type Handler = (ctx: CommandContext) => void | Promise<void>;

export interface FaultServerOptions {
  user?: string;
  password?: string;
  /** Files by absolute path; folders are implied, or given with a trailing '/'. */
  files?: Record<string, string | Buffer>;
  /** Offer MLST/MLSD (default false: LIST, SIZE and MDTM). */
  mlst?: boolean;
  /**
   * Offer checksums as proftpd's mod_digest does: FEAT `HASH SHA-256*;MD5`, `XSHA256` and `XMD5`
   * (`path [start end]`, end exclusive). A handler replacing HASH or XSHA256 makes a wrong one.
   */
  checksums?: boolean;
  /** Address written into PASV replies (default: the control connection's local address). */
  pasvAddress?: string;
  /** Extra addresses the passive listener also listens on, on the same port. */
  extraPasvListen?: string[];
  /** Active mode: connect first from this local address (a third host), with `decoyPayload`. */
  activeDecoyFrom?: string;
  /** Active mode: connect only from the decoy address, never from the real one. */
  activeDecoyOnly?: boolean;
  /** What the decoy connection sends (default "EVIL"). */
  decoyPayload?: Buffer;
  /** Greeting reply, raw, CRLF included (default "220 fault server"). */
  greeting?: string;
  /**
   * Explicit FTPS (AUTH TLS, PBSZ, PROT P) with the test certificate. `dataTls` is when a TLS data
   * connection's ClientHello may arrive: at 'any' time (default); only 'after-command', once the
   * transfer command was read; only 'after-preliminary', once the 150 went out (which this server
   * then sends 50 ms after the command, as one that opens the file first would). Earlier, the
   * connection is closed and the transfer waits for one that never comes — as a real server does
   * (RFC 4217's examples start TLS after the command and its 1xx).
   */
  tls?: { dataTls?: 'any' | 'after-command' | 'after-preliminary' };
  /**
   * An older BSD-derived daemon: each command chosen here is answered "500 'X': command not
   * understood." as those daemons do (FEAT, EPSV, EPRT, SIZE, MDTM). With `old` set, MLSD and
   * MLST are refused the same way, and LIST is the classic `ls -l` in the server's local time.
   */
  old?: { noFeat?: boolean; noEpsv?: boolean; noEprt?: boolean; noSize?: boolean; noMdtm?: boolean };
  /**
   * The server's time zone, in minutes east of UTC: LIST shows local times (`Mon DD HH:MM` within
   * six months, else `Mon DD  YYYY`, as `ls` does), while MDTM, MLST and MLSD stay UTC (RFC 3659).
   */
  zoneOffsetMinutes?: number;
  /**
   * MDTM answers in the server's local time (`zoneOffsetMinutes`) too, against RFC 3659 — as
   * vsftpd with use_localtime=YES and some Windows/IIS and embedded servers do.
   */
  mdtmLocal?: boolean;
  /** LIST leaves out names that begin with a dot and refuses "-a", as a server set to hide them does. */
  hideDotFiles?: boolean;
  /**
   * Symbolic links by absolute path → target (relative to the link's folder, or absolute), as a
   * Unix daemon serves them: listed by LIST as `lrwxrwxrwx … name -> target`; every command follows
   * them in a path (CWD, LIST, RETR, STOR, SIZE, MDTM) except DELE of the link itself, which removes
   * the link, and RMD of it, which is refused (`550 Not a directory`) as rmdir(2) refuses a link.
   */
  links?: Record<string, string>;
  /** Modification times (ms since the epoch) by path; other files have FaultServer.defaultMtime, written ones the time of the write. */
  mtimes?: Record<string, number>;
}

/** Where a session's transfer stands, for the data-TLS ordering rule. */
type TransferPhase = 'idle' | 'command' | 'preliminary';

export interface DataConnectionRecord {
  session: number;
  kind: 'passive' | 'active' | 'decoy';
  /** For passive: the address the client connected to; for active: the address we connected from. */
  serverAddress: string;
  clientAddress: string;
  /** True once the client closed it before we did (a refused decoy). */
  closedByClient?: boolean;
}

export class Session {
  user?: string;
  authed = false;
  renameFrom?: string;
  rest = 0;
  /** PROT P: data connections are TLS. */
  protP = false;
  /** The control connection as it is now: the TCP socket, or the TLS socket over it after AUTH TLS. */
  socket: net.Socket;
  private phase: TransferPhase = 'idle';
  /** Bytes a TLS data connection sent before the rules let it, closing it. */
  private early = new WeakMap<net.Socket, Buffer[]>();
  private violated = new WeakSet<net.Socket>();
  private passive?: { servers: net.Server[]; socket: Promise<net.Socket> };
  /** The control connection's reader, moved onto the TLS socket at AUTH TLS. */
  onData?: (chunk: Buffer) => void;
  private active?: { host: string; port: number };
  private ended = false;

  constructor(
    readonly id: number,
    /** The control connection's TCP socket (addresses), whatever runs over it. */
    readonly tcp: net.Socket,
    private readonly server: FaultServer,
  ) {
    this.socket = tcp;
    tcp.on('close', () => {
      this.ended = true;
      this.closePassive();
    });
  }

  get closed(): boolean {
    return this.ended || this.tcp.destroyed;
  }

  /** Writes one reply line (CRLF added). */
  reply(line: string): void {
    this.raw(line + '\r\n');
  }

  raw(data: string | Buffer): boolean {
    if (this.closed) return false;
    return this.socket.write(data);
  }

  /** Server hangs up: FIN by default, RST with `reset`. */
  drop(reset = false): void {
    this.ended = true;
    this.closePassive();
    if (reset) this.tcp.resetAndDestroy();
    else this.tcp.destroy();
  }

  /** Sends "421" and closes, as a server shutting down does. */
  close421(text = 'Service not available, closing control connection.'): void {
    this.reply(`421 ${text}`);
    this.socket.end();
    this.ended = true;
    this.closePassive();
  }

  /** Writes lines of a multi-line reply without end, respecting back-pressure, until the client goes. */
  async endlessReply(code = 211): Promise<void> {
    this.raw(`${code}-Here it comes\r\n`);
    const line = Buffer.from(` ${'x'.repeat(70)}\r\n`);
    const batch = Buffer.concat(Array(256).fill(line));
    while (!this.closed) {
      if (!this.raw(batch)) await waitDrainOrClose(this.socket);
    }
  }

  /** One reply line of `bytes` bytes with no line end, then silence. */
  giantLine(bytes = 1024 * 1024): void {
    this.raw(Buffer.concat([Buffer.from('200 '), Buffer.alloc(bytes - 4, 0x41)]));
  }

  // ------------------------------------------------------------ data connections

  async openPassive(): Promise<number> {
    this.closePassive();
    const local = stripMapped(this.tcp.localAddress ?? '127.0.0.1');
    const first = await listen(local, 0);
    const port = (first.address() as net.AddressInfo).port;
    const servers = [first];
    for (const extra of this.server.options.extraPasvListen ?? []) servers.push(await listen(extra, port));
    const socket = new Promise<net.Socket>((resolve) => {
      for (const s of servers) {
        s.once('connection', (c) => {
          this.server.dataConnections.push({
            session: this.id, kind: 'passive', serverAddress: stripMapped(c.localAddress ?? ''), clientAddress: stripMapped(c.remoteAddress ?? ''),
          });
          for (const other of servers) other.close();
          this.watchEarlyBytes(c);
          resolve(c);
        });
      }
    });
    this.passive = { servers, socket };
    return port;
  }

  setActive(host: string, port: number): void {
    this.closePassive();
    this.active = { host, port };
  }

  /** Closes the passive listener and any data connection already made to it (a server's accept timeout). */
  dropPassive(): void {
    this.closePassive();
  }

  /**
   * Forgets the passive listener without closing anything: the client's connection stays open,
   * but the next transfer command gets "425 Use PORT or PASV first".
   */
  forgetPassive(): void {
    const forgotten = this.passive;
    this.passive = undefined;
    if (forgotten) this.socket.once('close', () => { for (const srv of forgotten.servers) srv.close(); void forgotten.socket.then((c) => c.destroy()); });
  }

  private closePassive(): void {
    for (const s of this.passive?.servers ?? []) s.close();
    this.passive?.socket.then((s) => s.destroy(), () => undefined);
    this.passive = undefined;
  }

  // ------------------------------------------------------------ TLS

  /** AUTH TLS was accepted (234 sent): the control connection continues over TLS. */
  upgrade(onData: (chunk: Buffer) => void): void {
    this.tcp.removeListener('data', onData);
    const secure = new tls.TLSSocket(duplexOver(this.tcp, []), { isServer: true, secureContext: this.server.secureContext() });
    secure.on('error', () => undefined);
    secure.on('data', onData);
    this.socket = secure;
  }

  /** Notes a TLS data connection's first bytes, and closes it when they come before the rules allow. */
  private watchEarlyBytes(c: net.Socket): void {
    if (!this.protP) return;
    const chunks: Buffer[] = [];
    this.early.set(c, chunks);
    const rule = this.server.options.tls?.dataTls ?? 'any';
    c.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (chunks.length > 1) return;
      const tooEarly = (rule === 'after-command' && this.phase === 'idle') || (rule === 'after-preliminary' && this.phase !== 'preliminary');
      if (tooEarly) {
        this.server.tlsTooEarly++;
        this.violated.add(c);
        c.destroy();
      }
    });
  }

  /**
   * The data connection with TLS on it (when PROT P), started after the 150. A connection closed for
   * a ClientHello that came too early never comes back: like the real server, the session then
   * waits until the client gives up on it.
   */
  private async secured(c: net.Socket): Promise<net.Socket | undefined> {
    if (!this.protP) return c;
    if (!this.violated.has(c)) {
      const secure = new tls.TLSSocket(duplexOver(c, this.early.get(c) ?? []), { isServer: true, secureContext: this.server.secureContext() });
      secure.on('error', () => undefined);
      const ok = await new Promise<boolean>((resolve) => {
        secure.once('secure', () => resolve(true));
        secure.once('close', () => resolve(false));
      });
      if (ok) return secure;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000).unref();
      this.tcp.once('close', () => { clearTimeout(timer); resolve(); });
    });
    if (!this.closed) this.reply('425 No data connection.');
    return undefined;
  }

  /** The data connection for the transfer command just received, or undefined (425 sent). */
  async dataSocket(): Promise<net.Socket | undefined> {
    this.phase = 'command';
    if (this.passive) {
      const { socket, servers } = this.passive;
      this.passive = undefined;
      const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref());
      const s = await Promise.race([socket, timeout]);
      for (const srv of servers) srv.close();
      if (!s) this.reply('425 No data connection.');
      return s;
    }
    if (this.active) {
      const { host, port } = this.active;
      this.active = undefined;
      const o = this.server.options;
      if (o.activeDecoyFrom) {
        await this.decoy(host, port, o.activeDecoyFrom, o.decoyPayload ?? Buffer.from('EVIL'));
        if (o.activeDecoyOnly) {
          this.reply('425 Could not open data connection.');
          return undefined;
        }
      }
      try {
        const s = await connect(host, port);
        this.watchEarlyBytes(s);
        this.server.dataConnections.push({
          session: this.id, kind: 'active', serverAddress: stripMapped(s.localAddress ?? ''), clientAddress: stripMapped(s.remoteAddress ?? ''),
        });
        return s;
      } catch {
        this.reply('425 Could not open data connection.');
        return undefined;
      }
    }
    this.reply('425 Use PORT or PASV first.');
    return undefined;
  }

  /** Connects from a third address, sends a payload, and notes whether the client hung up on it. */
  private async decoy(host: string, port: number, from: string, payload: Buffer): Promise<void> {
    const record: DataConnectionRecord = { session: this.id, kind: 'decoy', serverAddress: from, clientAddress: host };
    this.server.dataConnections.push(record);
    try {
      const s = await connect(host, port, from);
      s.on('error', () => undefined);
      s.write(payload);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { s.destroy(); resolve(); }, 300);
        s.once('close', () => { clearTimeout(timer); record.closedByClient = true; resolve(); });
        s.on('data', () => undefined);
      });
    } catch {
      record.closedByClient = true;
    }
  }

  /** 150, the bytes, 226 — with an optional fault on the way. */
  async sendData(data: Buffer, fault: TransferFault = {}): Promise<void> {
    const raw = await this.dataSocket();
    if (!raw) return this.transferDone();
    await this.beforePreliminary();
    this.reply(fault.announcedBytes === undefined ? '150 Here it comes.' : `150 Opening BINARY mode data connection (${fault.announcedBytes} bytes).`);
    this.phase = 'preliminary';
    const socket = await this.secured(raw);
    if (!socket) return this.transferDone();
    socket.on('error', () => undefined);
    const chunk = fault.chunkBytes ?? Math.max(1, data.length);
    let sent = 0;
    while (sent < data.length) {
      if (socket.destroyed || this.closed) {
        socket.destroy();
        if (!this.closed) this.reply('426 Connection closed; transfer aborted.');
        return;
      }
      let piece = data.subarray(sent, sent + chunk);
      const limit = firstLimit(fault, sent);
      if (limit !== undefined) piece = piece.subarray(0, Math.max(0, limit - sent));
      if (piece.length > 0) {
        sent += piece.length;
        if (!socket.write(piece)) await waitDrainOrClose(socket);
      }
      if (await this.applyLimit(fault, sent, socket)) return;
      if (fault.intervalMs) await sleep(fault.intervalMs);
    }
    await new Promise<void>((resolve) => socket.end(resolve));
    socket.destroy();
    this.reply('226 Transfer complete.');
    this.transferDone();
  }

  private async beforePreliminary(): Promise<void> {
    if (this.server.options.tls?.dataTls === 'after-preliminary') await sleep(50);
  }

  private transferDone(): void {
    this.phase = 'idle';
  }

  /** 150, reads until the client closes, stores what came (even when cut short, like a real server), 226. */
  async receiveData(store: (data: Buffer) => void, fault: TransferFault = {}): Promise<void> {
    const raw = await this.dataSocket();
    if (!raw) return this.transferDone();
    await this.beforePreliminary();
    this.reply('150 Ok to send data.');
    this.phase = 'preliminary';
    const socket = await this.secured(raw);
    if (!socket) return this.transferDone();
    socket.on('error', () => undefined);
    const chunks: Buffer[] = [];
    let received = 0;
    store(Buffer.alloc(0)); // the target is truncated as soon as the transfer starts
    const outcome = await new Promise<'end' | 'fault' | 'error'>((resolve) => {
      let window = 0;
      let faulted = false;
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
        window += c.length;
        if (!faulted && firstLimit(fault, 0) !== undefined && received >= firstLimit(fault, 0)!) {
          faulted = true;
          void this.applyLimit(fault, received, socket, () => store(Buffer.concat(chunks))).then((hit) => { if (hit) resolve('fault'); });
        }
        if (fault.slowRead && window >= (fault.chunkBytes ?? 16 * 1024)) {
          window = 0;
          socket.pause();
          setTimeout(() => { if (!socket.destroyed) socket.resume(); }, fault.intervalMs ?? 100);
        }
      });
      socket.once('end', () => resolve('end'));
      socket.once('close', (hadError) => resolve(hadError ? 'error' : 'end'));
      this.socket.once('close', () => resolve('fault'));
    });
    store(Buffer.concat(chunks));
    this.transferDone();
    if (outcome === 'fault') return;
    socket.destroy();
    if (fault.finalReplyDelayMs) await new Promise((resolve) => setTimeout(resolve, fault.finalReplyDelayMs));
    if (outcome === 'error') this.reply('426 Failure reading network stream.');
    else this.reply(fault.finalReply ?? '226 Transfer complete.');
  }

  /** Applies drop/421/stall limits; true when the transfer is over (connections gone or stalled). */
  private async applyLimit(fault: TransferFault, moved: number, socket: net.Socket, beforeFault?: () => void): Promise<boolean> {
    if (fault.dropAfterBytes !== undefined && moved >= fault.dropAfterBytes) {
      this.server.faultsInjected++;
      beforeFault?.();
      socket.destroy();
      this.drop();
      return true;
    }
    if (fault.reply421AfterBytes !== undefined && moved >= fault.reply421AfterBytes) {
      this.server.faultsInjected++;
      beforeFault?.();
      socket.destroy();
      this.close421();
      return true;
    }
    if (fault.stallAfterBytes !== undefined && moved >= fault.stallAfterBytes) {
      this.server.faultsInjected++;
      socket.pause();
      // Stay silent until the client gives up on the data connection; then answer as servers do.
      await new Promise<void>((resolve) => { socket.once('close', () => resolve()); this.socket.once('close', () => resolve()); });
      if (!this.closed) this.reply('426 Connection closed; transfer aborted.');
      return true;
    }
    return false;
  }
}

function firstLimit(fault: TransferFault, sent: number): number | undefined {
  const limits = [fault.dropAfterBytes, fault.reply421AfterBytes, fault.stallAfterBytes].filter((n): n is number => n !== undefined && n > sent);
  return limits.length ? Math.min(...limits) : undefined;
}

export class FaultServer {
  host = '127.0.0.1';
  port = 0;
  readonly user: string;
  readonly password: string;
  /** Files by absolute path. */
  readonly files = new Map<string, Buffer>();
  /** Modification times of the files, ms since the epoch (whole seconds, as a disk keeps them for FTP). */
  readonly mtimes = new Map<string, number>();
  /** The time of a file given without one: 2024-01-02 03:04:05 UTC. */
  static readonly defaultMtime = Date.UTC(2024, 0, 2, 3, 4, 5);
  readonly dirs = new Set<string>(['/']);
  /** Symbolic links: absolute path → target as written. */
  readonly links = new Map<string, string>();
  /** Every command received, in order, with the session it came on (PASS arguments included). */
  readonly commands: { session: number; verb: string; arg: string }[] = [];
  /** The verbs of the commands each read of a control socket brought, in order (how the client batched them). */
  readonly reads: string[][] = [];
  readonly sessions: Session[] = [];
  readonly dataConnections: DataConnectionRecord[] = [];
  faultsInjected = 0;
  /** TLS data connections closed because their ClientHello came before `tls.dataTls` allows. */
  tlsTooEarly = 0;
  private context?: tls.SecureContext;
  /** The test certificate's SHA-256 fingerprint, as Node prints it (for a client to pin). */
  readonly certFingerprint256?: string;
  private readonly handlers = new Map<string, Handler>();
  private readonly server: net.Server;
  private nextSession = 1;

  private constructor(readonly options: FaultServerOptions) {
    this.user = options.user ?? 'user';
    this.password = options.password ?? 'secret-pass';
    for (const [p, content] of Object.entries(options.files ?? {})) {
      if (p.endsWith('/')) this.addDir(p.slice(0, -1) || '/');
      else this.writeFile(p, typeof content === 'string' ? Buffer.from(content) : content, options.mtimes?.[p] ?? FaultServer.defaultMtime);
    }
    for (const [p, target] of Object.entries(options.links ?? {})) {
      this.addDir(parent(p));
      this.links.set(p, target);
    }
    this.server = net.createServer((socket) => this.accept(socket));
    if (options.tls) this.certFingerprint256 = new X509Certificate(fs.readFileSync(ensureCertificate().certPath)).fingerprint256;
  }

  /** `p` with the links in its folders (and, with `last`, in its last part) replaced by their targets. */
  follow(p: string, last: boolean): string {
    if (this.links.size === 0) return p;
    let parts = p.split('/').filter(Boolean);
    for (let i = 0, hops = 0; i < parts.length; i++) {
      if (i === parts.length - 1 && !last) break;
      const at = '/' + parts.slice(0, i + 1).join('/');
      const target = this.links.get(at);
      if (target === undefined) continue;
      if (++hops > 20) return p;
      const base = target.startsWith('/') ? target : `${parent(at)}/${target}`;
      parts = resolve(base + '/' + parts.slice(i + 1).join('/')).split('/').filter(Boolean);
      i = -1;
    }
    return '/' + parts.join('/');
  }

  secureContext(): tls.SecureContext {
    const { certPath, keyPath } = ensureCertificate();
    this.context ??= tls.createSecureContext({ cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath) });
    return this.context;
  }

  static async start(options: FaultServerOptions = {}): Promise<FaultServer> {
    const s = new FaultServer(options);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(0, '127.0.0.1', () => resolve());
    });
    s.port = (s.server.address() as net.AddressInfo).port;
    return s;
  }

  /** A loopback port where nothing listens (a connect to it is refused). */
  static async unusedPort(): Promise<number> {
    const probe = await listen('127.0.0.1', 0);
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    return port;
  }

  /** Replaces the behaviour of a command (upper-case verb); `next()` in the handler runs the default. */
  handle(verb: string, handler: Handler): this {
    this.handlers.set(verb.toUpperCase(), handler);
    return this;
  }

  /** Like handle, for the next `times` uses of the verb only (default once). */
  handleOnce(verb: string, handler: Handler, times = 1): this {
    let left = times;
    const v = verb.toUpperCase();
    const previous = this.handlers.get(v);
    this.handlers.set(v, (ctx) => {
      if (--left <= 0) {
        if (previous) this.handlers.set(v, previous);
        else this.handlers.delete(v);
      }
      return handler(ctx);
    });
    return this;
  }

  clearHandlers(): void {
    this.handlers.clear();
  }

  count(verb: string): number {
    return this.commands.filter((c) => c.verb === verb.toUpperCase()).length;
  }

  /** Sessions with their control connection still open. */
  get liveSessions(): number {
    return this.sessions.filter((s) => !s.closed).length;
  }

  /** Puts a file, dated `mtime` (default: now, to the second). */
  writeFile(p: string, data: Buffer, mtime = wholeSeconds(Date.now())): void {
    this.addDir(parent(p));
    this.files.set(p, data);
    this.mtimes.set(p, mtime);
  }

  addDir(p: string): void {
    for (let d = p; ; d = parent(d)) {
      this.dirs.add(d);
      if (d === '/') break;
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sessions) s.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------ protocol

  private accept(socket: net.Socket): void {
    const session = new Session(this.nextSession++, socket, this);
    this.sessions.push(session);
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    session.raw(this.options.greeting ?? '220 fault server\r\n');
    let buffer = '';
    const queue: string[] = [];
    let working = false;
    const work = async () => {
      if (working) return;
      working = true;
      while (queue.length > 0 && !session.closed) {
        const line = queue.shift()!;
        const sp = line.indexOf(' ');
        const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
        const arg = sp < 0 ? '' : line.slice(sp + 1);
        this.commands.push({ session: session.id, verb, arg });
        try {
          await this.dispatch(session, verb, arg);
        } catch (e) {
          session.reply(`451 Internal error: ${(e as Error).message}`);
        }
      }
      working = false;
    };
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      const read: string[] = [];
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        queue.push(buffer.slice(0, nl));
        read.push(buffer.slice(0, nl).split(' ')[0].toUpperCase());
        buffer = buffer.slice(nl + 2);
      }
      if (read.length > 0) this.reads.push(read);
      void work();
    };
    socket.on('data', onData);
    session.onData = onData;
  }

  private dispatch(session: Session, verb: string, arg: string): Promise<void> {
    const next = (fault?: TransferFault) => this.builtin(session, verb, arg, fault);
    const handler = this.handlers.get(verb);
    if (handler) return Promise.resolve(handler({ session, verb, arg, next }));
    return next();
  }

  private async builtin(s: Session, verb: string, arg: string, fault?: TransferFault): Promise<void> {
    if (verb === 'USER') {
      s.user = arg;
      s.authed = false;
      return s.reply('331 Please specify the password.');
    }
    if (verb === 'PASS') {
      if (s.user === this.user && arg === this.password) {
        s.authed = true;
        return s.reply('230 Login successful.');
      }
      return s.reply('530 Login incorrect.');
    }
    if (verb === 'QUIT') {
      s.reply('221 Goodbye.');
      s.socket.end();
      return;
    }
    if (verb === 'AUTH') {
      if (!this.options.tls || arg.toUpperCase() !== 'TLS') return s.reply('504 AUTH type not supported.');
      s.reply('234 Proceed with negotiation.');
      if (s.onData) s.upgrade(s.onData);
      return;
    }
    const old = this.options.old ?? {};
    const refused = { FEAT: old.noFeat, EPSV: old.noEpsv, EPRT: old.noEprt, SIZE: old.noSize, MDTM: old.noMdtm, MLSD: !!this.options.old, MLST: !!this.options.old }[verb];
    if (refused) return s.reply(`500 '${verb}': command not understood.`);
    if (verb === 'FEAT') {
      const feats = ['EPSV', 'EPRT', 'PASV', 'SIZE', 'MDTM', 'UTF8', 'REST STREAM', ...(this.options.mlst ? ['MLST type*;size*;modify*;'] : []), ...(this.options.checksums ? ['HASH SHA-256*;MD5', 'XSHA256', 'XMD5'] : []), ...(this.options.tls ? ['AUTH TLS', 'PBSZ', 'PROT'] : [])];
      return void s.raw(`211-Features:\r\n${feats.map((f) => ` ${f}\r\n`).join('')}211 End\r\n`);
    }
    if (!s.authed) return s.reply('530 Please login with USER and PASS.');
    // The path as named (DELE, RMD and RNFR act on a link itself), and as the file system reaches it.
    const named = this.follow(resolve(arg), false);
    const p = verb === 'DELE' || verb === 'RMD' || verb === 'RNFR' ? named : this.follow(named, true);
    if (verb === 'RMD' && this.links.has(p)) return s.reply('550 Remove directory operation failed: Not a directory.');
    if (verb === 'DELE' && this.links.delete(p)) return s.reply('250 Delete operation successful.');
    switch (verb) {
      case 'NOOP': return s.reply('200 NOOP ok.');
      case 'PBSZ': return s.reply('200 PBSZ=0');
      case 'PROT':
        s.protP = arg.toUpperCase() === 'P';
        return s.reply(`200 PROT now ${s.protP ? 'Private' : 'Clear'}.`);
      case 'OPTS': return s.reply('200 Always in UTF8 mode.');
      case 'TYPE': return s.reply('200 Switching to Binary mode.');
      case 'SYST': return s.reply('215 UNIX Type: L8');
      case 'PWD': return s.reply('257 "/" is the current directory');
      case 'CWD': return s.reply(this.dirs.has(p) ? '250 Directory successfully changed.' : '550 Failed to change directory.');
      case 'REST': s.rest = Number(arg) || 0; return s.reply(`350 Restart position accepted (${s.rest}).`);
      case 'ABOR': return s.reply('226 ABOR successful.');
      case 'EPSV': {
        const port = await s.openPassive();
        return s.reply(`229 Entering Extended Passive Mode (|||${port}|)`);
      }
      case 'PASV': {
        const port = await s.openPassive();
        const addr = this.options.pasvAddress ?? stripMapped(s.tcp.localAddress ?? '127.0.0.1');
        return s.reply(`227 Entering Passive Mode (${addr.split('.').join(',')},${port >> 8},${port & 255}).`);
      }
      case 'EPRT': {
        const m = /^(.)(\d)\1([^|]+)\1(\d+)\1$/.exec(arg);
        if (!m) return s.reply('501 Bad EPRT.');
        s.setActive(m[3], Number(m[4]));
        return s.reply('200 EPRT command successful. Consider using EPSV.');
      }
      case 'PORT': {
        const n = arg.split(',').map(Number);
        if (n.length !== 6) return s.reply('501 Bad PORT.');
        s.setActive(n.slice(0, 4).join('.'), n[4] * 256 + n[5]);
        return s.reply('200 PORT command successful. Consider using PASV.');
      }
      case 'LIST': case 'NLST': case 'MLSD': {
        if (this.options.hideDotFiles && /^-\S*a/.test(arg)) {
          await s.dataSocket().then((d) => d?.destroy());
          return s.reply("500 Unknown option '-a'.");
        }
        const dir = this.follow(resolve(arg.replace(/^-\S+\s*/, '') || '/'), true);
        if (!this.dirs.has(dir)) {
          await s.dataSocket().then((d) => d?.destroy());
          return s.reply('550 Failed to open directory.');
        }
        return s.sendData(Buffer.from(this.listing(dir, verb === 'MLSD')), fault);
      }
      case 'RETR': {
        const data = this.files.get(p);
        if (!data) {
          await s.dataSocket().then((d) => d?.destroy());
          return s.reply('550 Failed to open file.');
        }
        const from = s.rest;
        s.rest = 0;
        return s.sendData(data.subarray(from), fault);
      }
      case 'STOR': case 'APPE': {
        if (!this.dirs.has(parent(p)) || this.dirs.has(p)) {
          await s.dataSocket().then((d) => d?.destroy());
          return s.reply('553 Could not create file.');
        }
        // APPE adds at the end; STOR after REST n keeps the first n bytes (as vsftpd and pure-ftpd do).
        const existing = this.files.get(p) ?? Buffer.alloc(0);
        const base = verb === 'APPE' ? existing : existing.subarray(0, s.rest);
        s.rest = 0;
        return s.receiveData((data) => this.writeFile(p, Buffer.concat([base, data])), fault);
      }
      case 'HASH': case 'XSHA256': case 'XMD5': {
        if (!this.options.checksums) return s.reply('500 Unknown command.');
        // X-commands: "path [start end]"; the path is what stands before two numbers at the end.
        const range = verb === 'HASH' ? undefined : /^(.*) (\d+) (\d+)$/.exec(arg);
        const file = range ? resolve(range[1]) : p;
        const data = this.files.get(file);
        if (!data) return s.reply(`550 ${file}: No such file or directory`);
        const part = range ? data.subarray(Number(range[2]), Number(range[3])) : data;
        const hex = createHash(verb === 'XMD5' ? 'md5' : 'sha256').update(part).digest('hex');
        return verb === 'HASH' ? s.reply(`213 SHA-256 0-${data.length} ${hex} ${file}`) : s.reply(`250 ${hex.toUpperCase()}`);
      }
      case 'SIZE': {
        const data = this.files.get(p);
        return s.reply(data ? `213 ${data.length}` : '550 Could not get file size.');
      }
      case 'MDTM': {
        const mtime = this.mtimes.get(p);
        const local = this.options.mdtmLocal ? (this.options.zoneOffsetMinutes ?? 0) * 60_000 : 0;
        return s.reply(this.files.has(p) && mtime !== undefined ? `213 ${time14(mtime + local)}` : '550 Could not get file modification time.');
      }
      case 'MLST': {
        // As pure-ftpd: MLST of a link tells the link, not its target.
        const link = this.links.get(named);
        if (link !== undefined) return void s.raw(`250-Listing ${named}\r\n type=OS.unix=slink:;size=${link.length};modify=${time14(FaultServer.defaultMtime)}; ${named}\r\n250 End\r\n`);
        const f = this.files.get(p);
        if (!f && !this.dirs.has(p)) return s.reply('550 No such file or directory.');
        const facts = f ? `type=file;size=${f.length};modify=${time14(this.mtimes.get(p) ?? FaultServer.defaultMtime)};` : `type=dir;modify=${time14(FaultServer.defaultMtime)};`;
        return void s.raw(`250-Listing ${p}\r\n ${facts} ${p}\r\n250 End\r\n`);
      }
      case 'MKD':
        if (this.dirs.has(p) || this.files.has(p) || !this.dirs.has(parent(p))) return s.reply('550 Create directory operation failed.');
        this.dirs.add(p);
        return s.reply(`257 "${p}" created`);
      case 'RMD':
        if (!this.dirs.has(p) || p === '/' || [...this.files.keys(), ...this.dirs].some((x) => x !== p && x.startsWith(p + '/'))) {
          return s.reply('550 Remove directory operation failed.');
        }
        this.dirs.delete(p);
        return s.reply('250 Remove directory operation successful.');
      case 'DELE':
        if (!this.files.delete(p)) return s.reply('550 Delete operation failed.');
        this.mtimes.delete(p);
        return s.reply('250 Delete operation successful.');
      case 'RNFR':
        if (!this.files.has(p) && !this.dirs.has(p)) return s.reply('550 RNFR command failed.');
        s.renameFrom = p;
        return s.reply('350 Ready for RNTO.');
      case 'RNTO': {
        const from = s.renameFrom;
        s.renameFrom = undefined;
        if (!from || !this.dirs.has(parent(p))) return s.reply('503 RNFR required first.');
        const data = this.files.get(from);
        if (!data) return s.reply('550 Rename failed.');
        const mtime = this.mtimes.get(from);
        this.files.delete(from);
        this.mtimes.delete(from);
        this.writeFile(p, data, mtime);
        return s.reply('250 Rename successful.');
      }
      default:
        return s.reply('502 Command not implemented.');
    }
  }

  private listing(dir: string, mlsd: boolean): string {
    const prefix = dir === '/' ? '/' : dir + '/';
    const children = new Map<string, { data?: Buffer; mtime: number }>();
    for (const [p, data] of this.files) if (parent(p) === dir) children.set(p.slice(prefix.length), { data, mtime: this.mtimes.get(p) ?? FaultServer.defaultMtime });
    for (const d of this.dirs) if (d !== dir && parent(d) === dir) children.set(d.slice(prefix.length), { mtime: FaultServer.defaultMtime });
    const links = [...this.links].filter(([l]) => parent(l) === dir).map(([l, target]) => ({ name: l.slice(prefix.length), target }));
    const zone = (this.options.zoneOffsetMinutes ?? 0) * 60_000;
    if (this.options.hideDotFiles) for (const name of [...children.keys()]) if (name.startsWith('.')) children.delete(name);
    return [...children].map(([name, { data, mtime }]) => (mlsd
      ? data ? `type=file;size=${data.length};modify=${time14(mtime)}; ${name}` : `type=dir;modify=${time14(mtime)}; ${name}`
      : data ? `-rw-r--r--    1 1000     1000     ${String(data.length).padStart(8)} ${lsDate(mtime + zone)} ${name}` : `drwxr-xr-x    2 1000     1000         4096 ${lsDate(mtime + zone)} ${name}`))
      .concat(links.map(({ name, target }) => (mlsd
        ? `type=OS.unix=slink:;size=${target.length};modify=${time14(FaultServer.defaultMtime)}; ${name}`
        : `lrwxrwxrwx    1 1000     1000     ${String(target.length).padStart(8)} ${lsDate(FaultServer.defaultMtime + zone)} ${name} -> ${target}`)))
      .map((l) => l + '\r\n').join('');
  }
}

function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** RFC 3659's `YYYYMMDDHHMMSS`, UTC. */
function time14(ms: number): string {
  return new Date(ms).toISOString().replace(/[-T:]/g, '').slice(0, 14);
}

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `ls -l`'s date of a wall-clock time given as ms: `Mon DD HH:MM` within six months of now, else `Mon DD  YYYY`. */
function lsDate(localMs: number): string {
  const d = new Date(localMs);
  const day = String(d.getUTCDate()).padStart(2, ' ');
  const recent = Math.abs(Date.now() - localMs) < 182 * 24 * 3600_000;
  const last = recent ? `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}` : ` ${d.getUTCFullYear()}`;
  return `${MONTH_NAMES[d.getUTCMonth()]} ${day} ${last}`;
}

function resolve(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

function parent(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function stripMapped(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function listen(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host, port, exclusive: true }, () => resolve(s));
  });
}

function connect(host: string, port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, localAddress });
    s.once('connect', () => { s.removeAllListeners('error'); s.on('error', () => undefined); resolve(s); });
    s.once('error', reject);
  });
}

function waitDrainOrClose(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { socket.off('drain', done); socket.off('close', done); resolve(); };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A stream over a TCP socket that a TLS socket can run on, starting with bytes already read from
 * it (a ClientHello seen while checking when it came): Node's TLS over the socket itself would read
 * from the kernel and miss those.
 */
function duplexOver(raw: net.Socket, already: Buffer[]): Duplex {
  const duplex = new Duplex({
    read() { raw.resume(); },
    write(chunk: Buffer, _encoding, done) { raw.write(chunk, done); },
    final(done) { raw.end(); done(); },
    destroy(err, done) { raw.destroy(); done(err); },
  });
  for (const chunk of already) duplex.push(chunk);
  raw.removeAllListeners('data');
  raw.on('data', (chunk: Buffer) => { if (!duplex.push(chunk)) raw.pause(); });
  raw.on('end', () => duplex.push(null));
  raw.on('close', () => duplex.destroy());
  return duplex;
}
