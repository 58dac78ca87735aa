/**
 * The extension's public API (`exports` of activate(), src/vscode/api.ts): how scripts and other
 * extensions give a server's password, which the tests themselves rely on. Runs first (file order):
 * when it starts, the workspace's two password servers may already have asked for their passwords.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extensionApi, prepareServers, realServers, unique } from './helpers';

describe('public API: setPassword', function () {
  this.timeout(90_000);

  it('answers the password prompts of two servers that need one at the same time', async () => {
    // Both reads wait for a password (a prompt each, one after the other) until the API gives them.
    const reads = realServers().map((server) => {
      const dir = unique('api');
      server.disk.put(`${dir}/hello.txt`, 'hello\n');
      return Promise.resolve(vscode.workspace.fs.readDirectory(server.uri(dir))).then(
        (entries) => ({ server: server.name, entries }),
        (error: Error) => ({ server: server.name, error: error.message }),
      );
    });
    // A real wait, the script's pause: the passwords must come after the reads began asking for
    // them (the prompts are not observable through the API), not before.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await prepareServers();
    for (const read of await Promise.all(reads)) {
      assert.deepEqual(read, { server: read.server, entries: [['hello.txt', vscode.FileType.File]] });
    }
  });

  it('refuses a password for a server that logs in anonymously, or for an unknown server', async () => {
    const api = await extensionApi();
    await assert.rejects(api.setPassword('demo', 'secret'), /anonymous.*no password/);
    await assert.rejects(api.setPassword('no-such-server', 'secret'), /No FTP server profile named "no-such-server"/);
  });
});
