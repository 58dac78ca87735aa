/**
 * One entry of the `ftpWorkspace.links` setting, checked: a local folder (absolute, or relative
 * to the workspace folder whose settings hold it), an `ftp://profile/path` (or ftps://) location,
 * ignore patterns and whether saves upload. A password in the location is refused: settings files
 * are shared and committed; passwords live in the editor's secret storage.
 */
import * as path from 'node:path';
import { PROPAGATION_MODES, type PropagationMode } from './serverChanges';
import { DEFAULT_SYMLINKS, SYMLINK_MODES, type SymlinkMode } from './types';

export { DEFAULT_SYMLINKS };

export interface LinkSetting {
  local: string;
  remote: string;
  ignore?: string[];
  uploadOnSave?: boolean;
  uploadOnChange?: boolean;
  deleteOnServer?: PropagationMode;
  renameOnServer?: PropagationMode;
  compareChecksums?: boolean;
  symlinks?: SymlinkMode;
}

export interface LinkConfig {
  /** Absolute local folder. */
  localRoot: string;
  scheme: 'ftp' | 'ftps';
  authority: string;
  /** Path in the URI (the profile's remoteRoot applies on top). */
  remotePath: string;
  ignore: string[];
  uploadOnSave: boolean;
  /** Also upload files other programs create or change (a build, a git checkout); off by default. */
  uploadOnChange: boolean;
  /** A file or folder deleted here (or moved out of the link, or into an ignored path) is deleted on the server: ask first, always, never. */
  deleteOnServer: PropagationMode;
  /** A file or folder renamed or moved within the link is renamed on the server (RNFR/RNTO): ask first, always, never. */
  renameOnServer: PropagationMode;
  /**
   * Never-synced files of the same size are compared by the server's checksum (where it offers
   * one) instead of trusted as equal; off by default: it reads every such file on both sides.
   */
  compareChecksums: boolean;
  /**
   * Symbolic links on either side in syncs: `skip` leaves them out (listed as skipped), `follow`
   * takes each as its target (a file's content, a folder's files) — but a sync never deletes
   * through one.
   */
  symlinks: SymlinkMode;
}


/** Nothing happens on the server unasked until the user says so for a link. */
export const DEFAULT_PROPAGATION: PropagationMode = 'ask';

export type ParsedLink = { ok: true; link: LinkConfig } | { ok: false; error: string };

export function parseLinkSetting(raw: unknown, baseFolder: string | undefined): ParsedLink {
  const v = raw as Partial<LinkSetting> | undefined;
  if (!v || typeof v !== 'object') return { ok: false, error: 'a link must be an object with "local" and "remote"' };
  if (typeof v.local !== 'string' || v.local.trim() === '') return { ok: false, error: 'a link needs "local", the local folder' };
  if (typeof v.remote !== 'string') return { ok: false, error: `link of "${v.local}" needs "remote", e.g. "ftp://my-server/var/www"` };
  const m = /^(ftps?):\/\/([^/?#]+)(\/[^?#]*)?$/i.exec(v.remote.trim());
  if (!m) return { ok: false, error: `"${v.remote}" is not an ftp:// or ftps:// location, e.g. "ftp://my-server/var/www"` };
  const authority = m[2];
  const userInfo = authority.includes('@') ? authority.slice(0, authority.lastIndexOf('@')) : '';
  if (userInfo.includes(':')) {
    return { ok: false, error: `"${redact(v.remote)}" contains a password. Remove it: passwords are asked for once and kept in the editor's secret storage, never in settings.` };
  }
  let local = v.local.trim();
  if (local.startsWith('~/')) local = path.join(process.env.HOME ?? '', local.slice(2));
  if (!path.isAbsolute(local)) {
    if (!baseFolder) return { ok: false, error: `"${v.local}" is a relative path, but there is no workspace folder to resolve it from` };
    local = path.resolve(baseFolder, local);
  }
  let remotePath = '/';
  try {
    remotePath = decodeURIComponent(m[3] ?? '/');
  } catch {
    return { ok: false, error: `"${v.remote}" has a malformed %-escape` };
  }
  for (const key of ['deleteOnServer', 'renameOnServer'] as const) {
    const value = v[key];
    if (value !== undefined && !PROPAGATION_MODES.includes(value)) {
      return { ok: false, error: `"${key}" of the link of "${v.local}" is ${JSON.stringify(value)}: use "ask", "always" or "never"` };
    }
  }
  if (v.symlinks !== undefined && !SYMLINK_MODES.includes(v.symlinks)) {
    return { ok: false, error: `"symlinks" of the link of "${v.local}" is ${JSON.stringify(v.symlinks)}: use "follow" or "skip"` };
  }
  const ignore = Array.isArray(v.ignore) ? v.ignore.filter((p): p is string => typeof p === 'string') : [];
  return {
    ok: true,
    link: {
      localRoot: path.normalize(local).replace(/(.)[\\/]+$/, '$1'),
      scheme: m[1].toLowerCase() as 'ftp' | 'ftps',
      authority,
      remotePath: remotePath.replace(/\/+$/, '') || '/',
      ignore,
      uploadOnSave: v.uploadOnSave !== false,
      uploadOnChange: v.uploadOnChange === true,
      deleteOnServer: v.deleteOnServer ?? DEFAULT_PROPAGATION,
      renameOnServer: v.renameOnServer ?? DEFAULT_PROPAGATION,
      compareChecksums: v.compareChecksums === true,
      symlinks: v.symlinks ?? DEFAULT_SYMLINKS,
    },
  };
}

function redact(uri: string): string {
  return uri.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:****@');
}

/** The link a local path belongs to: the one with the deepest folder containing it. */
export function findLink<T extends { localRoot: string }>(links: readonly T[], file: string): T | undefined {
  let best: T | undefined;
  for (const link of links) {
    const rel = path.relative(link.localRoot, file);
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
    if (!best || link.localRoot.length > best.localRoot.length) best = link;
  }
  return best;
}
