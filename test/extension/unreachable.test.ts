/**
 * A server that cannot be reached (issue 22), opened the way a user does: `ftp://user@host:PORT/`
 * with nothing listening on PORT. Before: a password prompt before any connect (one per failed
 * attempt), then an empty folder, the reason only in the log, and the refused connect taken for a
 * connection limit. Now: no prompt (nobody to send a password to), every read fails with
 * Unavailable and the reason, one notification per server and failure (observed through the
 * extension's API: notifications cannot be read from the extension host), and the pool keeps its
 * size.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ConnectFailureReport } from '../../src/vscode/api';
import { extensionApi, protocolLog, settledWithin, unusedPort, waitForLog } from './helpers';

function countOf(log: string, text: string): number {
  return log.split('\n').filter((line) => line.includes(text)).length;
}

describe('a server that cannot be reached (nothing listens on its port)', function () {
  this.timeout(60_000);
  const reports: ConnectFailureReport[] = [];
  let subscription: vscode.Disposable | undefined;

  afterEach(async () => {
    subscription?.dispose();
    // If a prompt was opened after all, it must not block the next tests.
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  });

  it('asks for no password, fails every read with Unavailable and the reason, tells the user once, and keeps the pool size', async () => {
    const api = await extensionApi();
    subscription = api.onDidFailToConnect((report) => reports.push(report));
    const port = await unusedPort();
    const label = `nobody@127.0.0.1:${port}`;
    const root = vscode.Uri.parse(`ftp://${label}/`);
    const fs = vscode.workspace.fs;

    // What the Explorer and VS Code do with a new folder: read it and look for files and folders
    // in it, all at once — two connects, as the default pool has room for two.
    const reads = [fs.readDirectory(root), fs.readDirectory(vscode.Uri.joinPath(root, 'www')), fs.stat(vscode.Uri.joinPath(root, '.vscode', 'settings.json'))].map((p) =>
      Promise.resolve(p).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    const failures = await settledWithin(Promise.all(reads), 15_000, 'reading the unreachable folder');
    for (const failure of failures) {
      assert.ok(failure instanceof vscode.FileSystemError, `a read fails with a FileSystemError, got ${String(failure)}`);
      assert.equal(failure.code, 'Unavailable', failure.message);
      assert.match(failure.message, /nothing listens on that port/);
    }

    // Both connects have ended (the log has each) before counting what the user was told.
    const couldNot = `[${label}] could not connect`;
    await waitForLog((log) => countOf(log, couldNot) >= 2, 'both failed connects');
    assert.deepEqual(reports, [{ server: label, kind: 'connect', message: `Could not connect to 127.0.0.1:${port}: nothing listens on that port — check the port and that the FTP server runs.` }]);

    // The Explorer reads again (a refresh, a click): the same failure is not told again.
    const again = await settledWithin(Promise.resolve(fs.readDirectory(root)).then(() => undefined, (error: unknown) => error), 15_000, 'reading it again');
    assert.ok(again instanceof vscode.FileSystemError && again.code === 'Unavailable', String(again));
    await waitForLog((log) => countOf(log, couldNot) >= 3, 'the third failed connect');
    assert.equal(reports.length, 1, 'one notification for the same failure');

    // A refused connect is no connection limit: the pool was not shrunk.
    const log = await protocolLog();
    assert.equal(countOf(log, `[${label}] the server refused another connection`), 0, 'no shrink on a refused connect');
  });
});
