/**
 * The extension-test harness itself: these run inside a real VS Code extension host (code-server's
 * here) and check what every other extension test relies on.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { profileNames } from './helpers';
import { FLAKY_PROFILE, FOLDERS, PROXIED_PROFILE } from './servers';

describe('extension test harness', () => {
  it('runs in a VS Code extension host on Node', () => {
    assert.match(vscode.version, /^1\.\d+\.\d+/);
    assert.ok(process.versions.node, 'process.versions.node');
  });

  it('loads the extension under development and activates it', async () => {
    const developmentPath = process.env.FTPW_EXT_DEVELOPMENT_PATH;
    assert.ok(developmentPath, 'the runner passes FTPW_EXT_DEVELOPMENT_PATH to the extension host');
    const extension = vscode.extensions.all.find((e) => path.resolve(e.extensionPath) === path.resolve(developmentPath));
    assert.ok(extension, `no extension loaded from ${developmentPath}`);
    assert.equal(extension.id, 'ftp-workspace.ftp-workspace');
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it('opened the multi-root workspace the setup asked for, one folder per server', () => {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => ({ name: f.name, uri: f.uri.toString() }));
    assert.deepEqual(folders, FOLDERS);
  });

  it('applies the user settings the setup wrote (server profiles) and the harness defaults', () => {
    assert.deepEqual(profileNames(), [...FOLDERS.map((f) => f.name), PROXIED_PROFILE, FLAKY_PROFILE]);
    assert.equal(vscode.workspace.getConfiguration('files').get('autoSave'), 'off', 'files.autoSave');
  });

  it('lists an FTP workspace folder through vscode.workspace.fs', async () => {
    const entries = new Map(await vscode.workspace.fs.readDirectory(vscode.Uri.parse('ftp://demo/')));
    assert.equal(entries.get('README.md'), vscode.FileType.File);
    assert.equal(entries.get('css'), vscode.FileType.Directory);
  });

  it('reads the same bytes the FTP server has on disk', async () => {
    const demoRoot = process.env.FTPW_TEST_DEMO_ROOT;
    assert.ok(demoRoot, 'the setup passes FTPW_TEST_DEMO_ROOT to the extension host');
    const bytes = await vscode.workspace.fs.readFile(vscode.Uri.parse('ftp://demo/notes/todo.txt'));
    assert.deepEqual(Buffer.from(bytes), fs.readFileSync(path.join(demoRoot, 'notes', 'todo.txt')));
  });

  // Proves a failing extension test makes the whole run exit non-zero (see the report / README).
  if (process.env.FTPW_EXT_SELFTEST_FAIL === '1') {
    it('fails on purpose (FTPW_EXT_SELFTEST_FAIL=1)', () => {
      assert.equal(1 + 1, 3, 'deliberate failure');
    });
  }
});
