/**
 * Workspace folders on a server are named after it (issue 22): `demo — /path`, not the last path
 * segment or "/". A folder added without a name (by URI, by another extension) is renamed; a name
 * the user gave is kept.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { unique, waitFor } from './helpers';

describe('workspace folders named after their server', () => {
  const added: vscode.Uri[] = [];

  afterEach(async () => {
    const indexes = added.map((uri) => vscode.workspace.getWorkspaceFolder(uri)?.index).filter((i): i is number => i !== undefined);
    added.length = 0;
    if (indexes.length === 0) return;
    const gone = new Promise((resolve) => vscode.workspace.onDidChangeWorkspaceFolders(resolve));
    // Refused while the rename is still pending in the workbench: try again until it is taken.
    await waitFor(() => vscode.workspace.updateWorkspaceFolders(Math.min(...indexes), indexes.length), 'the test folders to be removed');
    await gone;
  });

  it('renames a folder added without a name to "server — /path", and keeps a given name', async () => {
    const root = process.env.FTPW_TEST_DEMO_ROOT;
    assert.ok(root, 'FTPW_TEST_DEMO_ROOT is set');
    const name = unique('named');
    fs.mkdirSync(path.join(root, name, 'www'), { recursive: true });
    fs.mkdirSync(path.join(root, name, 'mine'), { recursive: true });
    const unnamed = vscode.Uri.parse(`ftp://demo/${name}/www`);
    const named = vscode.Uri.parse(`ftp://demo/${name}/mine`);
    added.push(unnamed, named);
    const count = vscode.workspace.workspaceFolders?.length ?? 0;
    assert.ok(vscode.workspace.updateWorkspaceFolders(count, 0, { uri: unnamed }, { uri: named, name: 'My site' }), 'adding the folders');
    const folder = await waitFor(() => {
      const f = vscode.workspace.getWorkspaceFolder(unnamed);
      return f && f.name !== 'www' ? f : undefined;
    }, 'the folder added without a name to be renamed');
    assert.equal(folder.name, `demo — /${name}/www`);
    assert.equal(folder.uri.toString(), unnamed.toString());
    assert.equal(vscode.workspace.getWorkspaceFolder(named)?.name, 'My site');
  });
});
