/**
 * Files on real FTP servers (vsftpd in passive mode, pure-ftpd in active mode) through the VS Code
 * API in the real extension host — `workspace.fs`, text documents, editors and saves — each result
 * checked against the server's folder on this disk.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { closeAllEditors, expectFileSystemError, prepareServers, realServers, unique } from './helpers';

const encode = (text: string) => new TextEncoder().encode(text);

for (const server of realServers()) {
  const { disk } = server;

  describe(`files on ${server.name} (real server)`, function () {
    // Generous: other work on this machine can slow the workbench down a lot.
    this.timeout(45_000);
    // Each test works in its own new folder: a folder listed in the last few seconds may be served
    // from the listing cache (ftpWorkspace.cacheTtl) and not show what was just put on disk.
    before(function () {
      this.timeout(90_000);
      return prepareServers();
    });
    afterEach(() => closeAllEditors());

    it('lists a folder as the server has it on disk', async () => {
      const dir = unique('list');
      disk.put(`${dir}/a.txt`, 'a\n');
      disk.put(`${dir}/with spaces.txt`, 'spaces\n');
      disk.put(`${dir}/café.md`, 'non-ASCII name\n');
      disk.put(`${dir}/sub/inner.txt`, 'inner\n');
      disk.mkdir(`${dir}/empty`);

      const listed = new Map(await vscode.workspace.fs.readDirectory(server.uri(dir)));
      const onDisk = new Map([...disk.list(dir)].map(([name, type]) => [name, type === 'directory' ? vscode.FileType.Directory : vscode.FileType.File]));
      assert.deepEqual(new Map([...listed].sort()), new Map([...onDisk].sort()));
    });

    it('reads the exact bytes of a binary file, and stats its size and modification time', async () => {
      const file = `${unique('read')}/blob.bin`;
      // Every byte value, CR/LF included, over more than one network buffer.
      const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300_000)]);
      const mtime = Date.UTC(2024, 1, 29, 12, 34, 56);
      disk.put(file, bytes, mtime);

      const read = await vscode.workspace.fs.readFile(server.uri(file));
      assert.ok(Buffer.from(read).equals(disk.read(file)), `the ${read.byteLength} bytes read differ from the ${bytes.length} on disk`);
      const stat = await vscode.workspace.fs.stat(server.uri(file));
      assert.equal(stat.type, vscode.FileType.File);
      assert.equal(stat.size, bytes.length);
      assert.equal(stat.mtime, mtime, `mtime ${new Date(stat.mtime).toISOString()}, on disk ${new Date(mtime).toISOString()}`);
    });

    it('opens a text document, edits it and saves it onto the server', async () => {
      const file = `${unique('edit')}/index.html`;
      disk.put(file, '<h1>Hello</h1>\n<p>from the server</p>\n');

      const document = await vscode.workspace.openTextDocument(server.uri(file));
      assert.equal(document.getText(), disk.text(file));
      const editor = await vscode.window.showTextDocument(document);
      assert.ok(await editor.edit((edit) => edit.insert(new vscode.Position(1, 0), `<p>edited on ${server.name}</p>\n`)), 'edit applied');
      assert.equal(document.isDirty, true);

      assert.equal(await document.save(), true, 'save succeeded');
      assert.equal(document.isDirty, false);
      assert.equal(disk.text(file), `<h1>Hello</h1>\n<p>edited on ${server.name}</p>\n<p>from the server</p>\n`);
    });

    it('creates a folder and a file, renames the file and deletes it', async () => {
      const dir = unique('ops');
      await vscode.workspace.fs.createDirectory(server.uri(`${dir}/new folder`));
      assert.ok(disk.isDirectory(`${dir}/new folder`), 'folder created on the server');

      await vscode.workspace.fs.writeFile(server.uri(`${dir}/new folder/created.txt`), encode('created through workspace.fs\n'));
      assert.equal(disk.text(`${dir}/new folder/created.txt`), 'created through workspace.fs\n');

      await vscode.workspace.fs.rename(server.uri(`${dir}/new folder/created.txt`), server.uri(`${dir}/renamed.txt`));
      assert.equal(disk.exists(`${dir}/new folder/created.txt`), false, 'old name gone');
      assert.equal(disk.text(`${dir}/renamed.txt`), 'created through workspace.fs\n');

      await vscode.workspace.fs.delete(server.uri(`${dir}/renamed.txt`));
      assert.equal(disk.exists(`${dir}/renamed.txt`), false, 'file deleted');
      assert.deepEqual([...(await vscode.workspace.fs.readDirectory(server.uri(dir)))], [['new folder', vscode.FileType.Directory]]);
    });

    it('deletes a folder with everything in it', async () => {
      const tree = `${unique('delete')}/tree`;
      disk.put(`${tree}/top.txt`, 'top\n');
      disk.put(`${tree}/a/b/c/deep.txt`, 'deep\n');
      disk.put(`${tree}/a/sibling.txt`, 'sibling\n');
      disk.mkdir(`${tree}/a/empty`);

      await vscode.workspace.fs.delete(server.uri(tree), { recursive: true });
      assert.equal(disk.exists(tree), false, `${tree} still on the server: ${disk.exists(tree) ? [...disk.list(tree).keys()].join(', ') : ''}`);
    });

    it('overwrites a file with writeFile, and reports a missing file as FileNotFound', async () => {
      const dir = unique('write');
      disk.put(`${dir}/file.txt`, 'old content, longer than the new\n');
      await vscode.workspace.fs.writeFile(server.uri(`${dir}/file.txt`), encode('new\n'));
      assert.equal(disk.text(`${dir}/file.txt`), 'new\n');

      const missing = server.uri(`${dir}/missing.txt`);
      await expectFileSystemError(vscode.workspace.fs.stat(missing), 'FileNotFound', 'stat of a missing file');
      await expectFileSystemError(vscode.workspace.fs.readFile(missing), 'FileNotFound', 'readFile of a missing file');
      await expectFileSystemError(vscode.workspace.fs.delete(missing), 'FileNotFound', 'delete of a missing file');
      // The editor reports it in its own words, not as a FileSystemError.
      await assert.rejects(Promise.resolve(vscode.workspace.openTextDocument(server.uri(`${dir}/nowhere/file.txt`))), /nonexistent file|not found/i, 'opening a file in a missing folder');
    });

    it('refuses to replace an existing file unless told to overwrite (FileExists), or a folder (FileIsADirectory)', async () => {
      const dir = unique('exists');
      disk.put(`${dir}/source.txt`, 'source\n');
      disk.put(`${dir}/target.txt`, 'target\n');
      disk.mkdir(`${dir}/folder`);

      await expectFileSystemError(vscode.workspace.fs.rename(server.uri(`${dir}/source.txt`), server.uri(`${dir}/target.txt`)), 'FileExists', 'rename onto an existing file');
      await expectFileSystemError(vscode.workspace.fs.copy(server.uri(`${dir}/source.txt`), server.uri(`${dir}/target.txt`)), 'FileExists', 'copy onto an existing file');
      assert.equal(disk.text(`${dir}/target.txt`), 'target\n', 'target untouched');
      assert.equal(disk.text(`${dir}/source.txt`), 'source\n', 'source untouched');
      await expectFileSystemError(vscode.workspace.fs.writeFile(server.uri(`${dir}/folder`), encode('x')), 'FileIsADirectory', 'writeFile onto a folder');
      assert.ok(disk.isDirectory(`${dir}/folder`), 'folder untouched');

      await vscode.workspace.fs.rename(server.uri(`${dir}/source.txt`), server.uri(`${dir}/target.txt`), { overwrite: true });
      assert.equal(disk.text(`${dir}/target.txt`), 'source\n', 'overwritten when asked');
      assert.equal(disk.exists(`${dir}/source.txt`), false);
    });

    it('does not overwrite a change another client made after the document was opened', async () => {
      const file = `${unique('conflict')}/shared.txt`;
      const opened = Date.now() - 120_000;
      disk.put(file, 'first version\n', Math.floor(opened / 1000) * 1000);

      const document = await vscode.workspace.openTextDocument(server.uri(file));
      const editor = await vscode.window.showTextDocument(document);
      // Someone else saves a longer version, a minute later than the one we loaded.
      const theirs = 'their version, saved by another FTP client\n';
      disk.put(file, theirs, Date.now());

      assert.ok(await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), 'my change\n')), 'edit applied');
      const saved = await document.save();
      assert.equal(saved, false, 'the save must fail with a "file is newer" conflict, not overwrite');
      assert.equal(document.isDirty, true, 'my change stays unsaved in the editor');
      assert.equal(disk.text(file), theirs, "the other client's version is still on the server");
    });
  });
}
