/**
 * Explorer copies of a big file through VS Code's file service (vscode.workspace.fs.copy: what
 * the Explorer's copy and paste and drag with Ctrl run), each cut at a random offset by dropping
 * the control connection: local folder → ftp:// (the provider's writeFile with the bytes), ftp://
 * → ftp:// on one server (the provider's copy), ftp:// → local folder (the provider's readFile
 * after VS Code's stat). Each must go on from where it stopped (REST in the log) and arrive
 * byte-identical. The profile `flaky` reaches vsftpd through a forwarder this test owns.
 */
import * as assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { extensionApi, prepareServers, protocolLog, realServer, unique, waitForLog } from './helpers';
import { ServerAddress } from '../support/serverAddress';
import { FLAKY_PORT_ENV, FLAKY_PROFILE } from './servers';

const SIZE = 6 * 1024 * 1024 + 4321;

describe('Explorer copies of a big file go on after a cut (vsftpd, VS Code\'s file service)', function () {
  this.timeout(90_000);
  const vsftpd = realServer('vsftpd');
  const dir = unique('copies');
  const data = randomBytes(SIZE);
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-copies-'));
  const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-spool-'));
  const forwarder = new ServerAddress({ host: '127.0.0.1', port: vsftpd.port }, Number(process.env[FLAKY_PORT_ENV]));
  const flaky = (rel: string) => vscode.Uri.from({ scheme: 'ftp', authority: FLAKY_PROFILE, path: `/${dir}/${rel}` });
  let tmpBefore: string | undefined;

  /** Cuts the connections once `size()` reaches a random offset; resolves with that offset (bounded poll). */
  async function cutWhen(size: () => number, until: Promise<unknown>): Promise<number | undefined> {
    const at = randomInt(256 * 1024, SIZE - 256 * 1024);
    let done = false;
    void until.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      const now = size();
      if (now >= at) {
        forwarder.cut();
        return now;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return undefined;
  }
  const sizeOf = (file: string) => fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  /** The extension's temporary file (it runs in this process, so its os.tmpdir() is `spool`). */
  const spooled = () => {
    for (const d of fs.readdirSync(spool)) {
      const size = sizeOf(path.join(spool, d, 'data'));
      if (size > 0) return size;
    }
    return 0;
  };
  /** REST commands in the log (lines carry the connection's id, not the profile: counted before and after). */
  const rests = (log: string) => log.split('\n').filter((l) => / > REST [1-9]/.test(l)).length;

  before(async () => {
    await prepareServers();
    const api = await extensionApi();
    await api.setPassword(FLAKY_PROFILE, vsftpd.password);
    await forwarder.open();
    vsftpd.disk.mkdir(dir);
    fs.writeFileSync(path.join(local, 'big.bin'), data);
    tmpBefore = process.env.TMPDIR;
    process.env.TMPDIR = spool;
  });
  after(async () => {
    if (tmpBefore === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpBefore;
    await forwarder.close();
    for (const d of [local, spool]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('local folder → ftp://: byte-identical after a cut, gone on with REST', async () => {
    const restsBefore = rests(await protocolLog());
    const copy = Promise.resolve(vscode.workspace.fs.copy(vscode.Uri.file(path.join(local, 'big.bin')), flaky('big.bin')));
    const cutAt = await cutWhen(() => sizeOf(vsftpd.disk.path(`${dir}/big.bin`)), copy);
    await copy;
    assert.ok(cutAt !== undefined, 'the upload was cut on its way');
    assert.ok(vsftpd.disk.read(`${dir}/big.bin`).equals(data), `not identical after a cut at ${cutAt}`);
    // The log reaches the Output panel in batches.
    await waitForLog((log) => rests(log) > restsBefore, 'a REST after the cut');
  });

  it('ftp:// → ftp:// on one server (the provider\'s copy): both legs cut, byte-identical', async () => {
    const copy = Promise.resolve(vscode.workspace.fs.copy(flaky('big.bin'), flaky('copy.bin')));
    const down = await cutWhen(spooled, copy);
    const up = await cutWhen(() => sizeOf(vsftpd.disk.path(`${dir}/copy.bin`)), copy);
    await copy;
    assert.ok(down !== undefined && up !== undefined, `both legs cut: download at ${down}, upload at ${up}`);
    assert.ok(vsftpd.disk.read(`${dir}/copy.bin`).equals(data));
    assert.deepEqual(fs.readdirSync(spool), [], 'no temporary file left');
    assert.deepEqual([...vsftpd.disk.list(dir).keys()].filter((n) => n.includes('.ftpw-')), []);
  });

  it('ftp:// → local folder: byte-identical after a cut', async () => {
    const target = path.join(local, 'back.bin');
    const copy = Promise.resolve(vscode.workspace.fs.copy(flaky('copy.bin'), vscode.Uri.file(target)));
    const cutAt = await cutWhen(spooled, copy);
    await copy;
    assert.ok(cutAt !== undefined, 'the download was cut on its way');
    assert.ok(fs.readFileSync(target).equals(data), `not identical after a cut at ${cutAt}`);
    assert.deepEqual(fs.readdirSync(spool), [], 'no temporary file left');
  });
});
