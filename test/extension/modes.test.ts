/**
 * Data-connection modes and the protocol log, on real servers: the mode each profile sets, the
 * "FTP: Switch Data Mode" command (what the status bar item runs) with its saved setting, and what
 * the "FTP Workspace" log shows — read from the Output panel as the user sees it.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { dataCommandBefore, prepareServers, protocolLog, realServer, realServers, unique, waitForLog, type ServerUnderTest } from './helpers';

const PASSIVE = ['EPSV', 'PASV'];
const ACTIVE = ['EPRT', 'PORT'];

/** Downloads a new file and returns the data-connection command the log shows for its RETR. */
async function dataCommandOfARead(server: ServerUnderTest): Promise<string | undefined> {
  const file = `${unique('mode')}/probe.txt`;
  server.disk.put(file, `probe for ${server.name}\n`);
  const bytes = await vscode.workspace.fs.readFile(server.uri(file));
  assert.equal(Buffer.from(bytes).toString(), `probe for ${server.name}\n`);
  const log = await waitForLog((text) => dataCommandBefore(text, `RETR /${file}`) !== undefined, `the data command before RETR /${file}`);
  return dataCommandBefore(log, `RETR /${file}`);
}

function profileMode(name: string): unknown {
  const profiles = vscode.workspace.getConfiguration('ftpWorkspace').inspect<{ name: string; mode?: string }[]>('servers')?.globalValue ?? [];
  return profiles.find((p) => p.name === name)?.mode;
}

describe('data-connection modes and the protocol log (real servers)', function () {
  this.timeout(45_000);
  const vsftpd = realServer('vsftpd');
  const pureftpd = realServer('pureftpd');

  before(function () {
    this.timeout(90_000);
    return prepareServers();
  });

  after(async () => {
    // Leave the profiles as setup.ts wrote them, whatever happened.
    await vscode.commands.executeCommand('ftpWorkspace.switchMode', 'passive', 'vsftpd');
    await vscode.commands.executeCommand('ftpWorkspace.switchMode', 'active', 'pureftpd');
  });

  it('uses passive mode (EPSV) for vsftpd, whose profile says passive', async () => {
    assert.equal(await dataCommandOfARead(vsftpd), 'EPSV');
  });

  it('uses active mode (EPRT) for pure-ftpd, whose profile says active', async () => {
    assert.equal(await dataCommandOfARead(pureftpd), 'EPRT');
  });

  it('switches vsftpd to active and back with "FTP: Switch Data Mode", and saves it in the profile', async () => {
    await vscode.commands.executeCommand('ftpWorkspace.switchMode', 'active', 'vsftpd');
    assert.equal(profileMode('vsftpd'), 'active', 'ftpWorkspace.servers → vsftpd.mode saved');
    assert.ok(ACTIVE.includes((await dataCommandOfARead(vsftpd)) ?? ''), 'an active data command before RETR after switching to active');
    assert.equal(profileMode('pureftpd'), 'active', 'the other profile is untouched');

    await vscode.commands.executeCommand('ftpWorkspace.switchMode', 'passive', 'vsftpd');
    assert.equal(profileMode('vsftpd'), 'passive', 'ftpWorkspace.servers → vsftpd.mode saved');
    assert.ok(PASSIVE.includes((await dataCommandOfARead(vsftpd)) ?? ''), 'a passive data command before RETR after switching back');
  });

  it('switches pure-ftpd to passive, and a save then uploads in passive mode', async () => {
    await vscode.commands.executeCommand('ftpWorkspace.switchMode', 'passive', 'pureftpd');
    assert.equal(profileMode('pureftpd'), 'passive');
    const file = `${unique('mode-save')}/note.txt`;
    await vscode.workspace.fs.writeFile(pureftpd.uri(file), new TextEncoder().encode('saved in passive mode\n'));
    assert.equal(pureftpd.disk.text(file), 'saved in passive mode\n');
    // Safe save uploads to a temporary name and renames it: find that STOR by the file's folder.
    const log = await waitForLog((text) => new RegExp(`] > STOR /${file.split('/')[0]}/`).test(text), `a STOR into ${file}`);
    const stor = log.split('\n').find((line) => line.includes(`] > STOR /${file.split('/')[0]}/`));
    assert.ok(stor);
    assert.ok(PASSIVE.includes(dataCommandBefore(log, stor.slice(stor.indexOf('] > ') + 4)) ?? ''), `a passive data command before ${stor}`);
  });

  it('logs each login with the password masked, and never a password', async () => {
    const log = await protocolLog();
    for (const server of realServers()) {
      // The connection ids that went to this server, from "[c3] connected to 127.0.0.1:PORT".
      const ids = [...log.matchAll(new RegExp(`\\[([^\\]]+)\\] connected to [^ ]+:${server.port}\\b`, 'g'))].map((m) => m[1]);
      assert.ok(ids.length > 0, `the log shows connections to ${server.name} (port ${server.port})`);
      const logins = ids.filter((id) => log.includes(`[${id}] > PASS ****`));
      assert.ok(logins.length > 0, `a "PASS ****" line for a ${server.name} connection (${ids.join(', ')})`);
    }
    for (const server of realServers()) {
      assert.equal(log.includes(server.password), false, `the log contains the password of ${server.name}`);
    }
    assert.doesNotMatch(log, /> PASS (?!\*\*\*\*$)/m, 'every PASS line is masked');
  });
});
