/**
 * Server profiles from settings, one connection pool per server, passwords, pinned certificates,
 * and the data mode the user chose at run time.
 */
import * as vscode from 'vscode';
import { FtpClient } from '../ftp/client';
import * as defaults from '../ftp/defaults';
import { FtpError, isFtpError } from '../ftp/errors';
import { ConnectionPool, type PoolEvent } from '../ftp/pool';
import { ProxyError } from '../ftp/proxy';
import type { CertificateInfo, ConcreteMode, ConnectOptions, DataMode, FeatureMemory, FtpEvent, KnownFeatures, ModeMemory } from '../ftp/types';
import { stateMemory } from './stateMemory';
import { Passwords, type Candidate } from './passwords';
import { changeProfile, profileTarget } from './profileSettings';
import { RemoteFs, type SafeSave } from '../remote/remoteFs';
import {
  DEFAULTS,
  certificateKey,
  isDataMode,
  needsPassword,
  proxyAccount,
  remotePathFor,
  resolveServer,
  type Account,
  type ResolvedServer,
  type ServerDefaults,
  type ServerProfile,
} from '../remote/serverConfig';

export const SECTION = 'ftpWorkspace';
const MODE_MEMORY_KEY = 'ftpWorkspace.modeMemory';
const FEATURE_MEMORY_KEY = 'ftpWorkspace.featureMemory';
const ADHOC_MODES_KEY = 'ftpWorkspace.modes';
const CERTS_KEY = 'ftpWorkspace.trustedCertificates';
/** After a refused login, connections to that server fail at once for this long. */
const LOGIN_QUIET_MS = 30_000;
/**
 * Failed connects the user is told about: the server could not be reached or did not speak FTP or
 * TLS with us. Not 'busy' or 'connection-lost' (the pool tries those again by itself) nor 'login'
 * (asked again, then explained by its own message).
 */
const UNREACHABLE = new Set(['connect', 'timeout', 'tls', 'protocol', 'proxy']);

/** The password prompt was cancelled: no login is tried, and no prompt comes, until the user acts. */
export class PasswordNotGivenError extends FtpError {
  constructor(server: ResolvedServer) {
    super('login', `No password given for ${server.user}@${server.host}:${server.port} (the prompt was cancelled) — open the folder again or run "FTP: Test Connection" to be asked again.`);
  }
}

/** A connect to a server that failed with nothing of ours connected to it: worth telling the user. */
export interface ConnectFailure {
  connection: ServerConnection;
  error: FtpError;
}

/** A server in use: its settings, its pool and its file operations. */
export interface ServerConnection {
  readonly server: ResolvedServer;
  readonly pool: ConnectionPool<FtpClient>;
  readonly fs: RemoteFs;
}

export class Servers implements vscode.Disposable {
  readonly passwords: Passwords;
  private readonly connections = new Map<string, ServerConnection>();
  private readonly created = new vscode.EventEmitter<ServerConnection>();
  private readonly changed = new vscode.EventEmitter<ServerConnection | undefined>();
  private readonly warnings = new vscode.EventEmitter<{ connection: ServerConnection; message: string }>();
  private readonly chmodUnavailable = new vscode.EventEmitter<{ connection: ServerConnection; message: string }>();
  private readonly rebuilt = new vscode.EventEmitter<void>();
  private readonly connectFailed = new vscode.EventEmitter<ConnectFailure>();
  private readonly connectSucceeded = new vscode.EventEmitter<ServerConnection>();
  private readonly certificatePrompts = new Map<string, Promise<boolean>>();
  private readonly loginFailedAt = new Map<string, { at: number; error: FtpError }>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires once per new connection pool (the protocol log subscribes to it). */
  readonly onDidCreateConnection = this.created.event;
  /** Fires when a pool's state changes (size, activity, mode, error) or servers are reconfigured. */
  readonly onDidChangeState = this.changed.event;
  readonly onWarning = this.warnings.event;
  /** SITE CHMOD failed while applying a profile's mode or keeping a file's: once per connection to the server. */
  readonly onChmodUnavailable = this.chmodUnavailable.event;
  /** Settings changed where a server is (profile, host, port, security…): its connections were dropped. */
  readonly onDidChangeServerSettings = this.rebuilt.event;
  /**
   * A connect failed (unreachable, unresolved name, timeout, TLS, not FTP) while no connection of
   * ours to that server was alive — whatever waited for it failed. Fires per attempt: whoever tells
   * the user decides how often.
   */
  readonly onDidFailToConnect = this.connectFailed.event;
  /** A connection to the server was made (after a failure, the failure is over). */
  readonly onDidConnect = this.connectSucceeded.event;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.passwords = new Passwords(context.secrets);
    this.disposables.push(
      this.created,
      this.changed,
      this.warnings,
      this.chmodUnavailable,
      this.rebuilt,
      this.connectFailed,
      this.connectSucceeded,
      vscode.workspace.onDidChangeConfiguration((e) => {
        // VS Code's own proxy matters to servers whose proxy setting is "vscode".
        if (e.affectsConfiguration(SECTION) || e.affectsConfiguration('http.proxy') || e.affectsConfiguration('http.noProxy')) this.reconfigure();
      }),
      // Opening a server's folder again is the user asking for it: a cancelled prompt may come back.
      vscode.workspace.onDidChangeWorkspaceFolders((e) => {
        for (const folder of e.added) {
          if (folder.uri.scheme !== 'ftp' && folder.uri.scheme !== 'ftps') continue;
          try {
            this.allowLogin(this.resolve(folder.uri));
          } catch {
            // A folder of an unknown profile: its own reads say so.
          }
        }
      }),
    );
  }

  profiles(): ServerProfile[] {
    const list = vscode.workspace.getConfiguration(SECTION).get<unknown>('servers');
    return Array.isArray(list) ? list.filter((p): p is ServerProfile => !!p && typeof p === 'object' && typeof p.name === 'string') : [];
  }

  defaults(): ServerDefaults {
    const c = vscode.workspace.getConfiguration(SECTION);
    const mode = c.get<string>('defaultMode');
    return {
      mode: isDataMode(mode) ? mode : DEFAULTS.mode,
      poolSize: c.get<number>('poolSize', DEFAULTS.poolSize),
      activeAddress: c.get<string>('activeAddress', DEFAULTS.activeAddress),
      activePortRange: c.get<string>('activePortRange', DEFAULTS.activePortRange),
      trustPasvAddress: c.get<boolean>('trustPasvAddress', DEFAULTS.trustPasvAddress),
      connectTimeout: c.get<number>('connectTimeout', DEFAULTS.connectTimeout),
      replyTimeout: c.get<number>('replyTimeout', DEFAULTS.replyTimeout),
      dataTimeout: c.get<number>('dataTimeout', DEFAULTS.dataTimeout),
      transferIdleTimeout: c.get<number>('transferIdleTimeout', DEFAULTS.transferIdleTimeout),
      passiveInAdvance: c.get<boolean>('passiveInAdvance', DEFAULTS.passiveInAdvance),
      proxy: c.get<string>('proxy', DEFAULTS.proxy),
      vscodeProxy: vscodeProxy(),
    };
  }

  /** The server an ftp:/ftps: URI points at (throws ServerConfigError on a bad authority). */
  resolve(uri: vscode.Uri): ResolvedServer {
    return resolveServer(uri.scheme, uri.authority, this.profiles(), this.defaults(), (key) => this.modeOverride(key));
  }

  /** Remote path of a URI on its server (the profile's remoteRoot + the URI path). */
  remotePath(uri: vscode.Uri, server = this.resolve(uri)): string {
    return remotePathFor(server, uri.path);
  }

  /** The connection for a URI's server, created on first use (no network until work is run). */
  connectionFor(uri: vscode.Uri): ServerConnection {
    return this.connectionForServer(this.resolve(uri));
  }

  connectionForServer(server: ResolvedServer): ServerConnection {
    const existing = this.connections.get(server.key);
    if (existing) return existing;
    const c = vscode.workspace.getConfiguration(SECTION);
    const pool = new ConnectionPool<FtpClient>((mode, onEvent) => this.connect(server, mode, onEvent), {
      maxConnections: poolLimit(server.poolSize, c),
      backgroundConnections: searchConnections(c),
      // The editor's own work keeps to poolSize; the connections above it are the search's.
      interactiveConnections: server.poolSize,
      idleTimeoutMs: millis(c, 'idleTimeout', defaults.poolIdleTimeoutMs),
      keepaliveMs: millis(c, 'keepaliveInterval', defaults.poolKeepaliveMs),
      mode: server.mode,
    });
    const fs = new RemoteFs(pool, {
      ...remoteFsSettings(c),
      fileMode: server.fileMode,
      dirMode: server.dirMode,
      onWarning: (message) => this.warnings.fire({ connection, message }),
      onChmodUnavailable: (message) => this.chmodUnavailable.fire({ connection, message }),
    });
    const connection: ServerConnection = { server, pool, fs };
    pool.on('state', () => this.changed.fire(connection));
    pool.on('pool', (e: PoolEvent) => {
      if (e.type === 'connect') this.connectSucceeded.fire(connection);
      // With one of ours alive the server is there: the pool lets the request wait for that one.
      if (e.type === 'connect-failed' && UNREACHABLE.has(e.error.kind) && pool.size === 0) this.connectFailed.fire({ connection, error: e.error });
    });
    this.connections.set(server.key, connection);
    this.created.fire(connection);
    return connection;
  }

  /** Connections opened so far (for the status bar, disconnect, the log). */
  all(): ServerConnection[] {
    return [...this.connections.values()];
  }

  /**
   * Full connect options with password and TLS hooks, for the pool or a diagnosis. The password is
   * a function the client calls once the server has greeted and TLS is up, so nobody is asked for
   * the password of a server that cannot be reached; if the user cancels the prompt, the connect
   * fails with PasswordNotGivenError. `accept` stores the password that logged in.
   */
  connectOptions(server: ResolvedServer, mode: DataMode = server.mode): { options: ConnectOptions; accept: () => Promise<void> } {
    const base: ConnectOptions = {
      ...server.options,
      mode,
      modeMemory: this.modeMemory(),
      featureMemory: this.featureMemory(),
      tls: {
        trustedFingerprints: this.pinned(server),
        onUntrustedCertificate: (info) => this.askTrust(server, info),
      },
    };
    // The proxy's password is asked for when the proxy is first reached, before the server's.
    const account = proxyAccount(server);
    let proxyCandidate: Candidate | undefined;
    if (account && base.proxy && base.proxy.password === undefined) {
      base.proxy = {
        ...base.proxy,
        password: async () => {
          proxyCandidate = await this.passwords.get(account);
          return proxyCandidate?.password;
        },
      };
    }
    const acceptProxy = async () => { if (account && proxyCandidate) await this.passwords.accepted(account, proxyCandidate); };
    if (!needsPassword(server)) return { options: base, accept: acceptProxy };
    let candidate: Candidate | undefined;
    const password = async (): Promise<string> => {
      candidate = await this.passwords.get(server);
      if (!candidate) throw new PasswordNotGivenError(server);
      return candidate.password;
    };
    return { options: { ...base, password }, accept: async () => { await acceptProxy(); if (candidate) await this.passwords.accepted(server, candidate); } };
  }

  /**
   * Connects one client. A refused password is asked again once (never in a loop: servers lock
   * accounts after a few failures); the pool does not retry login failures either.
   */
  private async connect(server: ResolvedServer, mode: DataMode, onEvent?: (e: FtpEvent) => void): Promise<FtpClient> {
    const blocked = this.loginFailedAt.get(server.key);
    if (blocked && Date.now() - blocked.at < LOGIN_QUIET_MS) throw blocked.error;
    const first = this.connectOptions(server, mode);
    first.options.onEvent = onEvent;
    try {
      return await connectAndAccept(first);
    } catch (err) {
      const account = proxyAccount(server);
      if (err instanceof ProxyError && err.failure === 'auth' && account) return this.connectAfterProxyRefusal(server, account, mode, onEvent, err);
      if (!isFtpError(err, 'login') || !needsPassword(server) || err instanceof PasswordNotGivenError) throw err;
      await this.passwords.forget(server);
      const again = await this.passwords.ask(server, `Login failed (${err.replyText?.trim() || err.message})`);
      if (!again) throw this.blockLogin(server, err);
      try {
        const client = await FtpClient.connect({ ...first.options, password: again.password });
        await this.passwords.accepted(server, again);
        return client;
      } catch (err2) {
        if (isFtpError(err2, 'login')) {
          await this.passwords.forget(server);
          throw this.blockLogin(server, err2);
        }
        throw err2;
      }
    }
  }

  /**
   * The proxy refused its password (or none was given): asked again once, as for a server's; a
   * second refusal holds connects back like a refused login.
   */
  private async connectAfterProxyRefusal(server: ResolvedServer, account: Account, mode: DataMode, onEvent: ((e: FtpEvent) => void) | undefined, err: ProxyError): Promise<FtpClient> {
    if (err.passwordNotGiven) throw this.blockLogin(server, err);
    // The log says why a password prompt opens.
    onEvent?.({ type: 'warning', id: server.label, message: `${err.message} Asking for the proxy's password again.` });
    await this.passwords.forget(account);
    const again = await this.passwords.ask(account, 'The proxy refused the password');
    if (!again) throw this.blockLogin(server, err);
    // Asked anew, the answer is in memory now: the new options find it there.
    const retry = this.connectOptions(server, mode);
    retry.options.onEvent = onEvent;
    try {
      const client = await connectAndAccept(retry);
      // Remembered (or not) as the user chose in the prompt just answered.
      await this.passwords.accepted(account, again);
      return client;
    } catch (err2) {
      if (err2 instanceof ProxyError && err2.failure === 'auth') {
        await this.passwords.forget(account);
        throw this.blockLogin(server, err2);
      }
      throw err2;
    }
  }

  /**
   * After a refused login the editor keeps asking for files; without a pause each request would
   * try (and prompt) again, and servers lock accounts after a few failures.
   */
  private blockLogin(server: ResolvedServer, err: FtpError): FtpError {
    const error = new FtpError(err.kind === 'proxy' ? 'proxy' : 'login', `${err.message} — not trying again for ${LOGIN_QUIET_MS / 1000} s; run "FTP: Test Connection" to retry now.`, {
      code: err.code,
      replyText: err.replyText,
      command: err.command,
      cause: err,
    });
    this.loginFailedAt.set(server.key, { at: Date.now(), error });
    return error;
  }

  /** An explicit user action may try to log in again at once, and ask for a password again. */
  allowLogin(server: ResolvedServer): void {
    this.loginFailedAt.delete(server.key);
    this.passwords.allowAsking(server);
    const account = proxyAccount(server);
    if (account) this.passwords.allowAsking(account);
  }

  /** Switches the data mode now and remembers it (profile in settings; ad-hoc in globalState). */
  async setMode(connection: ServerConnection, mode: DataMode): Promise<void> {
    connection.pool.setMode(mode);
    (connection.server as { mode: DataMode }).mode = mode;
    const { profileName } = connection.server;
    if (profileName && (await this.saveProfileMode(profileName, mode))) return;
    const modes = { ...this.context.globalState.get<Record<string, DataMode>>(ADHOC_MODES_KEY, {}), [connection.server.key]: mode };
    await this.context.globalState.update(ADHOC_MODES_KEY, modes);
    this.changed.fire(connection);
  }

  /** Closes a server's connections (or all); they reopen on next use. */
  async disconnect(connection?: ServerConnection): Promise<void> {
    const targets = connection ? [connection] : this.all();
    for (const c of targets) {
      this.connections.delete(c.server.key);
      await c.pool.close();
      this.changed.fire(c);
    }
  }

  /** Forgets the server's password and its proxy's, if it has one. */
  async forgetPassword(server: ResolvedServer): Promise<void> {
    await this.passwords.forget(server);
    const account = proxyAccount(server);
    if (account) await this.passwords.forget(account);
  }

  dispose(): void {
    void this.disconnect();
    for (const d of this.disposables) d.dispose();
  }

  private modeOverride(key: string): DataMode | undefined {
    const mode = this.context.globalState.get<Record<string, DataMode>>(ADHOC_MODES_KEY, {})[key];
    return isDataMode(mode) && !key.startsWith('profile:') ? mode : undefined;
  }

  /** Remembers which concrete mode worked per server for auto mode, across sessions. */
  private modeMemory(): ModeMemory {
    return stateMemory<ConcreteMode>(this.context.globalState, MODE_MEMORY_KEY);
  }

  /** Remembers what each server offered, across windows: a new window's first EPSV goes with the login. */
  private featureMemory(): FeatureMemory {
    return stateMemory<KnownFeatures>(this.context.globalState, FEATURE_MEMORY_KEY);
  }

  private pinned(server: ResolvedServer): string[] {
    return this.context.globalState.get<Record<string, string[]>>(CERTS_KEY, {})[certificateKey(server)] ?? [];
  }

  private askTrust(server: ResolvedServer, info: CertificateInfo): Promise<boolean> {
    // Two connections opening at once must not ask twice.
    const key = `${certificateKey(server)} ${info.fingerprint256}`;
    const pending = this.certificatePrompts.get(key);
    if (pending) return pending;
    const prompt = this.promptTrust(server, info).finally(() => this.certificatePrompts.delete(key));
    this.certificatePrompts.set(key, prompt);
    return prompt;
  }

  private async promptTrust(server: ResolvedServer, info: CertificateInfo): Promise<boolean> {
    const changed = info.reason.startsWith('fingerprint-changed');
    const message = changed
      ? `The certificate of ${info.host}:${server.port} has CHANGED since you trusted it. This can mean someone is intercepting the connection.`
      : `The certificate of ${info.host}:${server.port} is not trusted (${info.reason}).`;
    const detail = [
      `SHA-256 fingerprint:\n${info.fingerprint256}`,
      `Subject: ${info.subject}`,
      `Issuer: ${info.issuer}`,
      `Valid: ${info.validFrom} – ${info.validTo}`,
      'Compare the fingerprint with the one your server administrator gives you before trusting it.',
    ].join('\n\n');
    const trust = changed ? 'Trust the New Certificate' : 'Trust and Connect';
    const answer = await vscode.window.showWarningMessage(message, { modal: true, detail }, trust);
    if (answer !== trust) return false;
    const all = this.context.globalState.get<Record<string, string[]>>(CERTS_KEY, {});
    const hostKey = certificateKey(server);
    // A changed certificate replaces the old pin; a new one is added.
    const pins = changed ? [info.fingerprint256] : [...(all[hostKey] ?? []), info.fingerprint256];
    await this.context.globalState.update(CERTS_KEY, { ...all, [hostKey]: pins });
    return true;
  }

  /** Writes the mode into the profile where it is defined (user, workspace or folder settings). */
  private async saveProfileMode(profileName: string, mode: DataMode): Promise<boolean> {
    const at = profileTarget(profileName);
    return !!at && (await changeProfile(profileName, { ...at.list[at.index], mode }));
  }

  /** Settings changed: pools whose connection settings changed are closed and rebuilt on next use. */
  private reconfigure(): void {
    const c = vscode.workspace.getConfiguration(SECTION);
    let rebuilt = false;
    for (const connection of this.all()) {
      connection.fs.configure(remoteFsSettings(c));
      let fresh: ResolvedServer | undefined;
      try {
        const { scheme, authority } = connection.server;
        fresh = resolveServer(scheme, authority, this.profiles(), this.defaults(), (key) => this.modeOverride(key));
      } catch {
        fresh = undefined;
      }
      // search.connections changes the pool's limits in place: a search or a save under way goes on.
      connection.pool.setLimits({ maxConnections: poolLimit(connection.server.poolSize, c), backgroundConnections: searchConnections(c) });
      if (fresh && JSON.stringify(fresh) === JSON.stringify(connection.server)) continue;
      if (fresh && sameExceptMode(fresh, connection.server)) {
        // Only the mode changed (e.g. we saved it ourselves): switch in place, keep the connections.
        // After our own save the pool has it already; setting it again would log it twice.
        if (connection.pool.mode !== fresh.mode) connection.pool.setMode(fresh.mode);
        (connection.server as { mode: DataMode }).mode = fresh.mode;
        continue;
      }
      void this.disconnect(connection);
      rebuilt = true;
    }
    this.changed.fire(undefined);
    if (rebuilt) this.rebuilt.fire();
  }
}

/** Connects, then keeps the passwords that got it in (see connectOptions). */
async function connectAndAccept(prepared: { options: ConnectOptions; accept: () => Promise<void> }): Promise<FtpClient> {
  const client = await FtpClient.connect(prepared.options);
  await prepared.accept();
  return client;
}

function sameExceptMode(a: ResolvedServer, b: ResolvedServer): boolean {
  const strip = (s: ResolvedServer) => JSON.stringify({ ...s, mode: undefined, options: { ...s.options, mode: undefined } });
  return strip(a) === strip(b);
}

/**
 * VS Code's proxy, for servers whose proxy is "vscode": `http.proxy`, else the environment's
 * (https_proxy, http_proxy), as VS Code itself falls back; exceptions from `http.noProxy` and NO_PROXY.
 */
function vscodeProxy(): { url: string; noProxy: string[] } {
  const http = vscode.workspace.getConfiguration('http');
  const env = process.env;
  const url = http.get<string>('proxy')?.trim() || env.https_proxy || env.HTTPS_PROXY || env.http_proxy || env.HTTP_PROXY || '';
  const noProxy = [...(http.get<string[]>('noProxy') ?? []), ...(env.no_proxy ?? env.NO_PROXY ?? '').split(',')].map((s) => s.trim()).filter(Boolean);
  return { url, noProxy };
}

/** `ftpWorkspace.search.connections`: what a search may hold of a server's pool. */
export function searchConnections(c = vscode.workspace.getConfiguration(SECTION)): number {
  const n = Math.floor(Number(c.get<number>('search.connections', defaults.searchConnections)));
  return Number.isFinite(n) ? Math.min(defaults.searchMaxConnections, Math.max(1, n)) : defaults.searchConnections;
}

/**
 * A server's pool limit: a search holds up to search.connections while the editor keeps its own,
 * so the pool may grow past poolSize for it; a server's 421 shrinks the search's share, never the
 * editor's.
 */
export function poolLimit(poolSize: number, c = vscode.workspace.getConfiguration(SECTION)): number {
  return Math.max(poolSize, searchConnections(c) + defaults.poolBackgroundReserve);
}

/** A setting in seconds, in milliseconds; unset, the default from src/ftp/defaults.ts. */
function millis(c: vscode.WorkspaceConfiguration, name: string, fallbackMs: number): number {
  return c.get<number>(name, fallbackMs / 1000) * 1000;
}

/** The settings a RemoteFs takes, at creation and again when they change. */
const MIB = 1024 * 1024;

function remoteFsSettings(c: vscode.WorkspaceConfiguration): { cacheTtlMs: number; safeSave: SafeSave; verifyUploads: boolean; resumeThresholdBytes: number } {
  const mib = c.get<number>('resumeThreshold', defaults.resumeThresholdBytes / MIB);
  return {
    cacheTtlMs: millis(c, 'cacheTtl', defaults.listingCacheTtlMs),
    safeSave: c.get<SafeSave>('safeSave', defaults.safeSave),
    verifyUploads: c.get<boolean>('verifyUploads', defaults.verifyUploads),
    resumeThresholdBytes: typeof mib === 'number' && mib > 0 ? Math.round(mib * MIB) : 0,
  };
}
