/**
 * The `ftpWorkspace.links` setting, read for every workspace folder (relative local paths resolve
 * against the folder whose settings hold them) and for the user. Links from workspace settings are
 * ignored while the workspace is not trusted: a cloned repository must not be able to make saves
 * upload files to a server of its choosing.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { IgnoreMatcher } from '../../sync/ignore';
import { parseLinkSetting, type LinkConfig } from '../../sync/linkConfig';
import { SECTION } from '../servers';

export const LINKS_KEY = 'links';

export interface Link extends LinkConfig {
  /** Stable identity: the local folder and the location. */
  id: string;
  /** `ftp://profile/path` of the link's root. */
  remoteUri: vscode.Uri;
  matcher: IgnoreMatcher;
  /** Where the link is defined, for messages. */
  origin: string;
  /** Where the link's entry is, to change it ("Always for this link"). */
  setting: { target: vscode.ConfigurationTarget; folder?: vscode.Uri; index: number };
}

export interface LinkProblem {
  origin: string;
  error: string;
}

export function readLinks(): { links: Link[]; problems: LinkProblem[] } {
  const links = new Map<string, Link>();
  const problems: LinkProblem[] = [];
  const add = (values: unknown, base: string | undefined, origin: string, where: Omit<Link['setting'], 'index'>) => {
    if (!Array.isArray(values)) return;
    for (const [index, raw] of values.entries()) {
      const parsed = parseLinkSetting(raw, base);
      if (!parsed.ok) {
        problems.push({ origin, error: parsed.error });
        continue;
      }
      const link = toLink(parsed.link, origin, { ...where, index });
      if (!links.has(link.id)) links.set(link.id, link);
    }
  };
  const trusted = vscode.workspace.isTrusted;
  const folders = vscode.workspace.workspaceFolders ?? [];
  for (const folder of folders) {
    const inspected = vscode.workspace.getConfiguration(SECTION, folder.uri).inspect<unknown[]>(LINKS_KEY);
    if (!inspected || folder.uri.scheme !== 'file') continue;
    if (trusted) add(inspected.workspaceFolderValue, folder.uri.fsPath, `settings of ${folder.name}`, { target: vscode.ConfigurationTarget.WorkspaceFolder, folder: folder.uri });
  }
  const inspected = vscode.workspace.getConfiguration(SECTION).inspect<unknown[]>(LINKS_KEY);
  const firstLocal = folders.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
  // Workspace settings live in the .code-workspace file when there is one: resolve from its folder.
  const workspaceFile = vscode.workspace.workspaceFile;
  const workspaceBase = workspaceFile?.scheme === 'file' ? path.dirname(workspaceFile.fsPath) : firstLocal;
  if (trusted) add(inspected?.workspaceValue, workspaceBase, 'workspace settings', { target: vscode.ConfigurationTarget.Workspace });
  add(inspected?.globalValue, firstLocal, 'user settings', { target: vscode.ConfigurationTarget.Global });
  return { links: [...links.values()], problems };
}

function toLink(config: LinkConfig, origin: string, setting: Link['setting']): Link {
  const remoteUri = vscode.Uri.from({ scheme: config.scheme, authority: config.authority, path: config.remotePath });
  const id = createHash('sha256').update(`${config.localRoot}\n${remoteUri.toString()}`).digest('hex').slice(0, 16);
  return { ...config, id, remoteUri, matcher: new IgnoreMatcher(config.ignore), origin, setting };
}

/** The ftp:// twin of a path relative to the link's root. */
export function remoteUriOf(link: Link, rel: string): vscode.Uri {
  return rel === '' ? link.remoteUri : vscode.Uri.joinPath(link.remoteUri, ...rel.split('/'));
}
