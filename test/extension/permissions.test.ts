/**
 * "FTP: Set Permissions…" in the real extension host, on vsftpd and pure-ftpd folders and on the
 * linked folder's files: the mode is read on the server's disk. The dialog is driven as a user
 * drives it (its QuickPick accepted as it opens, ticked as the mode is now); scripted runs pass the
 * mode as the command's argument, as a keybinding would.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { prepareServers, realServer, unique, waitFor, waitForLog, type ServerUnderTest } from './helpers';

const COMMAND = 'ftpWorkspace.setPermissions';

describe('FTP: Set Permissions…', function () {
  this.timeout(60_000);

  before(() => prepareServers());

  const servers: ServerUnderTest[] = [realServer('vsftpd'), realServer('pureftpd')];
  const modeOnDisk = (server: ServerUnderTest, rel: string) => fs.lstatSync(server.disk.path(rel)).mode & 0o7777;

  for (const server of servers) {
    it(`sets a file's mode on ${server.name}, and a folder's with everything in it`, async () => {
      const dir = unique('perm');
      server.disk.put(`${dir}/index.php`, '<?php echo 1;');
      server.disk.put(`${dir}/lib/util.php`, '<?php');
      fs.chmodSync(server.disk.path(`${dir}/index.php`), 0o666);

      await vscode.commands.executeCommand(COMMAND, server.uri(`${dir}/index.php`), undefined, { mode: '640' });
      assert.equal(modeOnDisk(server, `${dir}/index.php`), 0o640);

      await vscode.commands.executeCommand(COMMAND, server.uri(dir), undefined, { mode: 'rwxr-x---', scope: 'all' });
      for (const rel of [dir, `${dir}/lib`, `${dir}/index.php`, `${dir}/lib/util.php`]) assert.equal(modeOnDisk(server, rel), 0o750, rel);

      await vscode.commands.executeCommand(COMMAND, server.uri(dir), undefined, { mode: '644', scope: 'files' });
      assert.equal(modeOnDisk(server, `${dir}/lib`), 0o750, 'folders keep theirs');
      assert.equal(modeOnDisk(server, `${dir}/lib/util.php`), 0o644);
    });
  }

  it('opens ticked as the mode is now: accepting it as it is sends that mode', async () => {
    const server = servers[0];
    const dir = unique('dialog');
    server.disk.put(`${dir}/run.sh`, '#!/bin/sh\n');
    fs.chmodSync(server.disk.path(`${dir}/run.sh`), 0o754);
    let settled = false;
    const run = Promise.resolve(vscode.commands.executeCommand(COMMAND, server.uri(`${dir}/run.sh`))).finally(() => (settled = true));
    await waitFor(async () => {
      if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      return settled;
    }, 'Set Permissions to finish once its dialog is accepted', 20_000);
    await run;
    await waitForLog((log) => log.includes(`SITE CHMOD 754 /${dir}/run.sh`), `SITE CHMOD 754 /${dir}/run.sh`);
    assert.equal(modeOnDisk(server, `${dir}/run.sh`), 0o754);
  });

  it("sets the mode of a linked folder's file on its twin on the server", async () => {
    const local = process.env.FTPW_TEST_LINKED_LOCAL;
    assert.ok(local, 'FTPW_TEST_LINKED_LOCAL is not set');
    const server = servers[0];
    const dir = unique('linkperm');
    server.disk.put(`linked/${dir}/deploy.sh`, '#!/bin/sh\n');
    fs.mkdirSync(path.join(local, dir), { recursive: true });
    fs.writeFileSync(path.join(local, dir, 'deploy.sh'), '#!/bin/sh\n');

    await vscode.commands.executeCommand(COMMAND, vscode.Uri.file(path.join(local, dir, 'deploy.sh')), undefined, { mode: '700' });
    assert.equal(modeOnDisk(server, `linked/${dir}/deploy.sh`), 0o700);
    assert.equal(fs.statSync(path.join(local, dir, 'deploy.sh')).mode & 0o777, 0o666 & ~process.umask(), 'the local file is not touched');
  });
});
