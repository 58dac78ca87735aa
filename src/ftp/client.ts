/**
 * One logged-in FTP session. Capabilities found at run time (FEAT, EPSV/EPRT refusals) live on the
 * instance; each protocol step is a short method. If the control connection goes out of step (an
 * active-mode connect-back that never came), the session reconnects itself before the next command.
 */
import { EventEmitter } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { AUTO_ENCODING, NameCodec, charsetProblem, detectCharset, isValidUtf8, learnCharset, learnedCharset } from './charset';
import { ControlConnection, remember } from './control';
import { DataChannelError, type DataChannelSettings } from './dataChannel';
import { DataChannelProvider } from './dataChannelProvider';
import * as defaults from './defaults';
import { FtpError, errorFromReply, isFtpError, type CommandContext } from './errors';
import { parseList, parseMdtm, parseMlsd, parseMlstReply, parseSize } from './listing';
import { parseFeatures, type Reply } from './reply';
import { assertSafePath, basename, dirname, join, normalize } from './remotePath';
import { BlockFileReader, BlockFileWriter, openSource, openTarget } from './localFile';
import { OwedReplies } from './owedReplies';
import { describeProxy } from './proxy';
import { greetingTraits, type GreetingTraits } from './greeting';
import { bestChecksumMethod, parseChecksumReply, type Checksum, type ChecksumAlgorithm, type ChecksumMethod } from './checksum';
import { octalMode } from './permissions';
import { detectOffset, detectionCandidate, formatTimeZoneOffset, mdtmMemory, mdtmOffsetAgainst, toUtc, zoneMemory } from './timeZone';
import { cancelled, failedBeforeData, pumpFrom, pumpFromFile, pumpTo, pumpToBuffer, pumpToFile, runTransfer, type TransferContext, type TransferSpec } from './transfer';
import type { ConcreteMode, ConnectOptions, DataMode, FeatureMemory, FileEntry, FtpEvent, KnownFeatures, TransferOptions } from './types';

let nextId = 1;

export interface TlsInfo {
  protocol: string;
  cipher: string;
  authorized: boolean;
  fingerprint256: string;
}

/** A shared in-memory ModeMemory, the default when the caller gives none. */
const defaultModeMemory = new Map<string, ConcreteMode>();

/**
 * What each server offered in FEAT at the last login (by security and host:port), the default when
 * the caller gives no FeatureMemory: the next connection to it (the pool growing, a reconnect)
 * sends its first EPSV with the login, so the first transfer finds a data connection ready.
 * Bounded: a few servers at most.
 */
const defaultFeatures = new Map<string, KnownFeatures>();
const defaultFeatureMemory: FeatureMemory = {
  get: (key) => defaultFeatures.get(key),
  set: (key, known) => {
    if (known) remember(defaultFeatures, key, known);
    else defaultFeatures.delete(key);
  },
};

/**
 * Servers (host:port) whose greeting says they answer commands only after a transfer, where the
 * early SIZE and RNFR of uploadReplacing got replies that do not fit: they go after the 226 there.
 */
const earlyRenameMisfits = new Map<string, true>();

/** Time-zone detections under way, per server (host:port). */
const zoneDetections = new Map<string, Promise<number | undefined>>();
/** Checks of MDTM's clock against MLSD under way, per server. */
const mdtmChecks = new Map<string, Promise<void>>();

/**
 * One logged-in FTP session: every method is one operation, run one at a time in call order, on
 * absolute paths (normalized; a name with CR, LF or NUL is refused before anything is sent).
 * Failures are FtpErrors whose `kind` says what went wrong and whose `code`/`replyText` carry the
 * server's reply. Events ('event', see FtpEvent) tell every command, reply, data connection and
 * transfer, for a protocol log; 'close' tells that the control connection went away (the next
 * operation reconnects by itself).
 */
export class FtpClient extends EventEmitter {
  /** The name of this session in events, e.g. "c3". */
  readonly id: string;
  /** host:port, the key under which auto mode remembers what worked. */
  readonly serverKey: string;
  /** FEAT's answer: upper-case feature names (EPSV, MLST, UTF8…) → their parameters. */
  features: ReadonlyMap<string, string> = new Map();
  /** A listing was made to learn MDTM's zone before a stat (see stat). */
  private zoneLooked = false;
  /** The control connection's TLS, when it has any. */
  tlsInfo?: TlsInfo;
  /** The data-connection mode the user chose; may be changed between operations. */
  mode: DataMode;
  /** The mode the last transfer actually used. */
  lastMode?: ConcreteMode;

  private control!: ControlConnection;
  private readonly options: Required<Pick<ConnectOptions, 'host' | 'port' | 'user' | 'password' | 'security' | 'connectTimeoutMs' | 'replyTimeoutMs' | 'dataConnectTimeoutMs' | 'dataIdleTimeoutMs'>> & ConnectOptions;
  /** Data connections, and what the server was found to accept for them; outlives reconnects. */
  private readonly channels: DataChannelProvider;
  /** Replies the server still owes that no caller waits for (see OwedReplies). */
  private readonly owed = new OwedReplies();
  private listAll = true;
  /** The algorithm OPTS HASH selected on this login (HASH answers in it). */
  private hashSelected?: ChecksumAlgorithm;
  /** The server lists a checksum command in FEAT but refused it (500/502/504): not asked again. */
  private checksumRefused = false;
  /** The charset of names now (see `nameCharset`); rebuilt when it changes. */
  private namesCodec = new NameCodec('utf8');
  private busy: Promise<unknown> = Promise.resolve();
  /** What this connection's greeting told about the server. */
  private traits: GreetingTraits = { commandsWaitForTransfer: false };

  private constructor(options: ConnectOptions) {
    super();
    const security = options.security ?? 'none';
    this.options = {
      ...options,
      port: options.port ?? defaults.defaultPort(security),
      user: options.user || 'anonymous',
      password: options.password ?? (options.user && options.user !== 'anonymous' ? '' : 'anonymous@'),
      security,
      connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs,
      replyTimeoutMs: options.replyTimeoutMs ?? defaults.replyTimeoutMs,
      dataConnectTimeoutMs: options.dataConnectTimeoutMs ?? defaults.dataConnectTimeoutMs,
      dataIdleTimeoutMs: options.dataIdleTimeoutMs ?? defaults.dataIdleTimeoutMs,
    };
    this.id = options.id ?? `c${nextId++}`;
    this.serverKey = `${options.host}:${this.options.port}`;
    this.mode = options.mode ?? defaults.dataMode;
    if (options.onEvent) this.on('event', options.onEvent);
    this.channels = new DataChannelProvider({
      serverKey: this.serverKey,
      settings: this.settings(),
      quirks: {
        skipEpsv: options.disableEpsv === true, skipEprt: options.disableEprt === true, confirmed: new Set(),
        noActive: options.proxy?.kind === 'http' ? `An HTTP proxy cannot accept the server's data connection, so active mode does not work through ${describeProxy(options.proxy)} — use passive mode.` : undefined,
      },
      inAdvance: options.passiveInAdvance !== false,
      // Unsaid, it follows passiveInAdvance: a session told to open nothing ahead opens nothing.
      withLogin: options.passiveWithLogin ? options.passiveWithLogin !== 'never' : options.passiveInAdvance !== false,
      emit: this.emitEvent,
    });
  }

  /** Connects and logs in; rejects with a typed FtpError (connect, tls, login, busy, timeout…). */
  static async connect(options: ConnectOptions): Promise<FtpClient> {
    const client = new FtpClient(options);
    await client.open();
    return client;
  }

  /** The control connection is gone (the next operation reconnects, unless close() was called). */
  get closed(): boolean { return this.control.closed; }

  private emitEvent = (event: FtpEvent): void => { this.emit('event', event); };

  private async open(): Promise<void> {
    const o = this.options;
    const configured = this.configuredCharset;
    const problem = configured === undefined ? undefined : charsetProblem(configured);
    if (problem) throw new FtpError('unsupported', `The server's encoding cannot be used: ${problem}.`);
    const control = await ControlConnection.open({
      id: this.id, host: o.host, port: o.port, implicitTls: o.security === 'implicit', tls: o.tls, proxy: o.proxy, earlyConnection: o.earlyConnection,
      tlsGroup: this.featureMemory.get(this.featureKey)?.tlsGroup,
      connectTimeoutMs: o.connectTimeoutMs, replyTimeoutMs: o.replyTimeoutMs, emit: this.emitEvent,
    });
    this.control = control;
    control.addSecret(o.account);
    control.onClose((err) => { this.channels.drop(); this.emit('close', err); });
    try {
      // Explicit FTPS: AUTH TLS goes out with the connection, not after the greeting. It carries
      // no secret, a server reads it once it has greeted (it waits in the socket until then), and
      // vsftpd then answers it in the greeting's own flight: a round trip less per FTPS connection.
      if (o.security === 'explicit') control.send('AUTH TLS');
      await this.greet();
      if (o.security === 'explicit') await this.authTls();
      const password = await this.password();
      control.addSecret(password);
      // What FEAT said at this server's last login: the session starts on it and FEAT's answer, on
      // its way behind the first transfer's EPSV, corrects it when it comes (refreshFeatures).
      const feat = this.featureMemory.get(this.featureKey)?.feat;
      const remembered = feat ? new Map(feat) : undefined;
      const { replies, feat: featReply } = await this.login(password, remembered);
      if (remembered) {
        this.setup(replies, remembered, true);
        this.featuresRead = this.refreshFeatures(featReply);
      } else {
        this.setup(replies, parseFeatures(await featReply), false);
        this.featuresRead = Promise.resolve();
      }
    } catch (e) {
      control.destroy();
      throw e;
    }
  }

  private async greet(): Promise<void> {
    let r = await this.control.read(this.options.connectTimeoutMs);
    // 120: "service ready in nnn minutes" — the real greeting follows.
    while (r.code === 120) r = await this.control.read(this.options.connectTimeoutMs);
    if (r.code !== 220) throw errorFromReply(r, '(greeting)', 'login');
    this.traits = greetingTraits(r);
  }

  /** AUTH TLS's reply (the command went out with the connection, see open), then the TLS handshake. */
  private async authTls(): Promise<void> {
    let r = await this.control.read();
    while (r.code < 200) r = await this.control.read();
    if (r.code !== 234) {
      // No silent fallback to clear text: the user asked for FTPS.
      throw new FtpError('tls', `The server refused TLS (AUTH TLS answered ${r.code} ${r.message}); it may not support FTPS — use plain FTP only if you accept an unencrypted connection.`, { code: r.code, replyText: r.text, command: 'AUTH TLS' });
    }
    await this.control.upgradeTls();
  }

  /** Resolved once: a reconnect logs in again without asking again. */
  private resolvedPassword?: string;

  private async password(): Promise<string> {
    const given = this.options.password;
    if (typeof given === 'string') return given;
    if (this.resolvedPassword === undefined) {
      const answer = await given();
      if (answer === undefined) throw new FtpError('login', `No password given for ${this.options.user}@${this.options.host}.`);
      this.resolvedPassword = answer;
    }
    return this.resolvedPassword;
  }

  /**
   * USER, PASS, the setup commands (TYPE I, for FTPS PBSZ 0 and PROT P, OPTS UTF8 ON where FEAT is
   * remembered with UTF8), the EPSV for the first transfer (openWithLogin) and FEAT go out in one
   * write: login and setup in one round trip. The server runs them in order, so the setup commands
   * find the session logged in. FEAT goes last: its answer is many small writes on some servers
   * (vsftpd: one a line), which fill the server's first congestion window and would hold the EPSV's
   * 229 behind them for a round trip. Resolves with the setup commands' replies and FEAT's (still
   * to come). A server that needs no password answers PASS with 503, which is ignored; one that
   * wants an account (332) has answered the setup commands "log in first", so they go again after
   * ACCT.
   */
  private async login(password: string, remembered: ReadonlyMap<string, string> | undefined): Promise<{ replies: Array<{ command: string; reply: Reply }>; feat: Promise<Reply> }> {
    const o = this.options;
    const control = this.control;
    const batch = this.setupCommands(remembered);
    const sendSetup = () => {
      for (const c of batch) control.send(c);
      return batch.map((command) => control.read().then((reply) => ({ command, reply })));
    };
    const sendFeat = () => {
      control.send('FEAT');
      return control.read();
    };
    control.send(`USER ${o.user}`);
    control.send(`PASS ${password}`);
    const user = control.read();
    const pass = control.read();
    let setup = sendSetup();
    this.openWithLogin();
    let feat = sendFeat();
    // After a failed login these replies are never read: the connection is dropped.
    for (const p of [pass, feat, ...setup]) p.catch(() => undefined);
    let r = await user;
    let command = 'USER';
    if (r.code === 331) {
      r = await pass;
      command = 'PASS ****';
    }
    if (r.code === 332) {
      if (!o.account) throw new FtpError('login', 'The server asks for an account (ACCT) but none is configured.', { code: r.code, replyText: r.text, command: 'PASS ****' });
      await Promise.allSettled([...setup, feat]);
      r = await control.request(`ACCT ${o.account}`);
      command = 'ACCT ****';
      if (r.code === 230 || r.code === 202) {
        setup = sendSetup();
        feat = sendFeat();
        feat.catch(() => undefined);
      }
    }
    if (r.code !== 230 && r.code !== 202) {
      const err = errorFromReply(r, command, 'login');
      if (err.kind === 'login') {
        throw new FtpError('login', `Login to ${o.host} as "${o.user}" failed (${r.code} ${r.message}) — check the user name and password.`, { code: r.code, replyText: r.text, command: err.command });
      }
      throw err;
    }
    return { replies: await Promise.all(setup), feat };
  }

  /**
   * The charset file names are sent and read in, and how it was chosen: the profile's `encoding`,
   * else (auto) the one a listing showed on this server, else UTF-8.
   */
  get nameCharset(): { charset: string; how: string } {
    const detected = learnedCharset(this.serverKey);
    const how = this.configuredCharset
      ? 'set in the server\'s encoding'
      : detected
        ? `detected: ${detected.reason}`
        : this.features.has('UTF8') ? 'the server offers UTF8' : 'the server does not offer UTF8, but no listing so far had names that are not UTF-8';
    return { charset: this.charset, how };
  }

  /** The charset alone: asked for every command sent and reply read, so without the explanation. */
  private get charset(): string {
    return this.configuredCharset || (learnedCharset(this.serverKey)?.charset ?? 'utf8');
  }

  private get configuredCharset(): string | undefined {
    const e = this.options.encoding ?? AUTO_ENCODING;
    return e === AUTO_ENCODING ? undefined : e;
  }

  private get codec(): NameCodec {
    const charset = this.charset;
    if (this.namesCodec.charset !== charset) this.namesCodec = new NameCodec(charset);
    return this.namesCodec;
  }

  /**
   * A listing's bytes as text in the session's charset. In auto, the first listing that is not
   * valid UTF-8 decides the charset for the server from then on (told as a 'learned' event); a
   * listing whose bytes do not survive the charset both ways is told too: those names cannot be
   * sent back.
   */
  private decodeListing(bytes: Buffer, path: string): string {
    if (!this.configuredCharset && !learnedCharset(this.serverKey) && !isValidUtf8(bytes)) {
      const detection = detectCharset(bytes);
      learnCharset(this.serverKey, detection);
      this.emitEvent({ type: 'learned', id: this.id, what: 'encoding', detail: `File names on ${this.serverKey} are not UTF-8 (listing of ${path}): using ${detection.charset} from now on, since ${detection.reason}. Set the server's "encoding" if that is wrong.` });
    }
    const codec = this.codec;
    const text = codec.decode(bytes);
    if (!codec.roundTrips(bytes, text)) {
      this.emitEvent({ type: 'warning', id: this.id, message: `Some names in ${path} are not valid ${codec.charset}: they show "\uFFFD" and cannot be opened. Set the server's "encoding" to the charset its file names use.` });
    }
    return text;
  }

  private get featureMemory(): FeatureMemory {
    return this.options.featureMemory ?? defaultFeatureMemory;
  }

  private get featureKey(): string {
    return `${this.options.security} ${this.serverKey}`;
  }

  /** What EPSV did here, with the rest of what is remembered of the server kept. */
  private rememberEpsv(epsv: boolean): void {
    this.featureMemory.set(this.featureKey, { ...this.featureMemory.get(this.featureKey), epsv });
  }

  /** EPSV was sent with the login on the word of an earlier FEAT or on trust, not this login's. */
  private epsvFromMemory = false;
  /** ...and the server refused it: FEAT is not remembered from this login (its reply may come first). */
  private epsvRefusedEarly = false;

  /**
   * Where the next transfer goes passive, EPSV goes out in the same write as the login and its
   * data connection is opened as the one in advance: on the word of an earlier login's FEAT, or,
   * with passiveWithLogin 'always', for a server not seen before on trust (only EPSV goes, never a
   * transfer command, which an old server might run in its default active mode). A server
   * that refuses it as unknown (50x) is remembered and gets PASV from the first transfer on; any
   * other contradiction (no longer in FEAT, another refusal) is forgotten, and the first transfer
   * asks afresh.
   */
  private openWithLogin(): void {
    const known = this.featureMemory.get(this.featureKey);
    const quirks = this.channels.quirks;
    const trust = this.options.passiveWithLogin === 'always';
    if (!(known ? known.epsv : trust) || quirks.skipEpsv || this.nextMode !== 'passive') return;
    this.epsvFromMemory = !quirks.confirmed.has('EPSV');
    quirks.confirmed.add('EPSV');
    this.channels.attach(this.control, this.control.isTls);
    void this.openNext(true).then((r) => {
      if (!r) return;
      if (r.code === 229) {
        // It works here, whatever FEAT said (ftp-srv does not list it).
        quirks.confirmed.add('EPSV');
        return this.rememberEpsv(true);
      }
      this.epsvRefusedEarly = true;
      if (![500, 501, 502, 504].includes(r.code)) return void this.featureMemory.set(this.featureKey, undefined);
      quirks.skipEpsv = true;
      quirks.confirmed.delete('EPSV');
      this.rememberEpsv(false);
      this.emitEvent({ type: 'learned', id: this.id, what: 'no-epsv', detail: `EPSV refused (${r.code} ${r.message}); using PASV from now on` });
    });
  }

  /**
   * TYPE I and the FTPS data-protection commands, sent with the login; OPTS UTF8 ON first where
   * the remembered FEAT lists UTF8 (without a memory it follows FEAT's answer, see setup).
   */
  private setupCommands(remembered: ReadonlyMap<string, string> | undefined): string[] {
    return [...(remembered && this.asksUtf8(remembered) ? ['OPTS UTF8 ON'] : []), 'TYPE I', ...(this.control.isTls ? ['PBSZ 0', 'PROT P'] : [])];
  }

  /**
   * RFC 2640's OPTS UTF8 ON, for a server that lists UTF8 — unless the user named a charset other
   * than UTF-8: that means the names as stored, and OPTS UTF8 ON would make servers that convert
   * (IIS, Serv-U) send UTF-8 instead, as FileZilla's custom charset also avoids.
   */
  private asksUtf8(features: ReadonlyMap<string, string>): boolean {
    const configured = this.configuredCharset;
    return features.has('UTF8') && (configured === undefined || /^utf-?8$/i.test(configured));
  }

  /** Resolves once this login's own FEAT answer is in `features` (a remembered one is used until then). */
  private featuresRead: Promise<void> = Promise.resolve();

  /**
   * Resolves once `features` holds what the server answered to FEAT at this login, not what an
   * earlier login remembered (diagnostics report the server's own answer).
   */
  freshFeatures(): Promise<void> {
    return this.featuresRead;
  }

  /**
   * The setup commands' replies (TYPE I and PROT P must be accepted) and the features the session
   * starts on: FEAT's answer, or the remembered one (`fromMemory`; this login's FEAT corrects it).
   */
  private setup(replies: Array<{ command: string; reply: Reply }>, features: ReadonlyMap<string, string>, fromMemory: boolean): void {
    const control = this.control;
    // Paths in every command from here on, and the replies that quote them (PWD, MLST, 550).
    control.setCharset(() => this.codec);
    this.hashSelected = undefined;
    this.useFeatures(features);
    for (const { command: c, reply: r } of replies) {
      if (c === 'TYPE I' && r.code >= 400) throw errorFromReply(r, c);
      if (c === 'PROT P' && r.code >= 400) {
        throw new FtpError('tls', `The server refused to protect data connections (PROT P answered ${r.code} ${r.message}); refusing to send files in clear text over an FTPS connection.`, { code: r.code, replyText: r.text, command: c });
      }
    }
    // Some servers list UTF8 and still answer 504: the reply does not matter, so it is not waited
    // for (the read below keeps the reply queue in step). From memory it went with the login.
    if (!fromMemory && this.asksUtf8(features)) {
      control.send('OPTS UTF8 ON');
      this.owed.add('reply to OPTS UTF8 ON', control.read());
    }
    this.channels.attach(control, control.isTls);
    const sock = control.tlsSocket;
    if (sock) {
      this.tlsInfo = {
        protocol: sock.getProtocol() ?? '?', cipher: sock.getCipher()?.name ?? '?', authorized: sock.authorized,
        fingerprint256: control.peerFingerprint256 ?? '',
      };
    }
  }

  /** The features this session goes by, and what they say of the data-channel commands; remembered for the next login. */
  private useFeatures(features: ReadonlyMap<string, string>): void {
    this.features = features;
    const quirks = this.channels.quirks;
    for (const name of ['EPSV', 'EPRT'] as const) if (features.has(name)) quirks.confirmed.add(name);
    if (this.epsvFromMemory && !features.has('EPSV')) quirks.confirmed.delete('EPSV');
    this.epsvFromMemory = false;
    const tlsGroup = this.control.tlsGroup;
    if (!this.epsvRefusedEarly) return this.featureMemory.set(this.featureKey, { epsv: quirks.confirmed.has('EPSV') && !quirks.skipEpsv, feat: [...features], tlsGroup });
    // EPSV with the login was refused: what that taught stays (or, forgotten, stays forgotten).
    const known = this.featureMemory.get(this.featureKey);
    if (known) this.featureMemory.set(this.featureKey, { ...known, feat: [...features], tlsGroup });
  }

  /**
   * This login's FEAT answer, when the session started on a remembered one: taken in its place
   * (a server upgraded or reconfigured since), so that the next listing or checksum goes by what
   * the server offers now. OPTS UTF8 ON is not sent half-way through a session: a server that
   * newly lists UTF8 gets it at the next login.
   */
  private async refreshFeatures(reply: Promise<Reply>): Promise<void> {
    let r: Reply;
    try {
      r = await reply;
    } catch {
      return; // the connection went away: the next operation reconnects and reads FEAT again
    }
    const fresh = parseFeatures(r);
    const before = this.features;
    if (fresh.size === before.size && [...fresh].every(([k, v]) => before.get(k) === v)) return;
    this.useFeatures(fresh);
    this.emitEvent({ type: 'learned', id: this.id, what: 'features', detail: `The server's features changed since the last login (FEAT: ${[...fresh.keys()].join(' ') || 'none'}); going by the new ones.` });
  }

  /** Replaces a control connection that went out of step; quirks and features stay known. */
  private async reconnect(): Promise<void> {
    this.emit('event', { type: 'warning', id: this.id, message: 'Reconnecting the control connection.' } satisfies FtpEvent);
    await this.open();
  }

  /** One operation at a time per session; the pool gives each caller its own session anyway. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(async () => {
      await this.owed.settle();
      if (this.control.closed && !this.userClosed) await this.reconnect();
      return fn();
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  private userClosed = false;

  /**
   * Resolves once the replies the server still owes this session have come (a download's final
   * 226, the EPSV of the connection opened in advance); the next operation waits for this anyway.
   */
  settled(): Promise<void> {
    return this.owed.settle();
  }

  private async simple(command: string, context: CommandContext, ok: (r: Reply) => boolean = (r) => r.code < 400): Promise<Reply> {
    const r = await this.control.request(command);
    if (!ok(r)) throw errorFromReply(r, command, context);
    return r;
  }

  // ------------------------------------------------------------ data channel

  private settings(): DataChannelSettings {
    const o = this.options;
    return {
      host: o.host, trustPasvAddress: o.trustPasvAddress ?? false, activeAddress: o.activeAddress,
      activeListenAddress: o.activeListenAddress, activePortRange: o.activePortRange,
      dataConnectTimeoutMs: o.dataConnectTimeoutMs, secure: false, minTlsVersion: o.tls?.minVersion, proxy: o.proxy,
    };
  }

  private get modeMemory() {
    return this.options.modeMemory ?? { get: (k: string) => defaultModeMemory.get(k), set: (k: string, m: ConcreteMode) => void defaultModeMemory.set(k, m) };
  }

  /** The mode the next data connection will try first. */
  get nextMode(): ConcreteMode {
    if (this.mode !== 'auto') return this.mode;
    return this.channels.quirks.noActive ? 'passive' : this.modeMemory.get(this.modeKey) ?? 'passive';
  }

  /** What worked directly need not work through a proxy, nor the other way round. */
  private get modeKey(): string {
    return this.options.proxy ? `${this.serverKey} via ${describeProxy(this.options.proxy)}` : this.serverKey;
  }

  /**
   * During a passive transfer's end (see TransferContext.openNext): EPSV goes out now, before the
   * 226 — the server has closed its side of the data, so it is done with it and answers the EPSV
   * right behind the 226: a round trip less for back-to-back transfers. Its reply is owed to the
   * session; the connect is not waited for.
   */
  private openNext(first = false): Promise<Reply | undefined> {
    if (this.userClosed || this.nextMode !== 'passive') return Promise.resolve(undefined);
    const quirks = this.channels.quirks;
    // EPSV worked here (a server whose FEAT does not list it, such as ftp-srv): the next connection may send it ahead.
    if (quirks.confirmed.has('EPSV') && !quirks.skipEpsv && !this.featureMemory.get(this.featureKey)?.epsv) this.rememberEpsv(true);
    const opening = this.channels.openNext(first);
    this.owed.add('reply to EPSV (data connection in advance)', opening);
    return opening;
  }

  /**
   * One transfer with the session's data-channel policy: the mode the user chose (auto: the one
   * that worked last), a connection opened in advance when there is one, and — for a failure before
   * any data moved — the same transfer again on a fresh connection, then in the other mode (auto).
   * A diagnostic probe gives its own provider and mode instead: no fallback, nothing remembered.
   */
  private async transfer(spec: TransferSpec, probe?: { channels: DataChannelProvider; mode: ConcreteMode }): Promise<number> {
    const channels = probe?.channels ?? this.channels;
    // Once commands went out behind the data (atDataEnd), the transfer is not repeated: their
    // replies come before a repeat's, and they are about this attempt's result.
    let dataEnded = false;
    const atDataEnd = spec.atDataEnd;
    if (atDataEnd) spec = { ...spec, atDataEnd: () => { dataEnded = true; atDataEnd(); } };
    // A transfer right after another in the same operation (a recursive removal's listings): the
    // connection that one opened in advance is ready once its EPSV is answered.
    await this.owed.settle();
    const first = probe?.mode ?? this.nextMode;
    const attempt = async (mode: ConcreteMode, reuse: boolean): Promise<number> => {
      if (spec.signal?.aborted) throw cancelled();
      if (this.control.closed) await this.reconnect();
      const channel = await channels.open(mode, { command: spec.command, pipeline: !spec.preamble, directRead: spec.directRead, reuse: reuse && !spec.oneShot });
      const ctx: TransferContext = {
        control: this.control, quirks: channels.quirks, emit: this.emitEvent, tlsAfterPreliminary: channels.tlsAfterPreliminary,
        dataConnectTimeoutMs: this.options.dataConnectTimeoutMs, dataIdleTimeoutMs: this.options.dataIdleTimeoutMs, replyTimeoutMs: this.options.replyTimeoutMs,
        openNext: mode === 'passive' && !probe ? () => this.openNext() : undefined,
      };
      try {
        const { bytes, owedFinal } = await runTransfer(ctx, channel, spec);
        if (owedFinal) this.owed.add(`final reply to ${spec.command}`, owedFinal);
        return bytes;
      } catch (e) {
        if (dataEnded) throw e;
        // The connection opened in advance was dead after all (the server closed its listener or
        // forgot it, and answered 425): the same transfer again with a fresh EPSV, no error shown.
        if (channel.inAdvance && failedBeforeData(e)) {
          this.emitEvent({ type: 'warning', id: this.id, message: `The data connection opened in advance could not be used (${(e as Error).message}); opening a new one.` });
          return attempt(mode, false);
        }
        // A fresh connection cut during its TLS handshake: the server wants its 1xx first.
        if (e instanceof DataChannelError && e.handshakeCut && channels.learnTlsAfterPreliminary()) return attempt(mode, false);
        throw e;
      }
    };
    let bytes: number;
    let used = first;
    try {
      bytes = await attempt(first, true);
    } catch (e) {
      // Through a proxy that cannot do active mode, auto keeps to passive: its error is the one to show.
      if (dataEnded || this.mode !== 'auto' || probe || !failedBeforeData(e) || (first === 'passive' && channels.quirks.noActive)) throw e;
      const other: ConcreteMode = first === 'passive' ? 'active' : 'passive';
      this.emitEvent({ type: 'data-fallback', id: this.id, from: first, to: other, reason: (e as Error).message });
      try {
        bytes = await attempt(other, false);
        used = other;
      } catch (e2) {
        if (isFtpError(e2, 'data-channel')) {
          throw new FtpError('data-channel', `Data connection failed in both modes. Passive: ${first === 'passive' ? (e as Error).message : (e2 as Error).message} Active: ${first === 'active' ? (e as Error).message : (e2 as Error).message}`, { cause: e2 });
        }
        throw e2;
      }
    }
    if (!probe) {
      this.lastMode = used;
      if (this.mode === 'auto') this.modeMemory.set(this.modeKey, used);
    }
    return bytes;
  }

  // ------------------------------------------------------------ operations

  /** The server's current folder (PWD). */
  pwd(): Promise<string> {
    return this.exclusive(async () => {
      const r = await this.simple('PWD', 'other');
      const m = /"((?:[^"]|"")*)"/.exec(r.message);
      return m ? m[1].replace(/""/g, '"') : '/';
    });
  }

  /** Changes the server's current folder (CWD); not-found when it is not a folder there. */
  async cwd(path: string): Promise<void> {
    return this.exclusive(async () => { await this.simple(`CWD ${checked(path)}`, 'path-read'); });
  }

  /** NOOP: proves the session alive (the pool's check before work that must not run twice). */
  noop(): Promise<void> {
    return this.exclusive(async () => { await this.simple('NOOP', 'other'); });
  }

  /**
   * The entries of a folder, without "." and "..": MLSD where the server has it (exact UTC times),
   * else LIST -a (dot files), else LIST — parsed from the Unix and DOS formats.
   */
  async list(path: string, opts: TransferOptions = {}): Promise<FileEntry[]> {
    const p = checked(path);
    return this.exclusive(() => this.listUnlocked(p, opts));
  }

  /**
   * Whether this session's listings show names that begin with a dot: MLSD does, and LIST with
   * "-a"; a server that refused "-a" hides them in a plain LIST (vsftpd, pure-ftpd by default).
   */
  get listsDotFiles(): boolean {
    return this.features.has('MLST') || this.listAll;
  }

  private async listUnlocked(path: string, opts: TransferOptions = {}): Promise<FileEntry[]> {
    if (this.features.has('MLST')) {
      let entries: FileEntry[] | undefined;
      try {
        entries = await this.fetchListing(`MLSD ${path}`, path, opts, parseMlsd);
      } catch (e) {
        // MLST was in the remembered FEAT, and this login's FEAT (answered before the MLSD) has it no more.
        if (this.features.has('MLST')) throw e;
      }
      if (entries !== undefined) {
        // Where MLST answers for a path, MDTM is asked only through links (probeLink): check its clock
        // the first time a listing shows one.
        if (mdtmMemory.get(this.serverKey) === undefined && entries.some((e) => e.type === 'symlink')) await this.checkMdtmClock(path, entries);
        return entries;
      }
    }
    if (this.listAll) {
      try {
        // "-a" shows dot files (.htaccess) on vsftpd and most Unix servers.
        return await this.inUtc(path, await this.fetchListing(`LIST -a ${path}`, path, opts, parseList));
      } catch (e) {
        if (!isFtpError(e, 'unsupported') && !isFtpError(e, 'not-found')) throw e;
        this.listAll = false;
      }
    }
    return this.inUtc(path, await this.fetchListing(`LIST ${path}`, path, opts, parseList));
  }

  /**
   * A listing, parsed. Where the data ends before the final reply (vsftpd sends its 226 a round trip
   * after the data), it is decoded and parsed in that wait; the result is used only once the reply
   * says the listing is whole.
   */
  private async fetchListing<T>(command: string, path: string, opts: TransferOptions, parse: (text: string) => T): Promise<T> {
    const chunks: Buffer[] = [];
    const read = () => parse(this.decodeListing(Buffer.concat(chunks), path));
    let early: { parsed: T } | undefined;
    await this.transfer({
      command, direction: 'list', path, pump: pumpToBuffer(chunks, opts.onProgress), signal: opts.signal,
      atDataEnd: () => {
        try { early = { parsed: read() }; } catch { /* parsed again after the reply, which then tells */ }
      },
    });
    return early ? early.parsed : read();
  }

  /**
   * The server's offset from UTC for LIST times, in minutes east: the configured one, else the one
   * detected for this server; undefined while unknown (LIST times are then taken as UTC).
   */
  get timeZoneOffset(): { minutes: number; source: 'setting' | 'detected' } | undefined {
    if (this.options.timeZoneOffsetMinutes !== undefined) return { minutes: this.options.timeZoneOffsetMinutes, source: 'setting' };
    const known = zoneMemory.get(this.serverKey);
    return typeof known === 'number' ? { minutes: known, source: 'detected' } : undefined;
  }

  /** The server's zone was looked for and cannot be found (no MDTM): only the setting helps. */
  get timeZoneUndetectable(): boolean {
    return this.options.timeZoneOffsetMinutes === undefined && zoneMemory.get(this.serverKey) === null;
  }

  /**
   * Minutes MDTM's answers are ahead of UTC: 0 as RFC 3659 says, unless the profile's
   * timeZoneOffset says LIST is in another zone and one file's MDTM agreed with its LIST line
   * instead of with UTC (vsftpd's use_localtime=YES, some Windows/IIS and embedded servers: MDTM in
   * local time) — then MDTM is that far ahead too (the setting minus what LIST against MDTM showed).
   */
  get mdtmOffset(): number {
    const setting = this.options.timeZoneOffsetMinutes;
    const listAgainstMdtm = zoneMemory.get(this.serverKey);
    if (setting !== undefined && setting !== 0 && typeof listAgainstMdtm === 'number') return setting - listAgainstMdtm;
    // An MLSD server: found against one file's exact `modify` (see checkMdtmClock).
    return mdtmMemory.get(this.serverKey) ?? 0;
  }

  /** A LIST's times (the server's wall clock) in UTC, once the zone is known or found out here. */
  private async inUtc(dir: string, entries: FileEntry[]): Promise<FileEntry[]> {
    // Without the setting: LIST's zone, from one MDTM. With it, the same MDTM tells whether MDTM is
    // in that zone too (see mdtmOffset); the setting decides LIST's times either way. A setting of
    // UTC asks nothing (MDTM in the server's zone is then UTC as well): the way to skip the MDTM.
    if (zoneMemory.get(this.serverKey) === undefined && this.options.timeZoneOffsetMinutes !== 0) {
      // Sessions listing at once (a parallel walk) ask MDTM once between them, not each.
      const underWay = zoneDetections.get(this.serverKey);
      if (underWay) {
        await underWay.catch(() => undefined);
      } else {
        const detection = this.detectZone(dir, entries).finally(() => zoneDetections.delete(this.serverKey));
        zoneDetections.set(this.serverKey, detection);
        await detection;
      }
    }
    const offset = this.timeZoneOffset?.minutes;
    return offset ? toUtc(entries, offset) : entries;
  }

  /**
   * On an MLSD server: one file's MDTM against its exact MLSD time, once per server, so that a
   * server answering MDTM in local time (against RFC 3659) is known before MDTM's times are used.
   */
  private async checkMdtmClock(dir: string, entries: FileEntry[]): Promise<void> {
    const underWay = mdtmChecks.get(this.serverKey);
    if (underWay) return underWay.catch(() => undefined);
    const check = (async () => {
      const file = entries.filter((e) => e.type === 'file' && e.mtime !== undefined && !e.name.includes('\uFFFD')).sort((a, b) => b.mtime! - a.mtime!)[0];
      if (!file) return;
      const path = join(dir, file.name);
      const r = await this.mdtmOfListed(path);
      if (!r) return;
      if (r.code === 500 || r.code === 502) return mdtmMemory.set(this.serverKey, null);
      const mdtm = r.code === 213 ? parseMdtm(r.text) : undefined;
      if (mdtm === undefined) return;
      const offset = mdtmOffsetAgainst(file.mtime!, mdtm) ?? 0;
      mdtmMemory.set(this.serverKey, offset);
      if (offset !== 0) {
        this.emitEvent({ type: 'learned', id: this.id, what: 'time-zone', detail: `MDTM answers in local time, UTC${formatTimeZoneOffset(offset)}, not UTC (MDTM of ${path} against its MLSD time): MDTM times are moved to UTC` });
      }
    })().finally(() => mdtmChecks.delete(this.serverKey));
    mdtmChecks.set(this.serverKey, check);
    return check;
  }

  /** MDTM of a file a listing just showed; undefined when its name cannot be sent back in the session's charset (not the listing's fault). */
  private async mdtmOfListed(path: string): Promise<Reply | undefined> {
    await this.owed.settle();
    try {
      return await this.control.request(`MDTM ${path}`);
    } catch (e) {
      if (isFtpError(e, 'invalid-name')) return undefined;
      throw e;
    }
  }

  /** An MDTM reply's time in UTC (moved back where the server answers MDTM in its local time). */
  private mdtmTime(r: Reply): number | undefined {
    const t = r.code === 213 ? parseMdtm(r.text) : undefined;
    return t === undefined ? undefined : t - this.mdtmOffset * 60_000;
  }

  /**
   * FileZilla's way: MDTM (UTC, to the second) of one listed file against its LIST time. Done at the
   * first listing that shows a file with a time of day, before any time of this server is handed
   * out, so that times never shift under the editor or a sync record. Remembered per server; a
   * server without MDTM is remembered as undetectable (the setting is the way then).
   */
  private async detectZone(dir: string, entries: FileEntry[]): Promise<number | undefined> {
    const candidate = detectionCandidate(entries);
    if (candidate?.mtime === undefined) return undefined;
    const path = join(dir, candidate.name);
    const r = await this.mdtmOfListed(path);
    if (!r) return undefined;
    const mdtm = r.code === 213 ? parseMdtm(r.text) : undefined;
    // A 550 (the file went away since the listing) says nothing about the server: next listing tries again.
    if (mdtm === undefined && r.code !== 213 && r.code !== 500 && r.code !== 502) return undefined;
    const offset = mdtm === undefined ? undefined : detectOffset(candidate.mtime, mdtm);
    zoneMemory.set(this.serverKey, offset ?? null);
    const setting = this.options.timeZoneOffsetMinutes;
    if (setting !== undefined) {
      // The setting rules LIST; what this MDTM showed only matters when MDTM is not UTC.
      if (this.mdtmOffset !== 0) {
        this.emitEvent({
          type: 'learned', id: this.id, what: 'time-zone',
          detail: `MDTM answers in local time, UTC${formatTimeZoneOffset(this.mdtmOffset)}, not UTC (MDTM of ${path} against its LIST line, with timeZoneOffset ${formatTimeZoneOffset(setting)}): MDTM times are moved to UTC too`,
        });
      }
      return offset;
    }
    this.emitEvent({
      type: 'learned', id: this.id, what: 'time-zone',
      detail: offset === undefined
        ? `LIST times are in the server's local time, which could not be detected (MDTM ${path}: ${r.code} ${r.message}); they are taken as UTC — set timeZoneOffset if they are off`
        : `LIST times are in the server's local time, UTC${formatTimeZoneOffset(offset)} (LIST against MDTM of ${path})`,
    });
    return offset;
  }

  /** One path's entry: MLST, else SIZE+MDTM+CWD in one round trip, else the parent listing. */
  async stat(path: string): Promise<FileEntry> {
    const p = checked(path);
    return this.exclusive(async () => {
      if (p === '/') return { name: '/', type: 'directory', size: -1 };
      if (this.features.has('MLST')) {
        const r = await this.control.request(`MLST ${p}`);
        if (r.code === 250) {
          const entry = parseMlstReply(r.text);
          if (entry) return { ...entry, name: basename(p) };
        } else if (r.code !== 500 && r.code !== 502) {
          throw notFound(p, r, `MLST ${p}`);
        }
      }
      // With a zone set, whether MDTM is in it too is found at this server's first LIST: list first.
      // Once per session: a folder whose files are all too old to show a time of day tells nothing.
      if (this.options.timeZoneOffsetMinutes && zoneMemory.get(this.serverKey) === undefined && !this.features.has('MLST') && !this.zoneLooked) {
        this.zoneLooked = true;
        await this.listUnlocked(dirname(p)).catch(() => undefined);
      }
      const { size, mdtm, cwd } = await this.sizeTimeFolder(p);
      const mtime = this.mdtmTime(mdtm);
      if (cwd.code === 250) return { name: basename(p), type: 'directory', size: -1, mtime };
      if (size.code === 213) return { name: basename(p), type: 'file', size: parseSize(size.text) ?? -1, mtime };
      // Directories and symlinks have no SIZE on most servers: look in the parent.
      const entries = await this.listUnlocked(dirname(p));
      const entry = entries.find((e) => e.name === basename(p));
      if (!entry) throw new FtpError('not-found', `${p}: not found.`, { code: size.code, replyText: size.text, command: `SIZE ${p}` });
      return entry;
    });
  }

  /**
   * SIZE and MDTM (a file's size and time) and CWD (250: a folder) in one round trip: some servers,
   * e.g. ftp-srv, answer SIZE for a folder too. Paths are absolute everywhere, so the CWD changes
   * nothing else.
   */
  private async sizeTimeFolder(p: string): Promise<{ size: Reply; mdtm: Reply; cwd: Reply }> {
    this.control.send(`SIZE ${p}`);
    this.control.send(`MDTM ${p}`);
    this.control.send(`CWD ${p}`);
    const size = await this.control.read();
    const mdtm = await this.control.read();
    const cwd = await this.control.read();
    return { size, mdtm, cwd };
  }

  /**
   * What a symbolic link points at, asked of the server through the link itself: CWD (250: a
   * folder), SIZE and MDTM (213: a file) in one round trip. Both refused with a 55x: the target is
   * not there (a dangling link — or one the server will not let us see). SIZE unsupported and CWD
   * refused: undecided.
   */
  async probeLink(path: string): Promise<{ type: 'file' | 'directory' | 'missing' | 'unknown'; size: number; mtime?: number }> {
    const p = checked(path);
    return this.exclusive(async () => {
      const { size, mdtm, cwd } = await this.sizeTimeFolder(p);
      const mtime = this.mdtmTime(mdtm);
      if (cwd.code === 250) return { type: 'directory', size: -1, mtime };
      if (size.code === 213) return { type: 'file', size: parseSize(size.text) ?? -1, mtime };
      if (mdtm.code === 213) return { type: 'file', size: -1, mtime };
      const missing = (r: Reply) => r.code >= 550 && r.code < 560;
      return { type: missing(size) && missing(cwd) ? 'missing' : 'unknown', size: -1 };
    });
  }

  /**
   * A link's target as the server's LIST of its folder tells it (`name -> target`): MLSD servers
   * (proftpd, pure-ftpd) type a link but do not say where it points. Undefined when LIST does not
   * show it either.
   */
  async linkTarget(path: string): Promise<string | undefined> {
    const p = checked(path);
    return this.exclusive(async () => {
      const dir = dirname(p);
      const entries = await this.fetchListing(`LIST ${dir}`, dir, {}, parseList);
      return entries.find((e) => e.name === basename(p) && e.type === 'symlink')?.target;
    });
  }

  /**
   * Downloads a file into `dest` (not ended), with back-pressure; with `offset`, from that byte on
   * (REST). Resolves with the byte count once the bytes are written to `dest`.
   */
  async download(path: string, dest: Writable, opts: TransferOptions & { offset?: number } = {}): Promise<number> {
    const p = checked(path);
    return this.exclusive(() => this.transfer({
      command: `RETR ${p}`, direction: 'download', path: p, pump: pumpTo(dest, opts.onProgress), signal: opts.signal,
      preamble: opts.offset ? `REST ${opts.offset}` : undefined,
    }));
  }

  /**
   * Downloads into a local regular file (created or truncated; with `offset`, resumed: written from
   * there on). Faster and leaner than `download` with a file stream: the data moves in a few reused
   * blocks, straight from the socket where possible (see localFile.ts). Resolves once the bytes are
   * in the file.
   */
  async downloadToFile(path: string, localPath: string, opts: TransferOptions & { offset?: number } = {}): Promise<number> {
    const p = checked(path);
    const file = await openTarget(localPath, opts.offset);
    const writer = new BlockFileWriter(file, opts.offset);
    try {
      return await this.exclusive(() => this.transfer({
        command: `RETR ${p}`, direction: 'download', path: p, pump: pumpToFile(writer, opts.onProgress), directRead: writer.directRead,
        signal: opts.signal, preamble: opts.offset ? `REST ${opts.offset}` : undefined,
      }));
    } catch (err) {
      // Every byte that arrived before a cut is the file's, in order: kept, a resumed download
      // goes on from there (src/ftp/resume.ts).
      await writer.finish().catch(() => undefined);
      throw err;
    } finally {
      // A write may still be in flight after a failure: it must not meet a closed file.
      await writer.settle();
      await file.close();
    }
  }

  /**
   * Uploads a local regular file, read in reused blocks one ahead of the socket. With `offset`,
   * only the bytes from there on: after `REST offset` onto the file's own byte `offset` (STOR), or
   * at its end with `append` (APPE) — a resumed upload. Resolves with the bytes sent.
   */
  async uploadFromFile(path: string, localPath: string, opts: TransferOptions & { append?: boolean; offset?: number } = {}): Promise<number> {
    const p = checked(path);
    const file = await openSource(localPath);
    const offset = opts.offset ?? 0;
    try {
      return await this.exclusive(() => this.transfer({
        command: `${opts.append ? 'APPE' : 'STOR'} ${p}`, direction: 'upload', path: p,
        pump: pumpFromFile(() => new BlockFileReader(file, undefined, undefined, undefined, offset), opts.onProgress, opts.signal), signal: opts.signal,
        preamble: offset > 0 && !opts.append ? `REST ${offset}` : undefined,
      }));
    } finally {
      await file.close();
    }
  }

  /** A whole file in memory (an editor's open). */
  async readFile(path: string, opts: TransferOptions = {}): Promise<Buffer> {
    const p = checked(path);
    return this.exclusive(async () => {
      const chunks: Buffer[] = [];
      await this.transfer({ command: `RETR ${p}`, direction: 'download', path: p, pump: pumpToBuffer(chunks, opts.onProgress), signal: opts.signal });
      return Buffer.concat(chunks);
    });
  }

  /**
   * Writes a file from bytes in memory or a stream (STOR, or APPE with `append`). Bytes in memory
   * can be sent again after a data-connection failure; a stream cannot, so it never rides on a
   * connection opened in advance. Resolves with the byte count once the server confirmed it (226).
   */
  async upload(path: string, source: Readable | Uint8Array, opts: TransferOptions & { append?: boolean } = {}): Promise<number> {
    const p = checked(path);
    return this.exclusive(() => this.transfer({
      command: `${opts.append ? 'APPE' : 'STOR'} ${p}`, direction: 'upload', path: p,
      pump: pumpFrom(source, opts.onProgress, opts.signal), signal: opts.signal, oneShot: !(source instanceof Uint8Array),
    }));
  }

  /** Makes a folder (MKD); `recursive` makes the missing parents too and accepts one that exists. */
  async mkdir(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const p = checked(path);
    return this.exclusive(async () => {
      if (!opts.recursive) {
        await this.simple(`MKD ${p}`, 'path-write');
        return;
      }
      let current = '/';
      for (const part of p.split('/').filter(Boolean)) {
        current = join(current, part);
        const r = await this.control.request(`MKD ${current}`);
        if (r.code >= 400) {
          // Already there is fine; anything else is reported with the server's words.
          const cwd = await this.control.request(`CWD ${current}`);
          if (cwd.code >= 400) throw errorFromReply(r, `MKD ${current}`, 'path-write');
        }
      }
    });
  }

  /** Removes a folder (RMD); `recursive` deletes its contents first. Never the root. */
  async removeDir(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const p = checked(path);
    if (p === '/') return Promise.reject(new FtpError('permission', 'Refusing to delete the root folder.'));
    return this.exclusive(() => this.removeDirUnlocked(p, opts.recursive ?? false));
  }

  private async removeDirUnlocked(path: string, recursive: boolean): Promise<void> {
    if (recursive) {
      for (const entry of await this.listUnlocked(path)) {
        const child = join(path, entry.name);
        if (entry.type === 'directory') await this.removeDirUnlocked(child, true);
        else await this.simple(`DELE ${child}`, 'path-write');
      }
    }
    await this.simple(`RMD ${path}`, 'path-write');
  }

  /** Deletes a file (DELE). */
  async remove(path: string): Promise<void> {
    const p = checked(path);
    return this.exclusive(async () => { await this.simple(`DELE ${p}`, 'path-write'); });
  }

  /** Renames or moves a file or folder on the server (RNFR + RNTO); replaces `to` where the server allows. */
  async rename(from: string, to: string): Promise<void> {
    const f = checked(from);
    const t = checked(to);
    return this.exclusive(async () => {
      const r = await this.control.request(`RNFR ${f}`);
      if (r.code !== 350) throw errorFromReply(r, `RNFR ${f}`, 'path-read');
      await this.simple(`RNTO ${t}`, 'path-write');
    });
  }

  /**
   * The end of a safe save in two round trips, never renaming a copy that is not whole: `SIZE from`
   * goes out with `RNFR from` (which changes nothing yet); only when the server holds `expectedSize`
   * bytes (or cannot tell: no SIZE) and answered RNFR with 350 does `RNTO to` go, together with
   * what may safely follow it whatever RNTO answers — `SITE CHMOD mode to` (the replaced file's own
   * permissions: on a refused RNTO it sets the old file's mode to what it was) and a look at the
   * result (MLST, or SIZE and MDTM). RNTO is never sent on the chance of an RNFR: a refused RNFR
   * would leave an earlier one pending on some servers, and the RNTO would rename that.
   * A copy of another size is not renamed (`renamed` false; the copy is the caller's to remove),
   * nor one whose size the server cannot tell by SIZE (`tempSize` undefined).
   * Rejects with RNFR's or RNTO's error; `chmod` is SITE CHMOD's error, for the caller to judge.
   */
  async renameChecked(from: string, to: string, expectedSize: number, opts: { mode?: number } = {}): Promise<RenameChecked> {
    const f = checked(from);
    const t = checked(to);
    return this.exclusive(async () => this.renameAfterLook(f, t, expectedSize, await this.sizeAndRnfr(f), opts));
  }

  /**
   * A safe save's upload and its checked rename as one operation on this session: STOR `source`
   * to `temp`, then what renameChecked(temp, target, expectedSize) does, under the same rules. On
   * a server that answers commands only after a transfer ends (vsftpd, see GreetingTraits), SIZE
   * and RNFR go out as soon as the data is across and our side of the data connection is closed:
   * they are answered right behind the STOR's 226, which that server sends only a round trip after
   * our last byte — a round trip less per save. Elsewhere they go after the 226, as before (a
   * server that reads commands during a transfer may answer them before it, or refuse them).
   * RNTO goes only after a 226, `expectedSize` bytes sent and held (SIZE), and RNFR's 350. A STOR
   * that fails renames nothing and rejects with its error; where SIZE and RNFR went early, the copy
   * is deleted here first, so that the RNFR the server holds names nothing. `beforeRename` is told
   * right before RNTO goes out: up to then, repeating the whole operation changes nothing but the copy.
   */
  async uploadReplacing(temp: string, target: string, source: Uint8Array | { file: string }, expectedSize: number, opts: TransferOptions & { mode?: number; beforeRename?: () => void } = {}): Promise<UploadReplaced> {
    const f = checked(temp);
    const t = checked(target);
    let file: FileHandle | undefined;
    let pump: TransferSpec['pump'];
    if (source instanceof Uint8Array) pump = pumpFrom(source, opts.onProgress, opts.signal);
    else {
      const opened = file = await openSource(source.file);
      pump = pumpFromFile(() => new BlockFileReader(opened), opts.onProgress, opts.signal);
    }
    try {
      return await this.exclusive(async () => {
        let early: Promise<SizeAndRnfr> | undefined;
        const inFlight = this.traits.commandsWaitForTransfer && !earlyRenameMisfits.has(this.serverKey);
        const sent = await this.transfer({
          command: `STOR ${f}`, direction: 'upload', path: f, signal: opts.signal, pump,
          atDataEnd: inFlight ? () => {
            early ??= this.sizeAndRnfr(f);
            // Awaited once the transfer is over, either way.
            early.catch(() => undefined);
          } : undefined,
        }).catch(async (e: unknown) => {
          if (early) await this.forgetEarlyRename(f, early);
          throw e;
        });
        let look: SizeAndRnfr;
        if (early) {
          look = await early;
          if (!fitsSizeAndRnfr(look)) throw this.earlyRenameMisfit(f, look);
        } else {
          // As renameChecked would: what the server still owes (the EPSV sent at the data's end) first.
          await this.owed.settle();
          look = await this.sizeAndRnfr(f);
        }
        if (sent !== expectedSize) return { sent, tempSize: parseSize(look.size.text) ?? sent, renamed: false, chmodSet: false };
        return { sent, ...(await this.renameAfterLook(f, t, expectedSize, look, opts)) };
      });
    } finally {
      await file?.close();
    }
  }

  /** SIZE and RNFR of `path` in one write; resolves with their replies. */
  private sizeAndRnfr(path: string): Promise<SizeAndRnfr> {
    const control = this.control;
    control.send(`SIZE ${path}`);
    control.send(`RNFR ${path}`);
    // Both reads are queued now, in the order the replies come.
    const size = control.read();
    const rnfr = this.finalReply();
    rnfr.catch(() => undefined);
    return size.then(async (r) => ({ size: r, rnfr: await rnfr }));
  }

  /**
   * The STOR failed after SIZE and RNFR went behind its data: their replies are read (the session
   * stays in step) and the copy deleted on this connection, so that a pending RNFR names nothing
   * (vsftpd keeps it until the next RNFR or RNTO). What fails here is the connection's problem, not
   * the save's: the STOR's error is the one to tell.
   */
  private async forgetEarlyRename(path: string, early: Promise<SizeAndRnfr>): Promise<void> {
    try {
      await early;
      await this.control.request(`DELE ${path}`);
    } catch {
      this.control.destroy();
    }
  }

  /**
   * Early SIZE and RNFR whose replies are not a SIZE's and an RNFR's: the server answered them out
   * of turn, so which reply was the STOR's is not known. Nothing is renamed, the connection is
   * dropped (its replies are out of step), and this server gets them after the 226 from now on.
   */
  private earlyRenameMisfit(path: string, look: SizeAndRnfr): FtpError {
    remember(earlyRenameMisfits, this.serverKey, true);
    const detail = `SIZE and RNFR sent right after an upload's data were answered ${look.size.code} and ${look.rnfr.code}: the server does not hold them until the transfer's reply, although its greeting says vsftpd; they are sent after that reply from now on`;
    this.emitEvent({ type: 'learned', id: this.id, what: 'replies-out-of-order', detail });
    this.control.destroy();
    return new FtpError('protocol', `STOR ${path}: the server's replies came out of order (${detail}); nothing was renamed.`, { command: `SIZE ${path}` });
  }

  /**
   * The rest of a checked rename once SIZE and RNFR of the copy are answered: RNTO with SITE CHMOD
   * and a look at the result in one write, only for a copy of `expectedSize` bytes (or of a size the
   * server cannot tell) whose RNFR got 350.
   */
  private async renameAfterLook(f: string, t: string, expectedSize: number, { size, rnfr }: SizeAndRnfr, opts: { mode?: number; beforeRename?: () => void }): Promise<RenameChecked> {
    const control = this.control;
    // No SIZE on this server: the caller looks at the copy another way before any rename.
    if (size.code === 500 || size.code === 502 || size.code === 504) return { renamed: false, chmodSet: false };
    if (size.code >= 400) throw notFound(f, size, `SIZE ${f}`);
    const held = parseSize(size.text) ?? -1;
    if (held >= 0 && held !== expectedSize) return { tempSize: held, renamed: false, chmodSet: false };
    if (rnfr.code !== 350) throw errorFromReply(rnfr, `RNFR ${f}`, 'path-read');
    const chmodCommand = opts.mode === undefined ? undefined : `SITE CHMOD ${octalMode(opts.mode)} ${t}`;
    const mlst = this.features.has('MLST');
    opts.beforeRename?.();
    control.send(`RNTO ${t}`);
    if (chmodCommand) control.send(chmodCommand);
    if (mlst) control.send(`MLST ${t}`);
    else {
      control.send(`SIZE ${t}`);
      control.send(`MDTM ${t}`);
    }
    const rnto = await this.finalReply();
    const chmodReply = chmodCommand ? await control.read() : undefined;
    const look = [await control.read(), ...(mlst ? [] : [await control.read()])];
    if (rnto.code >= 400) throw errorFromReply(rnto, `RNTO ${t}`, 'path-write');
    const chmod = chmodReply && chmodReply.code >= 400 ? this.chmodError(chmodReply, chmodCommand!) : undefined;
    let after: FileEntry | undefined;
    if (mlst) {
      const entry = look[0].code === 250 ? parseMlstReply(look[0].text) : undefined;
      if (entry) after = { ...entry, name: basename(t) };
    } else if (look[0].code === 213) {
      after = { name: basename(t), type: 'file', size: parseSize(look[0].text) ?? -1, mtime: this.mdtmTime(look[1]) };
    }
    return { tempSize: held, renamed: true, after, chmod, chmodSet: chmodCommand !== undefined && !chmod };
  }

  /** The next reply that is not preliminary (1xx), for commands sent in one write. */
  private async finalReply(): Promise<Reply> {
    for (;;) {
      const r = await this.control.read();
      if (r.code >= 200) return r;
    }
  }

  /**
   * Sets a file's or folder's permission bits (SITE CHMOD, octal). A server without the command
   * (500/502/504, or a refusal in those words) fails with FtpError('unsupported'), which callers
   * tell once and then stop asking; other refusals keep the server's own kind (permission,
   * not-found…).
   */
  async chmod(path: string, mode: number): Promise<void> {
    const p = checked(path);
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) return Promise.reject(new FtpError('protocol', `Not a permission mode: ${mode} (0 to 7777 octal).`));
    return this.exclusive(async () => {
      const command = `SITE CHMOD ${octalMode(mode)} ${p}`;
      const r = await this.control.request(command);
      if (r.code < 400) return;
      throw this.chmodError(r, command);
    });
  }

  /** A refused SITE CHMOD as the error to show: 'unsupported' where the server has no such command. */
  private chmodError(r: Reply, command: string): FtpError {
    const err = errorFromReply(r, command, 'path-write');
    const unsupported = err.kind === 'unsupported' || (err.kind !== 'not-found' && /unknown|not understood|not implemented|unrecognized/i.test(r.message));
    if (!unsupported) return err;
    return new FtpError('unsupported', `The server does not support SITE CHMOD (${r.code} ${r.message}): permissions cannot be changed on this server.`, { code: r.code, replyText: r.text, command });
  }

  /**
   * How this server computes checksums (see checksum.ts), from FEAT; undefined when it has none
   * (or refused one it listed). `ranged`: one that hashes a byte range (the X-commands).
   */
  checksumMethod(opts: { ranged?: boolean } = {}): ChecksumMethod | undefined {
    return this.checksumRefused ? undefined : bestChecksumMethod(this.features, opts);
  }

  /**
   * The server's checksum of a file, or of its bytes `start` to `end` (end exclusive), in the
   * strongest algorithm it offers; undefined when it offers none. A 55x is a typed error (the file
   * is not there); a digest that cannot be read is a 'protocol' error.
   */
  async checksum(path: string, range?: { start: number; end: number }): Promise<Checksum | undefined> {
    const p = checked(path);
    return this.exclusive(async () => {
      const method = this.checksumMethod({ ranged: range !== undefined });
      if (!method) return undefined;
      if (method.command === 'HASH' && this.hashSelected !== method.algorithm) {
        const opts = await this.control.request(`OPTS HASH ${method.algorithm}`);
        if (opts.code >= 400) return this.refusedChecksum(opts);
        this.hashSelected = method.algorithm;
      }
      const command = method.command === 'HASH' ? `HASH ${p}` : `${method.command} ${p}${range ? ` ${range.start} ${range.end}` : ''}`;
      const r = await this.control.request(command);
      if (r.code === 500 || r.code === 502 || r.code === 504) return this.refusedChecksum(r);
      if (r.code >= 400) throw errorFromReply(r, command, 'path-read');
      const hex = parseChecksumReply(method.algorithm, r.text);
      if (!hex) throw new FtpError('protocol', `${method.command}: no ${method.algorithm} digest in the reply (${r.code} ${r.message})`, { code: r.code, replyText: r.text, command });
      return { algorithm: method.algorithm, hex };
    });
  }

  private refusedChecksum(r: Reply): undefined {
    this.checksumRefused = true;
    this.emitEvent({ type: 'warning', id: this.id, message: `The server lists checksums in FEAT but refused one (${r.code} ${r.message}); files are checked by size only.` });
    return undefined;
  }

  /**
   * Diagnostics: one listing of `path` through exactly one data-channel command (EPSV, PASV, EPRT
   * or PORT), without fallback, on a throwaway copy of what the session knows about the server:
   * what a probe finds changes nothing for the session's own transfers. Resolves with the
   * milliseconds it took.
   */
  async probe(variant: 'EPSV' | 'PASV' | 'EPRT' | 'PORT', path = '/'): Promise<number> {
    const p = checked(path);
    return this.exclusive(async () => {
      this.channels.drop('a diagnostic probe');
      const channels = this.channels.forProbe(variant);
      const mode: ConcreteMode = variant === 'EPSV' || variant === 'PASV' ? 'passive' : 'active';
      const started = Date.now();
      const spec: TransferSpec = { command: this.features.has('MLST') ? `MLSD ${p}` : `LIST ${p}`, direction: 'list', path: p, pump: pumpToBuffer([]) };
      await this.transfer(spec, { channels, mode });
      // Refused, and the provider went on with PASV/PORT: that variant does not work here.
      if ((variant === 'EPSV' && channels.quirks.skipEpsv) || (variant === 'EPRT' && channels.quirks.skipEprt)) {
        throw new FtpError('unsupported', `The server does not support ${variant}.`);
      }
      return Date.now() - started;
    });
  }

  /**
   * Diagnostics: a listing of `path` with exactly this command, whatever FEAT says, through the
   * session's data-channel policy; LIST times in UTC as `list` gives them.
   */
  async probeListing(command: 'MLSD' | 'LIST', path = '/'): Promise<FileEntry[]> {
    const p = checked(path);
    return this.exclusive(async () => {
      return command === 'MLSD' ? this.fetchListing(`MLSD ${p}`, p, {}, parseMlsd) : this.inUtc(p, await this.fetchListing(`LIST ${p}`, p, {}, parseList));
    });
  }

  /** Sends a raw command (diagnostics); returns the final reply whatever its code. */
  raw(command: string): Promise<Reply> {
    return this.exclusive(() => this.control.request(command));
  }

  /** Finishes the operation under way and what the server still owes, then QUIT; no reconnect after. */
  async close(): Promise<void> {
    this.userClosed = true;
    await this.busy;
    await this.owed.settle();
    this.channels.drop();
    await this.control.quit();
  }

  /** Closes at once, mid-operation if need be; no reconnect after. */
  destroy(err?: Error): void {
    this.userClosed = true;
    this.channels.drop();
    this.control.destroy(err instanceof FtpError ? err : undefined);
  }
}

/** What `renameChecked` found: the copy's size (undefined: the server has no SIZE), the target afterwards, SITE CHMOD's outcome. */
export interface RenameChecked {
  tempSize?: number;
  renamed: boolean;
  after?: FileEntry;
  chmod?: FtpError;
  chmodSet: boolean;
}

/** What `uploadReplacing` did: the bytes the STOR sent, and what the checked rename found. */
export interface UploadReplaced extends RenameChecked {
  sent: number;
}

interface SizeAndRnfr {
  size: Reply;
  rnfr: Reply;
}

/**
 * Replies that can be vsftpd's to SIZE and RNFR, not a transfer's (226) or each other's. Not
 * "no such command" for SIZE either: that would send the copy to a rename without a size check.
 */
function fitsSizeAndRnfr({ size, rnfr }: SizeAndRnfr): boolean {
  const sizeFits = size.code === 213 || (size.code >= 400 && ![500, 502, 504].includes(size.code));
  return sizeFits && (rnfr.code === 350 || rnfr.code >= 400);
}

function checked(path: string): string {
  assertSafePath(path);
  return normalize(path);
}

function notFound(path: string, r: Reply, command: string): FtpError {
  const err = errorFromReply(r, command, 'path-read');
  return err.kind === 'not-found' ? new FtpError('not-found', `${path}: not found (${r.code} ${r.message}).`, { code: r.code, replyText: r.text, command }) : err;
}
