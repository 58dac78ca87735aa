/**
 * The Explorer of the workspace's ftp:// folders when a server's settings change: it is asked to
 * look again, so a folder it showed empty after a failed connect (a wrong profile, or user
 * settings that reached a new window late) fills in once the settings are right. Seen from the
 * protocol log: nothing else talks to vsftpd while the test changes its profile.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { prepareServers, protocolLog, waitForLog } from './helpers';

describe('the Explorer of ftp:// folders when a server profile changes', function () {
  this.timeout(60_000);
  before(function () {
    this.timeout(90_000);
    return prepareServers();
  });

  it('looks at the folder again under the new settings, and again once they are fixed', async () => {
    await vscode.commands.executeCommand('workbench.view.explorer');
    const config = () => vscode.workspace.getConfiguration('ftpWorkspace');
    const profiles = config().inspect<Array<{ name: string; security?: string }>>('servers')?.globalValue ?? [];
    assert.ok(profiles.some((p) => p.name === 'vsftpd'), 'the vsftpd profile is in the user settings');
    const count = (log: string, pattern: RegExp) => log.split('\n').filter((line) => pattern.test(line)).length;
    const authTls = /\] > AUTH TLS/;
    const logins = /\] > USER /;
    const before = await protocolLog();
    // FTPS asked of a server without it: the Explorer's next look fails at AUTH TLS.
    await config().update('servers', profiles.map((p) => (p.name === 'vsftpd' ? { ...p, security: 'explicit' } : p)), vscode.ConfigurationTarget.Global);
    let broken = '';
    try {
      broken = await waitForLog((log) => count(log, authTls) > count(before, authTls), 'the Explorer asking vsftpd again (AUTH TLS) under the broken profile');
    } finally {
      await config().update('servers', profiles, vscode.ConfigurationTarget.Global);
    }
    await waitForLog((log) => count(log, logins) > count(broken, logins), 'the Explorer asking vsftpd again (a login) once the profile is fixed');
  });
});
