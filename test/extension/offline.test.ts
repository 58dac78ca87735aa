/**
 * Local deletes and renames made while the link's server cannot be reached (issue 19): kept, told
 * (the report's `waiting`, a notification, the status bar), and done once the server answers again
 * — not lost. The profile `flaky` (setup.ts) reaches vsftpd through a forwarder this test owns on
 * a fixed port: closed, the server is offline (connects refused); open again, it is back.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LocalChangesQuestion, LocalChangesReport } from '../../src/vscode/api';
import { extensionApi, prepareServers, realServer, unique, waitFor } from './helpers';
import { ServerAddress } from '../support/serverAddress';
import { FLAKY_PORT_ENV, FLAKY_PROFILE } from './servers';

describe('linked folder: deletes and renames while the server is offline', function () {
  this.timeout(90_000);
  const vsftpd = realServer('vsftpd');
  const config = () => vscode.workspace.getConfiguration('ftpWorkspace');
  const remoteDir = unique('offline');
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-offline-'));
  const localUri = (rel: string) => vscode.Uri.file(path.join(local, ...rel.split('/')));
  const onServer = (rel: string) => vsftpd.disk.exists(`${remoteDir}/${rel}`);
  const handled: LocalChangesReport[] = [];
  const asked: LocalChangesQuestion[] = [];
  const forwarder = new ServerAddress({ host: '127.0.0.1', port: vsftpd.port }, Number(process.env[FLAKY_PORT_ENV]));

  before(async () => {
    await prepareServers();
    const api = await extensionApi();
    await api.setPassword(FLAKY_PROFILE, vsftpd.password);
    api.onDidHandleLocalChanges((r) => { if (r.local === local) handled.push(r); });
    api.onDidAskAboutLocalChanges((q) => { if (q.local === local) asked.push(q); });
    await forwarder.open();
    await config().update('links', [{ local, remote: `ftp://${FLAKY_PROFILE}/${remoteDir}`, deleteOnServer: 'always', renameOnServer: 'always' }], vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    await config().update('links', undefined, vscode.ConfigurationTarget.Workspace);
    await forwarder.close();
    fs.rmSync(local, { recursive: true, force: true });
  });

  it('are kept while it is down, said to be waiting, and done once it is back (always)', async () => {
    for (const name of ['a.txt', 'b.txt', 'c.txt']) fs.writeFileSync(path.join(local, name), `${name}\n`);
    await vscode.commands.executeCommand('ftpWorkspace.upload', vscode.Uri.file(local));
    for (const name of ['a.txt', 'b.txt', 'c.txt']) assert.ok(onServer(name), `${name} uploaded`);

    await forwarder.close();
    const edit = new vscode.WorkspaceEdit();
    edit.deleteFile(localUri('a.txt'));
    edit.renameFile(localUri('b.txt'), localUri('renamed.txt'));
    assert.ok(await vscode.workspace.applyEdit(edit));
    const waiting = await waitFor(() => handled.find((r) => r.waiting), 'the batch to be kept for the offline server', 30_000);
    assert.equal(waiting.waiting?.count, 2, JSON.stringify(waiting));
    assert.deepEqual([waiting.deleted, waiting.renamed], [[], []]);
    assert.ok(onServer('a.txt') && onServer('b.txt'), 'nothing happened on the server');

    // Another delete while still offline joins the waiting ones.
    const before = handled.length;
    const more = new vscode.WorkspaceEdit();
    more.deleteFile(localUri('c.txt'));
    assert.ok(await vscode.workspace.applyEdit(more));
    await waitFor(() => handled.slice(before).find((r) => r.waiting?.count === 3), 'the next attempt, still offline, with the later delete', 30_000);

    // Back: the next retry (by itself, after a wait) does all three, as one batch.
    await forwarder.open();
    const done = await waitFor(() => handled.find((r) => !r.waiting && (r.deleted.length > 0 || r.renamed.length > 0)), 'the waiting changes to be done once the server is back', 60_000);
    assert.deepEqual(done.deleted, ['a.txt', 'c.txt']);
    assert.deepEqual(done.renamed, [{ from: 'b.txt', to: 'renamed.txt' }]);
    assert.deepEqual(done.failed, []);
    assert.equal(onServer('a.txt') || onServer('c.txt') || onServer('b.txt'), false);
    assert.ok(onServer('renamed.txt'), 'renamed on the server, not deleted');
  });

  it('when they go, a server file changed meanwhile is asked about even under always (Escape keeps it); Retry sends them at once', async () => {
    for (const name of ['d.txt', 'e.txt']) fs.writeFileSync(path.join(local, name), `${name}\n`);
    await vscode.commands.executeCommand('ftpWorkspace.upload', vscode.Uri.file(local));
    assert.ok(onServer('d.txt') && onServer('e.txt'));

    await forwarder.close();
    const from = handled.length;
    const edit = new vscode.WorkspaceEdit();
    edit.deleteFile(localUri('d.txt'));
    edit.deleteFile(localUri('e.txt'));
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitFor(() => handled.slice(from).find((r) => r.waiting?.count === 2), 'the deletes to wait for the server', 30_000);
    // Someone else changes e.txt on the server while this window cannot reach it.
    vsftpd.disk.put(`${remoteDir}/e.txt`, 'changed on the server meanwhile\n');

    await forwarder.open();
    const askedFrom = asked.length;
    const doneFrom = handled.length;
    await vscode.commands.executeCommand('ftpWorkspace.retryUploads');
    const q = await waitFor(() => asked[askedFrom], 'the question about the changed server file', 20_000);
    assert.deepEqual(q.changes, ['delete e.txt']);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    const done = await waitFor(() => handled.slice(doneFrom).find((r) => !r.waiting), 'the batch to be done', 20_000);
    assert.deepEqual(done.deleted, ['d.txt']);
    assert.deepEqual(done.kept, ['delete e.txt']);
    assert.equal(onServer('d.txt'), false);
    assert.equal(vsftpd.disk.text(`${remoteDir}/e.txt`), 'changed on the server meanwhile\n', 'the changed file is kept');
  });

  it('stay waiting when the server\'s connections are closed under them (a setting of its profile changed while connecting), and go later', async () => {
    fs.writeFileSync(path.join(local, 'f.txt'), 'f\n');
    await vscode.commands.executeCommand('ftpWorkspace.upload', vscode.Uri.file(local));
    assert.ok(onServer('f.txt'));

    // A server that accepts and never greets: the batch's connect hangs until the pool is closed.
    await forwarder.close();
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(Number(process.env[FLAKY_PORT_ENV]), '127.0.0.1', resolve));
    const saved = config().get<Array<{ name: string; mode?: string }>>('servers') ?? [];
    try {
      const from = handled.length;
      const edit = new vscode.WorkspaceEdit();
      edit.deleteFile(localUri('f.txt'));
      assert.ok(await vscode.workspace.applyEdit(edit));
      await waitFor(() => held.length > 0, 'the batch to connect', 30_000);
      // A changed profile closes the server's connections, the one still connecting too.
      await config().update('servers', saved.map((p) => (p.name === FLAKY_PROFILE ? { ...p, passiveInAdvance: false } : p)), vscode.ConfigurationTarget.Global);
      const report = await waitFor(() => handled[from], 'the batch to end', 30_000);
      assert.equal(report.waiting?.count, 1, `kept waiting, not dropped: ${JSON.stringify(report)}`);
      assert.ok(onServer('f.txt'));
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await config().update('servers', saved, vscode.ConfigurationTarget.Global);
    }
    await forwarder.open();
    const doneFrom = handled.length;
    await vscode.commands.executeCommand('ftpWorkspace.retryUploads');
    const done = await waitFor(() => handled.slice(doneFrom).find((r) => !r.waiting), 'the delete once the server is back', 30_000);
    assert.deepEqual(done.deleted, ['f.txt']);
    assert.equal(onServer('f.txt'), false);
  });
});
