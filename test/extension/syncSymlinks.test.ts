/**
 * The link setting `symlinks` in the real extension host: a link of its own (workspace settings,
 * as syncDeletes.test.ts does) to a vsftpd folder holding a symbolic link made on the server's
 * disk; Sync Remote → Local run from the command, its preview accepted with the workbench's
 * quick-input command. Skipped by default, followed once the setting says so.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, prepareServers, realServer, syncAccepting, unique } from './helpers';

interface LinkSetting {
  local: string;
  remote: string;
  [key: string]: unknown;
}

describe('linked folder: symbolic links on vsftpd by the link\'s "symlinks"', function () {
  this.timeout(60_000);
  const { disk } = realServer('vsftpd');
  const config = () => vscode.workspace.getConfiguration('ftpWorkspace');
  const remoteDir = unique('symlinks');
  let link: LinkSetting;
  const localPath = (rel: string) => path.join(link.local, ...rel.split('/'));

  async function linkWith(extra: Record<string, unknown>): Promise<void> {
    await config().update('links', [{ ...link, ...extra }], vscode.ConfigurationTarget.Workspace);
  }

  before(async function () {
    this.timeout(90_000);
    await prepareServers();
    link = { local: fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-symlinks-')), remote: `ftp://vsftpd/${remoteDir}` };
    disk.put(`${remoteDir}/real/a.txt`, 'reached through the link\n');
    // Relative: vsftpd's chroot would send an absolute target elsewhere.
    fs.symlinkSync('real', disk.path(`${remoteDir}/www`));
    fs.symlinkSync('real/a.txt', disk.path(`${remoteDir}/conf.txt`));
  });
  afterEach(async () => {
    await config().update('links', undefined, vscode.ConfigurationTarget.Workspace);
    await closeAllEditors();
  });
  after(() => fs.rmSync(link.local, { recursive: true, force: true }));

  it('skips the server\'s links by default, and copies them as their targets with "follow"', async () => {
    await linkWith({});
    await syncAccepting('ftpWorkspace.syncToLocal', vscode.Uri.file(link.local));
    assert.equal(fs.readFileSync(localPath('real/a.txt'), 'utf8'), 'reached through the link\n');
    assert.equal(fs.existsSync(localPath('www')), false, 'a link to a folder is left out by default');
    assert.equal(fs.existsSync(localPath('conf.txt')), false, 'a link to a file is left out by default');

    await linkWith({ symlinks: 'follow' });
    await syncAccepting('ftpWorkspace.syncToLocal', vscode.Uri.file(link.local));
    assert.equal(fs.readFileSync(localPath('www/a.txt'), 'utf8'), 'reached through the link\n', 'the folder link copied as its folder');
    assert.equal(fs.readFileSync(localPath('conf.txt'), 'utf8'), 'reached through the link\n', 'the file link copied as its file');
    assert.ok(fs.lstatSync(disk.path(`${remoteDir}/www`)).isSymbolicLink(), 'the server\'s link is still a link');
  });
});
