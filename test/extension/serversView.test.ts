/**
 * The "FTP Servers" view (issue 22): its rows (served to the API as serverStates, the same model
 * the tree draws), its commands run as the view runs them (on a profile), and what they change in
 * the settings and in the connections. A server that cannot be reached shows its error, and the
 * failure notification's actions do what they say (Retry pressed through the workbench).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ConnectFailureReport, ServerState } from '../../src/vscode/api';
import { closeAllEditors, extensionApi, prepareServers, realServer, settledWithin, unusedPort, waitFor } from './helpers';

type Profile = { name: string; host: string; port?: number; user?: string; mode?: string };

const config = () => vscode.workspace.getConfiguration('ftpWorkspace');
const userProfiles = () => config().inspect<Profile[]>('servers')?.globalValue ?? [];

async function stateOf(name: string, check: (s: ServerState) => boolean, what: string): Promise<ServerState> {
  const api = await extensionApi();
  return waitFor(() => api.serverStates().find((s) => s.name === name && check(s)), `${name} to be ${what} (now ${JSON.stringify(api.serverStates().find((s) => s.name === name))})`, 15_000);
}

describe('the FTP Servers view', function () {
  this.timeout(60_000);
  let saved: Profile[];

  before(async () => {
    await prepareServers();
    saved = userProfiles();
  });

  afterEach(async () => {
    await closeAllEditors();
    if (JSON.stringify(userProfiles()) !== JSON.stringify(saved)) await config().update('servers', saved, vscode.ConfigurationTarget.Global);
  });

  it('lists every profile with address, security, data mode, state and the linked folder, and follows connect and disconnect', async () => {
    const api = await extensionApi();
    const states = api.serverStates();
    assert.deepEqual(states.map((s) => s.name), saved.map((p) => p.name));
    const vsftpd = states.find((s) => s.name === 'vsftpd')!;
    const profile = saved.find((p) => p.name === 'vsftpd')!;
    assert.equal(vsftpd.address, `${profile.user}@${profile.host}:${profile.port}`);
    assert.equal(vsftpd.security, 'none');
    assert.equal(vsftpd.mode, 'passive');
    assert.deepEqual(vsftpd.links, [{ local: process.env.FTPW_TEST_LINKED_LOCAL, remote: 'ftp://vsftpd/linked' }]);
    assert.equal(states.find((s) => s.name === 'pureftpd')?.mode, 'active');

    await vscode.workspace.fs.readDirectory(realServer('vsftpd').uri('/'));
    const connected = await stateOf('vsftpd', (s) => s.state === 'connected', 'connected');
    assert.ok(connected.connections >= 1 && connected.connections <= connected.limit, JSON.stringify(connected));
    let told = 0;
    const counting = api.onDidChangeServerStates(() => told++);
    try {
      await vscode.commands.executeCommand('ftpWorkspace.servers.disconnect', 'vsftpd');
      const idle = await stateOf('vsftpd', (s) => s.state === 'idle', 'idle after Disconnect');
      assert.equal(idle.connections, 0);
      await waitFor(() => told > 0, 'the view to be told of the change');
    } finally {
      counting.dispose();
    }
  });

  it('Duplicate adds a copy next to the original; Delete removes it but keeps the password the original shares', async () => {
    const copy = await vscode.commands.executeCommand<string>('ftpWorkspace.servers.duplicate', 'vsftpd');
    assert.equal(copy, 'vsftpd-copy');
    const names = userProfiles().map((p) => p.name);
    assert.equal(names[names.indexOf('vsftpd') + 1], 'vsftpd-copy', names.join(', '));
    const { name: _n, ...original } = userProfiles().find((p) => p.name === 'vsftpd')!;
    const { name: _c, ...duplicate } = userProfiles().find((p) => p.name === 'vsftpd-copy')!;
    assert.deepEqual(duplicate, original);
    // Edit opens the settings at the copy, for the user to change what differs.
    const editor = await waitFor(() => vscode.window.activeTextEditor, 'the settings editor');
    assert.equal(editor.document.getText(editor.selection), '"name": "vsftpd-copy"', `${editor.document.uri.toString()} ${editor.document.getText().slice(0, 3000)}`);

    assert.equal(await vscode.commands.executeCommand('ftpWorkspace.servers.delete', 'vsftpd-copy', { confirmed: true }), true);
    assert.deepEqual(userProfiles(), saved);
    // The copy shared vsftpd's user@host:port, so its password: a fresh login still needs no prompt.
    await vscode.commands.executeCommand('ftpWorkspace.servers.disconnect', 'vsftpd');
    const listing = await settledWithin(vscode.workspace.fs.readDirectory(realServer('vsftpd').uri('/')), 15_000, 'logging in after Delete of a copy (did it forget the shared password?)');
    assert.ok(Array.isArray(listing));
  });

  it('Delete refuses an unknown name and changes nothing', async () => {
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('ftpWorkspace.servers.delete', 'no-such-server', { confirmed: true })), /No FTP server profile named "no-such-server"/);
    assert.deepEqual(userProfiles(), saved);
  });

  it('Edit opens the settings JSON at the profile', async () => {
    await vscode.commands.executeCommand('ftpWorkspace.servers.edit', 'pureftpd');
    const editor = await waitFor(() => vscode.window.activeTextEditor, 'the settings editor');
    assert.match(editor.document.uri.path, /settings\.json$/);
    assert.equal(editor.document.getText(editor.selection), '"name": "pureftpd"');
  });

  it('Add to Workspace adds the server\'s root named after it', async () => {
    const before = vscode.workspace.workspaceFolders?.length ?? 0;
    const extra = { name: 'demo-root', host: saved.find((p) => p.name === 'demo')!.host, port: saved.find((p) => p.name === 'demo')!.port, user: 'anonymous' };
    await config().update('servers', [...saved, extra], vscode.ConfigurationTarget.Global);
    const added = new Promise((resolve) => vscode.workspace.onDidChangeWorkspaceFolders(resolve));
    assert.equal(await vscode.commands.executeCommand('ftpWorkspace.servers.addToWorkspace', 'demo-root'), true);
    await added;
    const folder = vscode.workspace.workspaceFolders?.[before];
    assert.equal(folder?.uri.toString(), 'ftp://demo-root/');
    assert.equal(folder?.name, 'demo-root');
    await waitFor(() => vscode.workspace.updateWorkspaceFolders(before, 1), 'the folder to be removed');
  });

  describe('a profile whose server cannot be reached', () => {
    const reports: ConnectFailureReport[] = [];
    let subscription: vscode.Disposable | undefined;
    let port: number;

    beforeEach(async () => {
      port = await unusedPort();
      await config().update('servers', [...saved, { name: 'gone', host: '127.0.0.1', port, user: 'anonymous' }], vscode.ConfigurationTarget.Global);
      const api = await extensionApi();
      reports.length = 0;
      subscription = api.onDidFailToConnect((r) => reports.push(r));
    });

    afterEach(() => subscription?.dispose());

    it('shows the error and its message; Retry in the notification tries again at once', async () => {
      await Promise.resolve(vscode.workspace.fs.readDirectory(vscode.Uri.parse('ftp://gone/'))).then(
        () => assert.fail('the read should fail'),
        () => undefined,
      );
      const state = await stateOf('gone', (s) => s.state === 'error', 'in error');
      assert.match(state.lastError ?? '', /nothing listens on that port/);
      await waitFor(() => reports.length === 1, 'the failure notification');
      // What a click on the notification's first button, Retry, does.
      await vscode.commands.executeCommand('notification.acceptPrimaryAction');
      await waitFor(() => reports.length === 2, 'Retry to connect again and be told again');
      assert.equal(reports[1].server, 'gone');
    });

    it('Test Connection (its second action) writes a report of the failed connect', async () => {
      await vscode.commands.executeCommand('ftpWorkspace.servers.testConnection', 'gone');
      const report = await waitFor(() => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'ftp-workspace-report' && d.uri.path.includes('gone')), 'the connection test report');
      assert.match(report.getText(), /# FTP connection test: gone/);
      assert.match(report.getText(), /❌ failed/);
      assert.match(report.getText(), new RegExp(`127\\.0\\.0\\.1:${port}`));
    });
  });
});
