/**
 * A delete made in the last second before the window closes (still in its batch, not yet asked
 * about) is not lost: the window's LocalChangesToServer is disposed as on deactivation, and the
 * next one (the next activation) hands it over and does it. The class under test runs in the real
 * extension host with a real link read from the settings and a real session to vsftpd; only its
 * host — which the extension's SyncController is — is wired here, so that two "windows" can share
 * one storage folder.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FtpClient } from '../../src/ftp/client';
import { ConnectionPool } from '../../src/ftp/pool';
import { RemoteFs } from '../../src/remote/remoteFs';
import { RemoteDirs } from '../../src/sync/remoteDirs';
import { SyncState } from '../../src/sync/state';
import { LocalChangesToServer, type LocalChangesHost, type LocalChangesReport } from '../../src/vscode/sync/localChanges';
import { readLinks, type Link } from '../../src/vscode/sync/links';
import { prepareServers, realServer, unique, waitFor } from './helpers';

describe('linked folder: a delete in the last second before the window closes', function () {
  this.timeout(60_000);
  const vsftpd = realServer('vsftpd');
  const config = () => vscode.workspace.getConfiguration('ftpWorkspace');
  const remoteDir = unique('closing');
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-closing-'));
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-closing-storage-'));
  let remote: RemoteFs;
  let link: Link;
  let state: Promise<SyncState>;

  const host = (): LocalChangesHost => ({
    links: () => [link],
    pendingFile: (l) => path.join(storage, `${l.id}.pending.json`),
    waitingChanged: () => undefined,
    sideOf: async () => ({ side: { localRoot: local, remoteRoot: `/${remoteDir}`, remote, state: await state, dirs: new RemoteDirs(remote) } }),
    stateOf: () => state,
    upload: async () => undefined,
    remoteChanged: () => undefined,
    explain: () => undefined,
  });

  before(async () => {
    await prepareServers();
    const user = config().get<{ name: string; user: string }[]>('servers')?.find((s) => s.name === 'vsftpd')?.user;
    assert.ok(user, 'the vsftpd profile');
    remote = new RemoteFs(new ConnectionPool<FtpClient>((mode) => FtpClient.connect({ host: '127.0.0.1', port: vsftpd.port, user, password: vsftpd.password, mode }), { mode: 'passive' }));
    await config().update('links', [{ local, remote: `ftp://vsftpd/${remoteDir}`, deleteOnServer: 'always' }], vscode.ConfigurationTarget.Workspace);
    link = readLinks().links.find((l) => l.localRoot === local)!;
    assert.ok(link, 'the link read from the settings');
    state = SyncState.load(path.join(storage, 'record.json'), 'test');
  });
  after(async () => {
    await config().update('links', undefined, vscode.ConfigurationTarget.Workspace);
    await remote.pool.close();
    for (const dir of [local, storage]) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is kept on disk when the window closes, and done by the next activation', async () => {
    // On the server and in the record as synced.
    vsftpd.disk.put(`${remoteDir}/gone.txt`, 'bye\n');
    const entry = (await remote.list(`/${remoteDir}`, { fresh: true })).find((e) => e.name === 'gone.txt')!;
    (await state).set('gone.txt', { local: { size: 4 }, remote: { size: entry.size, mtime: entry.mtime } });

    const firstReports: LocalChangesReport[] = [];
    const first = new LocalChangesToServer(host());
    first.onDidHandle((r) => firstReports.push(r));
    first.add({ kind: 'deleted', path: path.join(local, 'gone.txt') });
    // The window closes within the batch's quiet second.
    first.dispose();
    assert.deepEqual(firstReports, []);
    assert.ok(vsftpd.disk.exists(`${remoteDir}/gone.txt`), 'not done by the closing window');
    assert.ok(fs.existsSync(path.join(storage, `${link.id}.pending.json`)), 'kept on disk');

    const reports: LocalChangesReport[] = [];
    const second = new LocalChangesToServer(host());
    second.onDidHandle((r) => reports.push(r));
    try {
      second.restore();
      const report = await waitFor(() => reports[0], 'the next activation to hand the kept delete over', 20_000);
      assert.deepEqual(report.deleted, ['gone.txt']);
      assert.equal(vsftpd.disk.exists(`${remoteDir}/gone.txt`), false);
      await waitFor(() => !fs.existsSync(path.join(storage, `${link.id}.pending.json`)), 'the settled change to leave the file');
    } finally {
      second.dispose();
    }
  });
});
