/**
 * Server profiles and URI authorities → a resolved server. Pure (no `vscode` import) so the rules
 * are unit-tested in plain Node; servers.ts feeds it the settings.
 */
import { AUTO_ENCODING, charsetProblem } from '../ftp/charset';
import * as ftpDefaults from '../ftp/defaults';
import { isPort, parsePortRange } from '../ftp/portRange';
import { describeProxy, parseProxyUrl } from '../ftp/proxy';
import { parseMode } from '../ftp/permissions';
import { parseTimeZoneOffset } from '../ftp/timeZone';
import type { ConnectOptions, DataMode, ProxySettings, Security } from '../ftp/types';

/** One entry of the `ftpWorkspace.servers` setting, as the user wrote it. */
export interface ServerProfile {
  name: string;
  host: string;
  port?: number;
  user?: string;
  account?: string;
  security?: Security;
  mode?: DataMode;
  activeAddress?: string;
  activeListenAddress?: string;
  activePortRange?: string;
  trustPasvAddress?: boolean;
  remoteRoot?: string;
  poolSize?: number;
  /** Seconds. */
  connectTimeout?: number;
  replyTimeout?: number;
  dataTimeout?: number;
  transferIdleTimeout?: number;
  passiveInAdvance?: boolean;
  /** Charset of file names on the server: 'auto' (default) or e.g. 'windows-1252', 'gbk'. */
  encoding?: string;
  /** The server's zone for LIST times: "+02:00" / "-05:30", or minutes east of UTC; unset: detected. */
  timeZoneOffset?: string | number;
  /** 'none', 'vscode' (VS Code's http.proxy / http.noProxy) or socks5://[user@]host:port / http://[user@]host:port. */
  proxy?: string;
  /** Permissions of new files and folders: "644" / "rw-r--r--" (a number's digits read as octal). */
  fileMode?: string | number;
  dirMode?: string | number;
}

/** Global defaults (settings `ftpWorkspace.*`, timeouts in seconds as there), applied where a profile is silent. */
export interface ServerDefaults {
  mode: DataMode;
  poolSize: number;
  activeAddress: string;
  activePortRange: string;
  trustPasvAddress: boolean;
  connectTimeout: number;
  replyTimeout: number;
  dataTimeout: number;
  transferIdleTimeout: number;
  passiveInAdvance: boolean;
  /** `ftpWorkspace.proxy`: what a profile without its own `proxy` uses. */
  proxy: string;
  /** VS Code's own proxy (http.proxy, else the environment's) and its exceptions, for proxy 'vscode'. */
  vscodeProxy?: { url: string; noProxy: string[] };
}

/** The settings' defaults: src/ftp/defaults.ts in the settings' units. */
export const DEFAULTS: ServerDefaults = {
  mode: ftpDefaults.dataMode,
  poolSize: ftpDefaults.poolSize,
  activeAddress: '',
  activePortRange: '',
  trustPasvAddress: ftpDefaults.trustPasvAddress,
  connectTimeout: ftpDefaults.connectTimeoutMs / 1000,
  replyTimeout: ftpDefaults.replyTimeoutMs / 1000,
  dataTimeout: ftpDefaults.dataConnectTimeoutMs / 1000,
  transferIdleTimeout: ftpDefaults.dataIdleTimeoutMs / 1000,
  passiveInAdvance: ftpDefaults.passiveInAdvance,
  proxy: ftpDefaults.proxy,
};

export interface ResolvedServer {
  /** Identifies the pool: one per profile, one per ad-hoc scheme/user/host/port. */
  key: string;
  /** The URI scheme and authority this server was resolved from. */
  scheme: string;
  authority: string;
  /** Short name for the UI: the profile name or user@host:port. */
  label: string;
  /** Set for servers from a profile; undefined for ad-hoc URIs. */
  profileName?: string;
  host: string;
  port: number;
  user: string;
  security: Security;
  mode: DataMode;
  remoteRoot: string;
  poolSize: number;
  /** Permission bits SITE CHMOD gives new files and folders; undefined: the server's own. */
  fileMode?: number;
  dirMode?: number;
  /** Connect options without password, TLS hooks, mode memory or id — servers.ts adds those. */
  options: ConnectOptions;
}

export class ServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerConfigError';
  }
}

const MODES: readonly DataMode[] = ['passive', 'active', 'auto'];
const SECURITIES: readonly Security[] = ['none', 'explicit', 'implicit'];

export function isDataMode(v: unknown): v is DataMode {
  return typeof v === 'string' && (MODES as readonly string[]).includes(v);
}

/** A setting's port range (see src/ftp/portRange.ts); a bad one is the user's configuration error. */
function portRangeSetting(text: string | undefined): [number, number] | undefined {
  try {
    return parsePortRange(text);
  } catch (e) {
    throw new ServerConfigError((e as Error).message);
  }
}

/** A profile's timeZoneOffset (see src/ftp/timeZone.ts); a bad one is the user's configuration error. */
function timeZoneSetting(value: unknown, profile: string): number | undefined {
  if (value !== undefined && typeof value !== 'string' && typeof value !== 'number') throw new ServerConfigError(`Server profile "${profile}": timeZoneOffset must be text such as "+02:00" or a number of minutes`);
  try {
    return parseTimeZoneOffset(value);
  } catch (e) {
    throw new ServerConfigError(`Server profile "${profile}": ${(e as Error).message}`);
  }
}

/** Splits "user@host:port" (user and port optional; IPv6 in brackets). */
export function parseAuthority(authority: string): { user?: string; host: string; port?: number } {
  let rest = authority;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = decodeURIComponentSafe(rest.slice(0, at));
    rest = rest.slice(at + 1);
    // A password in the URI would end up in history, settings and logs: we never take it.
    const colon = user.indexOf(':');
    if (colon >= 0) user = user.slice(0, colon);
  }
  let host = rest;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    host = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const m = /^([^:]*):(\d+)$/.exec(rest);
    if (m) {
      host = m[1];
      port = Number(m[2]);
    }
  }
  if (!host) throw new ServerConfigError(`No host in "${authority}"`);
  if (port !== undefined && !isPort(port)) throw new ServerConfigError(`Invalid port in "${authority}"`);
  return { user: user || undefined, host, port };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Finds the profile an authority names (names compare case-insensitively, as URI authorities do). */
export function findProfile(profiles: readonly ServerProfile[], authority: string): ServerProfile | undefined {
  const wanted = decodeURIComponentSafe(authority).toLowerCase();
  return profiles.find((p) => typeof p?.name === 'string' && p.name.toLowerCase() === wanted);
}

/**
 * Resolves `ftp://<profile>/…` or `ftp://user@host:port/…` (`ftps://` = explicit TLS, or implicit
 * TLS on port 990). `modeOverride` is a mode the user switched to at run time for this server.
 */
export function resolveServer(
  scheme: string,
  authority: string,
  profiles: readonly ServerProfile[],
  defaults: ServerDefaults = DEFAULTS,
  modeOverride?: (key: string) => DataMode | undefined,
): ResolvedServer {
  const tlsScheme = scheme === 'ftps';
  const profile = findProfile(profiles, authority);
  if (profile) {
    if (!profile.host) throw new ServerConfigError(`Server profile "${profile.name}" has no host`);
    let security: Security = SECURITIES.includes(profile.security as Security) ? (profile.security as Security) : 'none';
    if (tlsScheme && security === 'none') security = 'explicit';
    const key = `profile:${profile.name.toLowerCase()}${tlsScheme && profile.security !== security ? '+tls' : ''}`;
    return { scheme, authority, ...build(key, profile.name, profile, security, defaults, modeOverride) };
  }
  const { user, host, port } = parseAuthority(authority);
  const security: Security = tlsScheme ? (port === ftpDefaults.implicitFtpsPort ? 'implicit' : 'explicit') : 'none';
  const effectivePort = port ?? ftpDefaults.defaultPort(security);
  const effectiveUser = user ?? 'anonymous';
  const key = `${scheme}://${effectiveUser}@${host.toLowerCase()}:${effectivePort}`;
  const label = `${effectiveUser === 'anonymous' ? '' : `${effectiveUser}@`}${host}${effectivePort === ftpDefaults.ftpPort ? '' : `:${effectivePort}`}`;
  // Canonical authority: drops anything after ':' in the user part (a password never stays around).
  const canonical = `${encodeURIComponent(effectiveUser)}@${host.includes(':') ? `[${host}]` : host}:${effectivePort}`;
  return { scheme, authority: canonical, ...build(key, label, { name: '', host, port: effectivePort, user: effectiveUser }, security, defaults, modeOverride, true) };
}

function build(
  key: string,
  label: string,
  p: ServerProfile,
  security: Security,
  d: ServerDefaults,
  modeOverride: ((key: string) => DataMode | undefined) | undefined,
  adHoc = false,
): Omit<ResolvedServer, 'scheme' | 'authority'> {
  const port = positiveInt(p.port) ?? ftpDefaults.defaultPort(security);
  const user = p.user?.trim() || 'anonymous';
  const mode = modeOverride?.(key) ?? (isDataMode(p.mode) ? p.mode : d.mode);
  const seconds = (v: unknown, fallback: number) => (typeof v === 'number' && v > 0 ? v : fallback) * 1000;
  const activeAddress = (p.activeAddress ?? d.activeAddress).trim();
  const options: ConnectOptions = {
    host: p.host.trim(),
    port,
    user,
    security,
    mode,
    trustPasvAddress: p.trustPasvAddress ?? d.trustPasvAddress,
    activeAddress: activeAddress || undefined,
    activeListenAddress: p.activeListenAddress?.trim() || undefined,
    activePortRange: portRangeSetting(p.activePortRange ?? d.activePortRange),
    connectTimeoutMs: seconds(p.connectTimeout, d.connectTimeout),
    replyTimeoutMs: seconds(p.replyTimeout, d.replyTimeout),
    dataConnectTimeoutMs: seconds(p.dataTimeout, d.dataTimeout),
    dataIdleTimeoutMs: seconds(p.transferIdleTimeout, d.transferIdleTimeout),
    passiveInAdvance: typeof p.passiveInAdvance === 'boolean' ? p.passiveInAdvance : d.passiveInAdvance,
  };
  if (p.account) options.account = p.account;
  const encoding = encodingSetting(p);
  if (encoding) options.encoding = encoding;
  const zone = timeZoneSetting(p.timeZoneOffset, p.name);
  if (zone !== undefined) options.timeZoneOffsetMinutes = zone;
  const proxy = proxySetting(p.proxy ?? d.proxy, options.host, d.vscodeProxy, adHoc ? 'ftpWorkspace.proxy' : `Server profile "${p.name}": proxy`);
  if (proxy) options.proxy = proxy;
  const fileMode = modeSetting(p.fileMode, p.name, 'fileMode');
  const dirMode = modeSetting(p.dirMode, p.name, 'dirMode');
  return {
    key,
    label,
    profileName: adHoc ? undefined : p.name,
    host: options.host,
    port,
    user,
    security,
    mode,
    remoteRoot: normalizeRoot(p.remoteRoot),
    poolSize: Math.min(ftpDefaults.poolMaxSize, positiveInt(p.poolSize) ?? positiveInt(d.poolSize) ?? ftpDefaults.poolSize),
    ...(fileMode !== undefined ? { fileMode } : {}),
    ...(dirMode !== undefined ? { dirMode } : {}),
    options,
  };
}

/**
 * A profile's charset; a name iconv-lite does not know is the user's configuration error, not a
 * silent 'auto': names written in the wrong charset would create files under wrong names.
 */
function encodingSetting(p: ServerProfile): string | undefined {
  if (p.encoding === undefined || p.encoding === null || p.encoding === '') return undefined;
  const value = typeof p.encoding === 'string' ? p.encoding.trim() : String(p.encoding);
  if (value.toLowerCase() === AUTO_ENCODING) return undefined;
  const problem = charsetProblem(value);
  if (problem) throw new ServerConfigError(`Server profile "${p.name}": encoding ${problem}`);
  return value;
}

/**
 * The proxy a server is reached through: none (the default: FTP is not HTTP, and a proxy set up
 * for web traffic seldom lets port 21 through), a URL, or 'vscode' — VS Code's own proxy unless
 * the host is one of its exceptions. A password never comes from settings (secret storage does);
 * VS Code's http.proxy may carry one, and that one is used as given.
 */
export function proxySetting(value: unknown, host: string, vscodeProxy: ServerDefaults['vscodeProxy'], where: string): ProxySettings | undefined {
  if (value !== undefined && value !== null && typeof value !== 'string') throw new ServerConfigError(`${where} must be "none", "vscode" or a URL such as socks5://host:1080`);
  const text = (value ?? '').trim();
  if (text === '' || text.toLowerCase() === 'none') return undefined;
  if (text.toLowerCase() === 'vscode') {
    if (!vscodeProxy?.url.trim() || bypassesProxy(host, vscodeProxy.noProxy)) return undefined;
    try {
      return parseProxyUrl(vscodeProxy.url);
    } catch (e) {
      throw new ServerConfigError(`${where} is "vscode", but VS Code's http.proxy: ${(e as Error).message}`);
    }
  }
  let proxy: ProxySettings;
  try {
    proxy = parseProxyUrl(text);
  } catch (e) {
    throw new ServerConfigError(`${where}: ${(e as Error).message}`);
  }
  if (proxy.password !== undefined) {
    throw new ServerConfigError(`${where}: put no password in the setting — write ${describeProxy(proxy)}; the password is asked for once and kept in VS Code's secret storage.`);
  }
  return proxy;
}

/**
 * NO_PROXY rules as VS Code and curl read them: "*" (everything), a host name (itself and its
 * subdomains; a leading "." or "*." means the same), an IP address, or a host:port's host.
 */
export function bypassesProxy(host: string, noProxy: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return noProxy.some((raw) => {
    let rule = raw.trim().toLowerCase();
    if (!rule) return false;
    if (rule === '*') return true;
    rule = rule.replace(/^\*?\./, '');
    // "[v6]:port", "[v6]", "host:port"; a bare IPv6 address has more than one colon and no port.
    const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(rule);
    if (bracketed) rule = bracketed[1];
    else if (rule.split(':').length === 2) rule = rule.replace(/:\d+$/, '');
    return h === rule || h.endsWith(`.${rule}`);
  });
}

/**
 * A profile's fileMode / dirMode. JSON has no octal numbers: 644 written unquoted is read by its
 * digits, as the user meant it. Anything else that is not a mode is the user's configuration
 * error, not silently the server's umask.
 */
function modeSetting(value: unknown, profile: string, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const mode = typeof value === 'string' || typeof value === 'number' ? parseMode(String(value)) : undefined;
  if (mode === undefined) throw new ServerConfigError(`Server profile "${profile}": ${name} "${String(value)}" is not a permission mode — write octal such as "644" or "755", or letters such as "rw-r--r--"`);
  return mode;
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

function normalizeRoot(root: string | undefined): string {
  const parts = (root ?? '').split('/').filter((s) => s && s !== '.');
  return parts.length ? `/${parts.join('/')}` : '/';
}

/** The remote path a URI path stands for: the profile's remoteRoot + the URI path. */
export function remotePathFor(server: Pick<ResolvedServer, 'remoteRoot'>, uriPath: string): string {
  const parts: string[] = [];
  for (const seg of `${server.remoteRoot}/${uriPath}`.split('/')) {
    if (!seg || seg === '.') continue;
    // Never climb above the root: ".." in a URI must not escape remoteRoot.
    if (seg === '..') {
      if (parts.length > server.remoteRoot.split('/').filter(Boolean).length) parts.pop();
      continue;
    }
    parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

/** Who a password belongs to: a server's user, or the user of the proxy it is reached through. */
export interface Account {
  user: string;
  host: string;
  port: number;
  /** The proxy as describeProxy shows it, for a proxy's account. */
  proxy?: string;
  /** What the prompt's title names: the profile or server. */
  label?: string;
}

/** The account of a server's proxy, where it authenticates; its password is asked for and kept like a server's. */
export function proxyAccount(server: Pick<ResolvedServer, 'options' | 'label'>): Account | undefined {
  const p = server.options.proxy;
  return p?.user !== undefined ? { user: p.user, host: p.host, port: p.port, proxy: describeProxy(p), label: server.label } : undefined;
}

/** SecretStorage key of a password: a server's, or a proxy's (one per proxy and user, shared by its servers). */
export function secretKey(account: Account): string {
  return account.proxy ? `ftpWorkspace.proxyPassword:${account.proxy}` : passwordKey(account);
}

/** SecretStorage key of a server's password. */
export function passwordKey(server: Pick<ResolvedServer, 'user' | 'host' | 'port'>): string {
  return `ftpWorkspace.password:${server.user}@${server.host.toLowerCase()}:${server.port}`;
}

/** globalState key of the pinned certificate fingerprints. */
export function certificateKey(server: Pick<ResolvedServer, 'host' | 'port'>): string {
  return `${server.host.toLowerCase()}:${server.port}`;
}

export function needsPassword(server: Pick<ResolvedServer, 'user'>): boolean {
  return server.user !== 'anonymous' && server.user !== 'ftp';
}

/** A profile name that works as a URI authority (no '@', ':', '/', spaces or other oddities). */
export function isValidProfileName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name);
}
