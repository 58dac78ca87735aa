/**
 * "Import from sftp.json…" (issue 22) over a real vscode-sftp file: profiles and a linked folder in
 * the settings, the password in the secret storage (the imported server logs in with no prompt)
 * and out of sftp.json on request, with a backup; SFTP entries skipped with the reason.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ImportSummary } from '../../src/vscode/importSftp';
import { prepareServers, realServer, settledWithin, unique } from './helpers';

const config = () => vscode.workspace.getConfiguration('ftpWorkspace');

describe('import from a vscode-sftp sftp.json', function () {
  this.timeout(60_000);
  let saved: { servers: unknown; links: unknown };
  let folder: string;

  before(async () => {
    await prepareServers();
    saved = { servers: config().inspect('servers')?.globalValue, links: config().inspect('links')?.globalValue };
  });

  beforeEach(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-sftp-json-'));
    fs.mkdirSync(path.join(folder, '.vscode'));
    fs.mkdirSync(path.join(folder, 'public'));
  });

  afterEach(async () => {
    await config().update('servers', saved.servers, vscode.ConfigurationTarget.Global);
    await config().update('links', saved.links, vscode.ConfigurationTarget.Global);
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('imports an FTP entry with its password: profile and link in settings, password in the secret storage and out of the file', async () => {
    const vsftpd = realServer('vsftpd');
    const profile = (config().get<{ name: string; user: string }[]>('servers') ?? []).find((p) => p.name === 'vsftpd')!;
    const remoteDir = unique('imported');
    vsftpd.disk.mkdir(remoteDir);
    vsftpd.disk.put(`${remoteDir}/index.html`, 'hello');
    const file = path.join(folder, '.vscode', 'sftp.json');
    // "localhost", not the profile's 127.0.0.1: another password entry than the one the tests gave vsftpd.
    fs.writeFileSync(
      file,
      `// written by vscode-sftp\n{\n  "name": "Imported Site",\n  "protocol": "ftp",\n  "host": "localhost",\n  "port": ${vsftpd.port},\n  "username": "${profile.user}",\n  "password": ${JSON.stringify(vsftpd.password)}, // plain text!\n  "remotePath": "/${remoteDir}",\n  "context": "public",\n  "uploadOnSave": true,\n  "passive": true,\n  "ignore": ["*.log"],\n}\n`,
    );
    const summary = await vscode.commands.executeCommand<ImportSummary>('ftpWorkspace.importSftpJson', vscode.Uri.file(file), { removePasswords: true });

    assert.deepEqual(summary.servers, ['Imported-Site']);
    const imported = (config().get<Record<string, unknown>[]>('servers') ?? []).find((p) => p.name === 'Imported-Site');
    assert.deepEqual(imported, { name: 'Imported-Site', host: 'localhost', port: vsftpd.port, user: profile.user, security: 'none', mode: 'passive' });
    const links = config().get<Record<string, unknown>[]>('links') ?? [];
    assert.deepEqual(
      links.find((l) => l.remote === `ftp://Imported-Site/${remoteDir}`),
      { local: path.join(folder, 'public'), remote: `ftp://Imported-Site/${remoteDir}`, uploadOnSave: true, ignore: ['*.log'] },
    );
    assert.equal(JSON.stringify([config().inspect('servers'), config().inspect('links')]).includes(vsftpd.password), false, 'no password in any settings');

    // The password went where logins find it: no prompt (which nobody answers here).
    const listing = await settledWithin(vscode.workspace.fs.readDirectory(vscode.Uri.parse(`ftp://Imported-Site/${remoteDir}`)), 15_000, 'the imported server asked for its password');
    assert.deepEqual(listing, [['index.html', vscode.FileType.File]]);

    const after = fs.readFileSync(file, 'utf8');
    assert.equal(after.includes(vsftpd.password), false, 'the password is out of sftp.json');
    assert.match(after, /\/\/ written by vscode-sftp/);
    assert.match(after, /"host": "localhost"/);
    assert.equal(summary.backup, `${file}.bak`);
    assert.ok(fs.readFileSync(summary.backup, 'utf8').includes(vsftpd.password), 'the backup is the file as it was');
  });

  it('imports an anonymous entry without a password, links the folder itself, and skips the SFTP one with the reason', async () => {
    const demo = (config().get<{ name: string; host: string; port: number }[]>('servers') ?? []).find((p) => p.name === 'demo')!;
    const file = path.join(folder, '.vscode', 'sftp.json');
    const text = JSON.stringify([
      { name: 'over ssh', protocol: 'sftp', host: 'ssh.example.com', username: 'me', password: 'never-read' },
      { name: 'demo', protocol: 'ftp', host: demo.host, port: demo.port },
    ]);
    fs.writeFileSync(file, text);
    const summary = await vscode.commands.executeCommand<ImportSummary>('ftpWorkspace.importSftpJson', vscode.Uri.file(file));
    // "demo" exists: the import takes the next free name.
    assert.deepEqual(summary.servers, ['demo-2']);
    assert.deepEqual(summary.links, [{ local: folder, remote: 'ftp://demo-2/' }]);
    assert.deepEqual(summary.skipped.map((s) => s.source), ['over ssh']);
    assert.match(summary.skipped[0].reason, /SFTP is file transfer over SSH/);
    assert.equal(summary.backup, undefined);
    assert.equal(fs.readFileSync(file, 'utf8'), text, 'a file without passwords is left as it is');
    const listing = await settledWithin(vscode.workspace.fs.readDirectory(vscode.Uri.parse('ftp://demo-2/')), 15_000, 'reading the imported anonymous server');
    assert.ok(Array.isArray(listing));
  });
});
