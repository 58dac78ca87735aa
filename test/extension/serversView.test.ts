/**
 * The "FTP Servers" view (issue 22): its rows (served to the API as serverStates, the same model
 * the tree draws), its commands run as the view runs them (on a profile), and what they change in
 * the settings and in the connections. A server that cannot be reached shows its error, and the
 * failure notification's actions do what they say (Retry pressed through the workbench).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ConnectFailureReport, ServerState } from '../../src/vscode/api';
import type { ImportSummary } from '../../src/vscode/importSftp';
import { ServerAddress } from '../support/serverAddress';
import { closeAllEditors, EXTENSION_ID, extensionApi, prepareServers, realServer, settledWithin, unusedPort, waitFor } from './helpers';
import { FLAKY_PORT_ENV, FLAKY_PROFILE } from './servers';

type Profile = { name: string; host: string; port?: number; user?: string; mode?: string; security?: string };

const config = () => vscode.workspace.getConfiguration('ftpWorkspace');
const userProfiles = () => config().inspect<Profile[]>('servers')?.globalValue ?? [];

/**
 * Runs a command that walks the user through input boxes and quick picks, pressing Enter at each
 * (so taking what it offers: the pre-filled value, the first item) until `done` holds; then closes
 * whatever it still asks (a password) and its closing notification, and waits for it to settle.
 */
async function enterThrough<T>(command: string, args: unknown[], done: () => T | undefined, what: string): Promise<T> {
  let settled = false;
  const run = Promise.resolve(vscode.commands.executeCommand(command, ...args)).finally(() => (settled = true));
  try {
    return await waitFor(
      async () => {
        const result = done();
        if (!result && !settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        return result;
      },
      what,
      20_000,
    );
  } finally {
    // A prompt still to come (the password) opens a moment after the profile is written.
    await waitFor(
      async () => {
        await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
        await vscode.commands.executeCommand('notifications.clearAll');
        return settled;
      },
      `${command} to end once its prompts and notification are closed`,
    );
    await run;
  }
}

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

  describe('with no profiles', () => {
    it('shows nothing, so VS Code shows its welcome, whose links are the extension\'s commands; Add Server and Import from it add rows', async () => {
      const welcome = (vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { viewsWelcome: { view: string; contents: string; when?: string }[] } }).contributes.viewsWelcome.find((w) => w.view === 'ftpWorkspace.servers');
      assert.ok(welcome, 'package.json has a welcome for the FTP Servers view');
      // VS Code shows a view's welcome while its tree is empty and the when-clause holds; the
      // extension sets no context key for "no servers", so a when-clause here would hide it for good.
      assert.equal(welcome.when, undefined, `the welcome's when-clause "${welcome.when}" names a context key the extension does not set`);
      const links = [...welcome.contents.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]);
      assert.deepEqual(links, ['ftpWorkspace.addServer', 'ftpWorkspace.importSftpJson', 'ftpWorkspace.getStarted']);
      const commands = await vscode.commands.getCommands(true);
      for (const id of links) assert.ok(commands.includes(id), `${id}, linked from the welcome, is a registered command`);

      const api = await extensionApi();
      assert.equal(config().inspect<Profile[]>('servers')?.workspaceValue, undefined, 'the test workspace defines no profiles of its own');
      await config().update('servers', [], vscode.ConfigurationTarget.Global);
      await waitFor(() => api.serverStates().length === 0, `the view to be empty with no profiles (it shows ${api.serverStates().map((s) => s.name).join(', ')})`);

      // The welcome's first link, as a click runs it: Enter through its prompts takes the host given.
      const demo = saved.find((p) => p.name === 'demo')!;
      const added = await enterThrough('ftpWorkspace.addServer', [`ftp://${demo.host}:${demo.port}`], () => userProfiles()[0], 'Add Server to write a profile');
      assert.deepEqual(added, { name: demo.host, host: demo.host, port: demo.port, user: 'anonymous', security: 'explicit', mode: 'auto' });
      await waitFor(() => api.serverStates().length === 1, 'the added server to show in the view');
      assert.equal(api.serverStates()[0].address, `anonymous@${demo.host}:${demo.port}`);

      // Its second link: a vscode-sftp file's FTP entry becomes a second row.
      await config().update('servers', [], vscode.ConfigurationTarget.Global);
      const savedLinks = config().inspect('links')?.globalValue;
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-welcome-'));
      try {
        fs.mkdirSync(path.join(folder, '.vscode'));
        const file = path.join(folder, '.vscode', 'sftp.json');
        fs.writeFileSync(file, JSON.stringify({ name: 'Welcome Import', protocol: 'ftp', host: demo.host, port: demo.port, username: 'anonymous' }));
        const summary = await vscode.commands.executeCommand<ImportSummary>('ftpWorkspace.importSftpJson', vscode.Uri.file(file), { removePasswords: false });
        assert.equal(summary.servers.length, 1, JSON.stringify(summary));
        await waitFor(() => api.serverStates().length === 1 && api.serverStates()[0].name === summary.servers[0], 'the imported server to show in the view');
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
        await config().update('links', savedLinks, vscode.ConfigurationTarget.Global);
      }
    });
  });

  describe('Edit Server on a folder with no profile (ftp://user@host:port)', () => {
    it('starts Add Server from what the folder uses: host, port, user, plain FTP and its data mode', async () => {
      const user = saved.find((p) => p.name === 'vsftpd')!.user!;
      // A port of its own, so that the mode this test sets for the ad-hoc server concerns no other test.
      const port = await unusedPort();
      const authority = `${user}@127.0.0.1:${port}`;
      await vscode.commands.executeCommand('ftpWorkspace.switchMode', 'active', authority);
      const added = await enterThrough('ftpWorkspace.editServer', [authority], () => userProfiles().find((p) => !saved.some((s) => s.name === p.name)), 'Add Server to write a profile for the folder');
      assert.deepEqual(added, { name: '127.0.0.1', host: '127.0.0.1', port, user, security: 'none', mode: 'active' });
    });
  });

  describe('a server that was unreachable and is back', () => {
    const vsftpd = realServer('vsftpd');
    const forwarder = new ServerAddress({ host: '127.0.0.1', port: vsftpd.port }, Number(process.env[FLAKY_PORT_ENV]));
    const reports: ConnectFailureReport[] = [];
    let subscription: vscode.Disposable | undefined;

    before(async () => {
      const api = await extensionApi();
      await api.setPassword(FLAKY_PROFILE, vsftpd.password);
      subscription = api.onDidFailToConnect((r) => reports.push(r));
    });
    after(async () => {
      subscription?.dispose();
      await forwarder.close();
    });

    async function failWhileDown(): Promise<void> {
      await forwarder.close();
      await vscode.commands.executeCommand('ftpWorkspace.servers.disconnect', FLAKY_PROFILE);
      await vscode.commands.executeCommand('notifications.clearAll');
      reports.length = 0;
      await Promise.resolve(vscode.workspace.fs.readDirectory(vscode.Uri.parse(`ftp://${FLAKY_PROFILE}/`))).then(
        () => assert.fail('the read should fail while the server is down'),
        () => undefined,
      );
      const down = await stateOf(FLAKY_PROFILE, (s) => s.state === 'error', 'in error');
      assert.match(down.lastError ?? '', /nothing listens on that port/);
      await forwarder.open();
    }

    it('Retry in the notification connects and the view shows it connected, its error gone', async () => {
      await failWhileDown();
      await waitFor(() => reports.length === 1, 'the failure notification');
      await vscode.commands.executeCommand('notification.acceptPrimaryAction');
      const back = await stateOf(FLAKY_PROFILE, (s) => s.state === 'connected', 'connected after Retry');
      assert.equal(back.lastError, undefined);
      assert.ok(back.connections >= 1, JSON.stringify(back));
    });

    it('Test Connection from the view, once it passes, clears the error in the view', async () => {
      await failWhileDown();
      await vscode.commands.executeCommand('ftpWorkspace.servers.testConnection', FLAKY_PROFILE);
      const report = await waitFor(() => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'ftp-workspace-report' && d.uri.path.includes(FLAKY_PROFILE)), 'the connection test report');
      assert.doesNotMatch(report.getText(), /❌ failed/);
      const back = await stateOf(FLAKY_PROFILE, (s) => s.state !== 'error', 'out of error after a passing Test Connection');
      assert.equal(back.lastError, undefined);
    });
  });
});
