/**
 * Server profiles in the settings (`ftpWorkspace.servers`), changed where each is defined: folder,
 * workspace or user settings. New profiles go to the user settings (a workspace's settings are
 * shared and often committed; a server list is personal).
 */
import * as vscode from 'vscode';
import type { ServerProfile } from '../remote/serverConfig';

const SECTION = 'ftpWorkspace';

/** Where a profile is defined, most specific first; undefined when no settings file has it. */
export function profileTarget(name: string): { target: vscode.ConfigurationTarget; list: ServerProfile[]; index: number } | undefined {
  const inspected = vscode.workspace.getConfiguration(SECTION).inspect<ServerProfile[]>('servers');
  const targets: [ServerProfile[] | undefined, vscode.ConfigurationTarget][] = [
    [inspected?.workspaceFolderValue, vscode.ConfigurationTarget.WorkspaceFolder],
    [inspected?.workspaceValue, vscode.ConfigurationTarget.Workspace],
    [inspected?.globalValue, vscode.ConfigurationTarget.Global],
  ];
  for (const [list, target] of targets) {
    if (!Array.isArray(list)) continue;
    const index = list.findIndex((p) => p?.name?.toLowerCase() === name.toLowerCase());
    if (index >= 0) return { target, list, index };
  }
  return undefined;
}

/** Replaces (or with `undefined`, deletes) the profile where it is defined. False when it is nowhere. */
export async function changeProfile(name: string, replacement: ServerProfile | undefined): Promise<boolean> {
  const at = profileTarget(name);
  if (!at) return false;
  const updated = at.list.flatMap((p, i) => (i !== at.index ? [p] : replacement ? [replacement] : []));
  await vscode.workspace.getConfiguration(SECTION).update('servers', updated, at.target);
  return true;
}

/** Appends profiles to the user settings. */
export async function addProfiles(profiles: ServerProfile[]): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const globalList = config.inspect<ServerProfile[]>('servers')?.globalValue ?? [];
  await config.update('servers', [...globalList, ...profiles], vscode.ConfigurationTarget.Global);
}
