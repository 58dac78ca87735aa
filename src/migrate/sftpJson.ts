/**
 * Reads a vscode-sftp (liximomo) `.vscode/sftp.json` — JSON with comments, one configuration or an
 * array of them, each with optional named `profiles` that override it — and maps its FTP and FTPS
 * entries to our server profiles and one linked folder per configuration. SFTP entries are listed
 * as skipped (SFTP is SSH, another protocol). Passwords are handed back apart from the profiles:
 * they go to the editor's secret storage, never into settings.
 */
import { JsoncError, parseJsonc, withoutStringProperty } from './jsonc';
import type { DataMode, Security } from '../ftp/types';
import type { ServerProfile } from '../remote/serverConfig';
import type { LinkSetting } from '../sync/linkConfig';

/** One configuration (or a profile merged into it) as vscode-sftp reads it; every field optional. */
interface SftpConfig {
  name?: unknown;
  protocol?: unknown;
  host?: unknown;
  port?: unknown;
  username?: unknown;
  password?: unknown;
  remotePath?: unknown;
  context?: unknown;
  uploadOnSave?: unknown;
  ignore?: unknown;
  passive?: unknown;
  secure?: unknown;
  secureOptions?: unknown;
  profiles?: unknown;
  defaultProfile?: unknown;
}

export interface ImportedServer {
  profile: ServerProfile;
  /** From the file, for the secret storage. */
  password?: string;
  /** Where it came from: the configuration's name, and the profile's, if any. */
  source: string;
}

export interface SftpImport {
  servers: ImportedServer[];
  /** `local` relative to the folder that holds `.vscode` (vscode-sftp's `context`), or "." */
  links: LinkSetting[];
  skipped: { source: string; reason: string }[];
  /** Things the user should know: settings we have no equivalent for, choices made for them. */
  notes: string[];
  /** True when a password was found: the file still holds it. */
  hasPasswords: boolean;
}

export class SftpJsonError extends Error {}

const SFTP_REASON = 'SFTP is file transfer over SSH, a different protocol; FTP Workspace speaks FTP and FTPS only';

/**
 * Maps the text of an sftp.json. `taken` are profile names that exist already (case-insensitive):
 * imported names avoid them. Throws SftpJsonError when the text is not JSON(C) or not a
 * configuration.
 */
export function importSftpJson(text: string, taken: readonly string[] = []): SftpImport {
  let data: unknown;
  try {
    data = parseJsonc(text);
  } catch (error) {
    if (error instanceof JsoncError) throw new SftpJsonError(`sftp.json is not valid JSON: ${error.message}`);
    throw error;
  }
  const configs = Array.isArray(data) ? data : [data];
  if (configs.length === 0 || !configs.every(isObject)) throw new SftpJsonError('sftp.json must hold a configuration object or an array of them');
  const names = new Set(taken.map((n) => n.toLowerCase()));
  const result: SftpImport = { servers: [], links: [], skipped: [], notes: [], hasPasswords: false };
  configs.forEach((config, i) => importConfig(config as SftpConfig, i, configs.length, names, result));
  return result;
}

function importConfig(base: SftpConfig, index: number, count: number, names: Set<string>, out: SftpImport): void {
  const baseName = str(base.name) ?? (count > 1 ? `configuration ${index + 1}` : undefined);
  const variants: { source: string; config: SftpConfig; profileName?: string }[] = [];
  const profiles = isObject(base.profiles) ? (base.profiles as Record<string, unknown>) : {};
  if (str(base.host)) variants.push({ source: baseName ?? 'sftp.json', config: base });
  for (const [profileName, override] of Object.entries(profiles)) {
    if (!isObject(override)) continue;
    variants.push({ source: `${baseName ?? 'sftp.json'} (profile ${profileName})`, config: { ...base, ...(override as SftpConfig) }, profileName });
  }
  if (variants.length === 0) {
    out.skipped.push({ source: baseName ?? 'sftp.json', reason: 'no "host"' });
    return;
  }
  const defaultProfile = str(base.defaultProfile);
  // The one that gets the linked folder: what vscode-sftp uses when nobody switches profiles.
  const linked = variants.find((v) => v.profileName !== undefined && v.profileName === defaultProfile) ?? variants.find((v) => v.profileName === undefined) ?? variants[0];
  for (const variant of variants) {
    const mapped = mapServer(variant.config, variant.source, nameFor(variant.config, str(base.name), variant.profileName, names), out);
    if (!mapped) continue;
    names.add(mapped.profile.name.toLowerCase());
    out.servers.push(mapped);
    if (variant !== linked) continue;
    const scheme = mapped.profile.security && mapped.profile.security !== 'none' ? 'ftps' : 'ftp';
    const remotePath = normalizeRemote(str(variant.config.remotePath) ?? '/');
    const link: LinkSetting = {
      local: str(variant.config.context)?.replace(/^\.\/+/, '') || '.',
      remote: `${scheme}://${mapped.profile.name}${remotePath.split('/').map(encodeURIComponent).join('/')}`,
      // vscode-sftp uploads on save only when asked to; ours is on by default, so say it.
      uploadOnSave: variant.config.uploadOnSave === true,
    };
    const ignore = Array.isArray(variant.config.ignore) ? variant.config.ignore.filter((p): p is string => typeof p === 'string') : [];
    if (ignore.length > 0) link.ignore = ignore;
    out.links.push(link);
  }
}

function mapServer(config: SftpConfig, source: string, name: string, out: SftpImport): ImportedServer | undefined {
  const protocol = (str(config.protocol) ?? 'sftp').toLowerCase();
  if (protocol === 'sftp') {
    out.skipped.push({ source, reason: `${config.protocol === undefined ? 'no "protocol" (vscode-sftp then uses SFTP)' : '"protocol": "sftp"'}: ${SFTP_REASON}` });
    return undefined;
  }
  if (protocol !== 'ftp' && protocol !== 'ftps') {
    out.skipped.push({ source, reason: `"protocol": "${protocol}" is not ftp or ftps` });
    return undefined;
  }
  const host = str(config.host);
  if (!host) {
    out.skipped.push({ source, reason: 'no "host"' });
    return undefined;
  }
  const security = securityOf(config.secure, protocol);
  const profile: ServerProfile = { name, host };
  if (typeof config.port === 'number' && Number.isInteger(config.port) && config.port > 0 && config.port < 65536) profile.port = config.port;
  const user = str(config.username);
  profile.user = user ?? 'anonymous';
  profile.security = security;
  // vscode-sftp's FTP client works in passive mode whatever this says; only an explicit true is a choice.
  const mode: DataMode | undefined = config.passive === true ? 'passive' : undefined;
  if (mode) profile.mode = mode;
  if (config.secure === 'control') out.notes.push(`${source}: "secure": "control" (only the control connection encrypted) becomes explicit FTPS, which encrypts file transfers too.`);
  const secureOptions = isObject(config.secureOptions) ? (config.secureOptions as Record<string, unknown>) : {};
  if (secureOptions.rejectUnauthorized === false && security !== 'none') {
    out.notes.push(`${source}: "rejectUnauthorized": false — a certificate that is not trusted is shown on the first connect with its fingerprint, for you to trust once.`);
  }
  const password = typeof config.password === 'string' && config.password !== '' ? config.password : undefined;
  if (password) out.hasPasswords = true;
  return { profile, password, source };
}

function securityOf(secure: unknown, protocol: string): Security {
  if (secure === 'implicit') return 'implicit';
  if (secure === true || secure === 'control' || protocol === 'ftps') return 'explicit';
  return 'none';
}

/** A valid, unused profile name: the configuration's (and profile's) name, else the host. */
function nameFor(config: SftpConfig, configName: string | undefined, profileName: string | undefined, names: Set<string>): string {
  const wanted = [configName, profileName].filter(Boolean).join('-') || [str(config.host), profileName].filter(Boolean).join('-') || 'server';
  const base = wanted.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 56) || 'server';
  let name = base;
  for (let i = 2; names.has(name.toLowerCase()); i++) name = `${base}-${i}`;
  return name;
}

function normalizeRemote(path: string): string {
  const p = `/${path.replace(/\\/g, '/').replace(/^\/+/, '')}`.replace(/\/+$/, '');
  return p || '/';
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function isObject(v: unknown): boolean {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}


/**
 * The text without its passwords (every "password", in configurations and their profiles),
 * comments and layout kept.
 */
export function withoutPasswords(text: string): string {
  return withoutStringProperty(text, 'password');
}
