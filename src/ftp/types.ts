/** Shared types of the FTP core (no vscode import anywhere under src/ftp). */
import type { Socket } from 'node:net';

/** What the user chooses. */
export type DataMode = 'passive' | 'active' | 'auto';
/** What a single data connection actually used. */
export type ConcreteMode = 'passive' | 'active';

export type Security = 'none' | 'explicit' | 'implicit';

export type EntryType = 'file' | 'directory' | 'symlink' | 'unknown';

export interface FileEntry {
  /** Plain name, never containing '/', CR, LF or NUL, never '.' or '..'. */
  name: string;
  type: EntryType;
  /** Bytes; -1 when unknown. */
  size: number;
  /** Modification time in ms since the epoch (UTC); undefined when unknown. */
  mtime?: number;
  /**
   * Set when `mtime` came from a LIST line without a zone: the server's wall-clock time, shown to
   * the second, the minute (`Mon DD HH:MM`) or the day (`Mon DD  YYYY`, files older than about six
   * months). The parser reads it as UTC; the session moves it by the server's offset (timeZone.ts).
   * Unset: an exact UTC time (MLSD, MDTM, a LIST line with a zone).
   */
  mtimePrecision?: 'second' | 'minute' | 'day';
  /** Unix permission bits (e.g. 0o644) when known. */
  permissions?: number;
  /** For symlinks, the link target when the listing tells it. */
  target?: string;
  /**
   * For symlinks, what the target is once resolved (RemoteFs: from the same listing, else asked of
   * the server): 'missing' for a dangling link, 'unknown' when the server would not tell.
   */
  targetType?: 'file' | 'directory' | 'missing' | 'unknown';
}

export interface TlsOptions {
  /** Verify the certificate chain and host name (default true). */
  rejectUnauthorized?: boolean;
  /** SHA-256 fingerprints (hex, colon separated, as Node prints them) trusted even if verification fails. */
  trustedFingerprints?: string[];
  /**
   * Called when verification fails and the fingerprint is not pinned. Return true to trust it
   * (the caller pins it for next time). Without it an untrusted certificate is refused.
   */
  onUntrustedCertificate?: (info: CertificateInfo) => Promise<boolean> | boolean;
  /** Minimum TLS version, default TLSv1.2. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface CertificateInfo {
  host: string;
  fingerprint256: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** Why verification failed, e.g. DEPTH_ZERO_SELF_SIGNED_CERT, or 'fingerprint-changed'. */
  reason: string;
}

export type ProxyKind = 'socks5' | 'http';

/** A proxy every connection goes through (src/ftp/proxy.ts); parseProxyUrl makes one from a URL. */
export interface ProxySettings {
  kind: ProxyKind;
  host: string;
  port: number;
  /** SOCKS5 user name / HTTP Basic user; none: no authentication offered. */
  user?: string;
  /**
   * With `user`. A function is called at each connection through the proxy (an editor keeps the
   * answer, asked once); resolving undefined fails the connect with a ProxyError ('auth').
   */
  password?: string | (() => Promise<string | undefined>);
}

/** Port, mode and timeouts left out take their values from src/ftp/defaults.ts. */
export interface ConnectOptions {
  host: string;
  port?: number;               // defaultPort(security): 21, 990 for implicit TLS
  user?: string;               // default 'anonymous'
  /**
   * Default 'anonymous@' for anonymous, else ''. A function is called once, after the server has
   * greeted (and TLS, its certificate check included, is up): an editor asks the user only when
   * the server is there to take the answer. Resolving undefined fails the connect with a 'login'
   * error; throwing fails it with that error.
   */
  password?: string | (() => Promise<string | undefined>);
  account?: string;            // sent with ACCT if the server asks (332)
  security?: Security;         // default 'none'
  tls?: TlsOptions;
  mode?: DataMode;             // default 'auto' (passive first)
  /**
   * Never send EPSV / EPRT: for servers (or firewalls and NAT routers inspecting port 21) that
   * mishandle them instead of refusing them; PASV / PORT are used from the start (curl's
   * --disable-epsv / --disable-eprt). Default false: EPSV and EPRT first, a refusal is remembered.
   */
  disableEpsv?: boolean;
  disableEprt?: boolean;
  /**
   * The server's time zone in minutes east of UTC (e.g. 120 for UTC+02:00): LIST shows local times
   * without a zone. Default: detected once per server from one file's MDTM (UTC) against its LIST
   * line, where the server has MDTM; else LIST times are taken as UTC. See timeZone.ts.
   */
  timeZoneOffsetMinutes?: number;
  /**
   * Reach the server through this proxy: the control connection and every data connection. Passive
   * data connections go to the server's name (not the PASV address: it means nothing behind a
   * proxy); active mode works through SOCKS5 BIND only (auto mode keeps to passive otherwise).
   * Default: none, direct connections.
   */
  proxy?: ProxySettings;
  /**
   * A TCP connection to host:port made or under way before the client existed (the command line's
   * launcher starts one while it loads the rest: cliEarlyConnection.ts), for the first control
   * connection; asked once per connect, undefined: connect anew. Plain TCP whatever the security:
   * TLS starts on it as on a new connection. Never asked with a proxy.
   */
  earlyConnection?: () => Socket | undefined;
  /** Use the address in a PASV reply instead of the control peer's (default false: NAT-safe). */
  trustPasvAddress?: boolean;
  /** Address advertised in EPRT/PORT (NAT with port forwarding). Default: control socket's local address. */
  activeAddress?: string;
  /** Local address to listen on in active mode. Default: control socket's local address. */
  activeListenAddress?: string;
  /** Inclusive port range for active-mode listening, e.g. [50000, 50100]. Default: any port. */
  activePortRange?: [number, number];
  connectTimeoutMs?: number;
  replyTimeoutMs?: number;
  /** How long to wait for a data connection to open (connect or accept). */
  dataConnectTimeoutMs?: number;
  /** A transfer with no bytes moving for this long fails. */
  dataIdleTimeoutMs?: number;
  /**
   * After a passive transfer, send EPSV/PASV and open the next data connection at once, so the
   * next transfer on this session needs one round trip less or two.
   */
  passiveInAdvance?: boolean;
  /**
   * In passive mode, send EPSV with the login and open the first data connection while the
   * login's replies are on their way, so that the first transfer needs a round trip less:
   * 'remembered' (default) where an earlier login to this server found EPSV in FEAT; 'always' for a
   * server not seen before too, on trust, as curl and lftp always start with EPSV (the CLI's
   * one-shot commands, which have no memory; a server that refuses it is remembered and gets
   * PASV); 'never' for a session that will make no transfer (the CLI's `rm` or `mkdir`, diagnostics).
   * Unsaid with passiveInAdvance false: 'never'.
   */
  passiveWithLogin?: 'remembered' | 'always' | 'never';
  /**
   * The charset of file names on the server: 'auto' (default) or a name iconv-lite knows, e.g.
   * 'utf8', 'windows-1252', 'latin1', 'gbk', 'big5', 'shift_jis'. Names are bytes on the wire:
   * older Windows and Chinese hosts store Latin-1 or GBK bytes and expect the same bytes back.
   * Auto uses UTF-8 until a listing is not valid UTF-8, then the charset src/ftp/charset.ts detects
   * (remembered per server, told by a 'learned' event). A named charset also skips OPTS UTF8 ON,
   * which would ask servers such as IIS to convert names to UTF-8.
   */
  encoding?: string;
  /** Shared store of which concrete mode worked per server, for auto mode. */
  modeMemory?: ModeMemory;
  /**
   * Shared store of what each server offered (EPSV, FEAT), so that a new session's first EPSV can
   * go out with the login (passiveWithLogin) and its first command need not wait for FEAT's answer;
   * in this process's memory unless given (the extension keeps it across windows, the CLI on disk).
   */
  featureMemory?: FeatureMemory;
  /** Connection id used in events; assigned if absent. */
  id?: string;
  /** Receives every event from the first connect on, login included (a later `on('event')` misses those). */
  onEvent?: (event: FtpEvent) => void;
}

/** What a server was found to offer: EPSV in FEAT, or answered with 229; and FEAT's whole answer. */
export interface KnownFeatures {
  epsv: boolean;
  /**
   * FEAT's answer at the last login (upper-case name, parameters), [] for a server without FEAT;
   * absent in records from before it was kept. With it, the next login does not wait for FEAT.
   */
  feat?: Array<[string, string]>;
  /**
   * The key-exchange group the server chose at the last TLS handshake (e.g. "P-256"): the next
   * first connection — a new window, the command line's next run — offers it first and so makes no
   * HelloRetryRequest, a round trip with servers that want another group than X25519 (vsftpd).
   */
  tlsGroup?: string;
}

/** Remembers, per security and server, what it offered at the last login; undefined forgets. */
export interface FeatureMemory {
  get(key: string): KnownFeatures | undefined;
  set(key: string, known: KnownFeatures | undefined): void;
}

/** Remembers, per server key, which concrete mode worked last in auto mode. */
export interface ModeMemory {
  get(serverKey: string): ConcreteMode | undefined;
  set(serverKey: string, mode: ConcreteMode): void;
}

export interface TransferOptions {
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
}

/**
 * What an upload sends: bytes in memory (an editor's save), or a local file of a known size read
 * in blocks as it goes (a sync of big files must not hold them in memory).
 */
export type UploadSource = Uint8Array | { file: string; size: number };

export function sourceSize(source: UploadSource): number {
  return source instanceof Uint8Array ? source.length : source.size;
}

/** Events emitted by the core for logging; secrets are already masked. */
export type FtpEvent =
  /** `proxy`: the hop it went through, as describeProxy shows it (never the proxy's password). */
  | { type: 'connect'; id: string; host: string; port: number; address?: string; tls: boolean; proxy?: string; early?: boolean }
  | { type: 'command'; id: string; text: string }
  | { type: 'reply'; id: string; code: number; text: string }
  | { type: 'tls'; id: string; protocol: string; cipher: string; resumed: boolean; authorized: boolean; channel: 'control' | 'data'; group?: string }
  | { type: 'data-open'; id: string; mode: ConcreteMode; command: string; local: string; remote: string; tls: boolean; resumed?: boolean; proxy?: string }
  | { type: 'data-fallback'; id: string; from: ConcreteMode; to: ConcreteMode; reason: string }
  /**
   * `streamChunks`: buffers the data socket handed out through its stream; 0 when it read straight
   * into the transfer's own memory (a download to a file over a passive connection). `finalOwed`:
   * the transfer returned with every announced byte, before the server's final reply, which the
   * session reads before its next command.
   */
  | { type: 'transfer'; id: string; direction: 'download' | 'upload' | 'list'; path: string; bytes: number; ms: number; mode: ConcreteMode; streamChunks: number; finalOwed: boolean }
  /** The passive data connection opened in advance for the next transfer: connected, failed, or closed unused. */
  | { type: 'in-advance'; id: string; state: 'ready' | 'failed' | 'closed'; via: 'EPSV' | 'PASV'; target: string; reason?: string }
  /** The session found out something about the server that changes how it talks to it from now on. */
  | { type: 'learned'; id: string; what: 'no-epsv' | 'no-eprt' | 'replies-out-of-order' | 'tls-after-preliminary' | 'encoding' | 'time-zone' | 'features'; detail: string }
  | { type: 'close'; id: string; reason?: string }
  | { type: 'warning'; id: string; message: string };
