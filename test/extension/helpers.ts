/**
 * Helpers for extension tests against the real servers setup.ts started: each server's URIs and its
 * folder on this disk (the independent view of what the server has), the extension's public API,
 * the protocol log as the Output panel shows it, and FileSystemError checks.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FtpWorkspaceApi } from '../../src/vscode/api';
import { ENV, FOLDERS, REAL_SERVERS, type RealServerName } from './servers';

export const EXTENSION_ID = 'ftp-workspace.ftp-workspace';
const LOG_CHANNEL = 'FTP Workspace';
/** `workbench.action.output.activeOutputLogLevel.<LogLevel>`: what the Output panel's level menu runs. */
const SET_ACTIVE_OUTPUT_TO_TRACE = 'workbench.action.output.activeOutputLogLevel.1';

function env(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run the extension tests through test/vscode/runExtensionTests.ts with test/extension/setup.ts`);
  return value;
}

/** A fresh name, so each test works in its own folder (no listing cached by another test). */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface ServerUnderTest {
  name: RealServerName;
  port: number;
  password: string;
  /** ftp://NAME/relative */
  uri(relative: string): vscode.Uri;
  disk: Disk;
}

/** The server's files as they are on this machine's disk. */
export interface Disk {
  root: string;
  path(relative: string): string;
  /** Writes a file (and its folders) owned by the FTP user; `mtime` in ms. */
  put(relative: string, content: string | Uint8Array, mtime?: number): void;
  mkdir(relative: string): void;
  read(relative: string): Buffer;
  text(relative: string): string;
  exists(relative: string): boolean;
  isDirectory(relative: string): boolean;
  /** name → 'file' | 'directory' */
  list(relative: string): Map<string, 'file' | 'directory'>;
}

export function realServer(name: RealServerName): ServerUnderTest {
  const root = env(ENV.root(name));
  const [uid, gid] = env(ENV.owner(name)).split(':').map(Number);
  const local = (relative: string) => path.join(root, ...relative.split('/').filter(Boolean));
  const mkdir = (relative: string) => {
    let dir = root;
    for (const part of relative.split('/').filter(Boolean)) {
      dir = path.join(dir, part);
      if (!fs.existsSync(dir)) {
        fs.mkdirSync(dir);
        fs.chownSync(dir, uid, gid);
      }
    }
  };
  const disk: Disk = {
    root,
    path: local,
    put(relative, content, mtime) {
      mkdir(path.posix.dirname(relative));
      const file = local(relative);
      fs.writeFileSync(file, content);
      fs.chownSync(file, uid, gid);
      if (mtime !== undefined) fs.utimesSync(file, mtime / 1000, mtime / 1000);
    },
    mkdir,
    read: (relative) => fs.readFileSync(local(relative)),
    text: (relative) => fs.readFileSync(local(relative), 'utf8'),
    exists: (relative) => fs.existsSync(local(relative)),
    isDirectory: (relative) => fs.statSync(local(relative), { throwIfNoEntry: false })?.isDirectory() ?? false,
    list: (relative) =>
      new Map(fs.readdirSync(local(relative), { withFileTypes: true }).map((e) => [e.name, e.isDirectory() ? 'directory' : 'file'] as const)),
  };
  return {
    name,
    port: Number(env(ENV.port(name))),
    password: env(ENV.password(name)),
    uri: (relative) => vscode.Uri.from({ scheme: 'ftp', authority: name, path: `/${relative.replace(/^\/+/, '')}` }),
    disk,
  };
}

export const realServers = (): ServerUnderTest[] => REAL_SERVERS.map(realServer);

export async function extensionApi(): Promise<FtpWorkspaceApi> {
  const extension = vscode.extensions.getExtension<FtpWorkspaceApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded`);
  const api = await extension.activate();
  assert.equal(typeof api?.setPassword, 'function', 'activate() returns the public API with setPassword');
  return api;
}

let prepared: Promise<void> | undefined;

/**
 * Once per run, before any test talks to a real server: the protocol log shown at trace level (so
 * that it records every command, the logins included), then each server's password given through
 * the extension's API — a password prompt cannot be answered from inside the extension host.
 */
export function prepareServers(): Promise<void> {
  prepared ??= (async () => {
    await settingsLoaded();
    const api = await extensionApi();
    await traceProtocolLog();
    for (const server of realServers()) await api.setPassword(server.name, server.password);
  })();
  return prepared;
}

/** Names of the server profiles in effect (`ftpWorkspace.servers`). */
export function profileNames(): string[] {
  const profiles = vscode.workspace.getConfiguration('ftpWorkspace').get<{ name?: unknown }[]>('servers') ?? [];
  return profiles.map((p) => String(p?.name));
}

/**
 * The profiles come from the user settings the runner wrote before VS Code started. A workbench
 * that starts slowly may hand them to the extension host a moment late: wait a little, then say
 * plainly what is missing rather than failing later on "unknown host demo".
 */
async function settingsLoaded(): Promise<void> {
  const wanted = FOLDERS.map((f) => f.name);
  await waitFor(() => wanted.every((name) => profileNames().includes(name)), `the user settings to define the profiles ${wanted.join(', ')} (ftpWorkspace.servers has: ${profileNames().join(', ') || 'none'})`, 30_000);
}

// --- the protocol log, read from the Output panel's document

function logDocument(): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'output' && d.uri.path.endsWith(`.${LOG_CHANNEL}`));
}

/** Shows the log (FTP: Show Protocol Log) and waits for the Output panel's document of it. */
async function showProtocolLog(): Promise<vscode.TextDocument> {
  await vscode.commands.executeCommand('ftpWorkspace.showLog');
  return waitFor(logDocument, `the Output panel to show the "${LOG_CHANNEL}" log`);
}

/** What the Output panel shows of the protocol log now. */
export async function protocolLog(): Promise<string> {
  return (logDocument() ?? (await showProtocolLog())).getText();
}

/** Waits until the protocol log satisfies `check` (the log reaches the panel in batches). */
export async function waitForLog(check: (log: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
  let last = '';
  try {
    await waitFor(async () => check((last = await protocolLog())), `the protocol log to show ${what}`, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; its last lines:\n${last.split('\n').slice(-25).join('\n')}`);
  }
  return last;
}

/**
 * Sets the log's level to Trace as a user does from the Output panel's level menu, and proves it
 * with a stat whose commands (SIZE, MDTM) are logged at trace level only.
 */
async function traceProtocolLog(): Promise<void> {
  await showProtocolLog();
  for (let attempt = 1; attempt <= 5; attempt++) {
    await vscode.commands.executeCommand(SET_ACTIVE_OUTPUT_TO_TRACE);
    const probe = `/${unique('trace-probe')}/file`;
    await vscode.workspace.fs.stat(vscode.Uri.parse(`ftp://demo${probe}`)).then(
      () => undefined,
      () => undefined,
    );
    const seen = await waitForLog((log) => log.includes(probe), 'a trace-level line', 3000).then(
      () => true,
      () => false,
    );
    if (seen) return;
    await showProtocolLog();
  }
  throw new Error(`could not set the "${LOG_CHANNEL}" log to trace level from the Output panel`);
}

/**
 * The data-connection command (EPSV, PASV, EPRT or PORT) sent on the same connection right before
 * the log line `> command`, e.g. `RETR /a/b.txt`.
 */
export function dataCommandBefore(log: string, command: string): string | undefined {
  const lines = log.split('\n');
  const at = lines.findIndex((line) => line.endsWith(`] > ${command}`));
  if (at < 0) return undefined;
  const id = / \[([^\]]+)\] > /.exec(lines[at])?.[1];
  for (let i = at - 1; i >= 0; i--) {
    if (!lines[i].includes(` [${id}] > `)) continue;
    const verb = / > ([A-Z]+)/.exec(lines[i])?.[1];
    if (verb === 'EPSV' || verb === 'PASV' || verb === 'EPRT' || verb === 'PORT') return verb;
    if (verb === 'RETR' || verb === 'STOR' || verb === 'LIST' || verb === 'MLSD' || verb === 'NLST') return undefined;
  }
  return undefined;
}

// --- assertions and waiting

/**
 * Runs a Sync command and accepts its preview (a QuickPick; ticked: the recommended actions) with
 * Enter's command once it is up, until the command settles.
 */
export async function syncAccepting(command: 'ftpWorkspace.syncToRemote' | 'ftpWorkspace.syncToLocal', uri: vscode.Uri): Promise<void> {
  let settled = false;
  const sync = Promise.resolve(vscode.commands.executeCommand(command, uri)).finally(() => (settled = true));
  await waitFor(
    async () => {
      if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      return settled;
    },
    `${command} to finish after its preview is accepted`,
    20_000,
  );
  await sync;
}

/** Awaits `promise` and checks it failed with a `vscode.FileSystemError` of this code. */
export async function expectFileSystemError(promise: Thenable<unknown>, code: 'FileNotFound' | 'FileExists' | 'FileIsADirectory' | 'NoPermissions', what: string): Promise<void> {
  let failure: unknown;
  try {
    await promise;
  } catch (error) {
    failure = error;
  }
  assert.ok(failure, `${what}: expected a FileSystemError ${code}, but it succeeded`);
  assert.ok(failure instanceof vscode.FileSystemError, `${what}: expected a FileSystemError ${code}, got ${String(failure)}`);
  assert.equal(failure.code, code, `${what}: ${failure.message}`);
}

export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Closes every editor without saving (a test that left a dirty document must not block the next). */
export async function closeAllEditors(): Promise<void> {
  for (const document of vscode.workspace.textDocuments) {
    if (document.isDirty && document.uri.scheme === 'ftp') {
      await vscode.window.showTextDocument(document);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** A loopback port that was free a moment ago: nothing listens on it. */
export async function unusedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Settles `work`, or fails when it has not settled in `ms`: a read that waits for a password
 * prompt (which nobody answers here) would hang until the test's timeout, saying nothing.
 */
export async function settledWithin<T>(work: Thenable<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms / 1000} s — is a password prompt open?`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve(work), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
