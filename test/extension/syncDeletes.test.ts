/**
 * Local deletes and renames of the linked folder (setup.ts links it to vsftpd) reaching the
 * server, in the real extension host: Explorer operations (workspace edits, which fire the same
 * events as the Explorer), and other programs' with uploadOnChange. The question is the real quick
 * pick, answered with the workbench's own quick-input commands once the API says it is up; what
 * the server got is read from its folder on this disk.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LocalChangesQuestion, LocalChangesReport } from '../../src/vscode/api';
import { closeAllEditors, extensionApi, prepareServers, realServer, unique, waitFor, waitForLog } from './helpers';

interface LinkSetting {
  local: string;
  remote: string;
  [key: string]: unknown;
}

describe('linked folder: deletes and renames reach vsftpd', function () {
  this.timeout(60_000);
  const { disk } = realServer('vsftpd');
  const config = () => vscode.workspace.getConfiguration('ftpWorkspace');
  /** A link of its own, in the workspace settings: writing the user settings from the extension host
   * makes code-server drop the machine-overridable ones (the server profiles) until reload. */
  const remoteDir = unique('deletes');
  let link: LinkSetting;
  const asked: LocalChangesQuestion[] = [];
  const handled: LocalChangesReport[] = [];

  const localPath = (rel: string) => path.join(link.local, ...rel.split('/'));
  const localUri = (rel: string) => vscode.Uri.file(localPath(rel));
  const remote = (rel: string) => `${remoteDir}/${rel}`;
  const onServer = (rel: string) => disk.exists(remote(rel));
  const putLocal = (rel: string, content: string) => {
    fs.mkdirSync(path.dirname(localPath(rel)), { recursive: true });
    fs.writeFileSync(localPath(rel), content);
  };
  const workspaceLinks = () => config().inspect<LinkSetting[]>('links')?.workspaceValue ?? [];

  /** The test link with these settings on top, as a user edits them. */
  async function linkWith(extra: Record<string, unknown>): Promise<void> {
    await config().update('links', [{ ...link, ...extra }], vscode.ConfigurationTarget.Workspace);
  }

  /** Files made here and uploaded with the Upload command, so the record knows them as synced. */
  async function seed(dir: string, files: Record<string, string>): Promise<void> {
    for (const [rel, content] of Object.entries(files)) putLocal(`${dir}/${rel}`, content);
    await vscode.commands.executeCommand('ftpWorkspace.upload', localUri(dir));
    for (const rel of Object.keys(files)) assert.ok(onServer(`${dir}/${rel}`), `${dir}/${rel} uploaded`);
  }

  /** Deletes and renames as the Explorer does: one workspace edit. */
  async function explorer(ops: { delete?: string[]; rename?: [string, string][] }): Promise<void> {
    const edit = new vscode.WorkspaceEdit();
    for (const rel of ops.delete ?? []) edit.deleteFile(localUri(rel), { recursive: true });
    for (const [from, to] of ops.rename ?? []) edit.renameFile(localUri(from), localUri(to));
    assert.ok(await vscode.workspace.applyEdit(edit), 'workspace edit applied');
  }

  /** The next batch of `dir` handled (its report). */
  function nextReport(dir: string, from = handled.length): Promise<LocalChangesReport> {
    return waitFor(() => handled.slice(from).find((r) => JSON.stringify(r).includes(dir)), `the local changes in ${dir} to be handled`, 20_000);
  }

  /** The question about `dir`, once shown. */
  function question(dir: string, from = asked.length): Promise<LocalChangesQuestion> {
    return waitFor(() => asked.slice(from).find((q) => q.changes.some((c) => c.includes(dir))), `the question about ${dir}`, 20_000).catch((error: Error) => {
      throw new Error(`${error.message}; batches handled meanwhile: ${JSON.stringify(handled.filter((r) => JSON.stringify(r).includes(dir)))}`);
    });
  }

  before(async function () {
    this.timeout(90_000);
    await prepareServers();
    const api = await extensionApi();
    api.onDidAskAboutLocalChanges((q) => asked.push(q));
    api.onDidHandleLocalChanges((r) => handled.push(r));
    link = { local: fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-deletes-')), remote: `ftp://vsftpd/${remoteDir}`, ignore: ['*.log'] };
  });
  beforeEach(() => linkWith({}));
  afterEach(async () => {
    await config().update('links', undefined, vscode.ConfigurationTarget.Workspace);
    await closeAllEditors();
  });
  after(() => fs.rmSync(link.local, { recursive: true, force: true }));

  it('ask: one question for a file and a folder deleted together, listing both; "Delete on Server" deletes them there', async () => {
    const dir = unique('ask-delete');
    await seed(dir, { 'a.txt': 'a\n', 'keep.txt': 'keep\n', 'sub/b.txt': 'b\n', 'sub/deep/c.txt': 'c\n' });
    const from = asked.length;
    await explorer({ delete: [`${dir}/a.txt`, `${dir}/sub`] });

    const q = await question(dir, from);
    assert.deepEqual(q.changes, [`delete ${dir}/a.txt`, `delete ${dir}/sub/`]);
    assert.deepEqual(q.choices, ['Delete on Server', 'Keep on Server', 'Always for this link']);
    assert.ok(onServer(`${dir}/a.txt`), 'nothing deleted before the answer');
    const report = nextReport(dir);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    assert.deepEqual((await report).deleted, [`${dir}/a.txt`, `${dir}/sub`]);
    assert.equal(onServer(`${dir}/a.txt`), false);
    assert.equal(onServer(`${dir}/sub`), false, 'the folder is gone with its sub-folder');
    assert.ok(onServer(`${dir}/keep.txt`), 'nothing else touched');
    assert.equal(asked.length, from + 1, 'one question');
  });

  it('ask: Escape (or "Keep on Server") leaves the server as it is', async () => {
    const dir = unique('ask-keep');
    await seed(dir, { 'a.txt': 'a\n' });
    const from = asked.length;
    await explorer({ delete: [`${dir}/a.txt`] });
    await question(dir, from);
    const report = nextReport(dir);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.deepEqual((await report).kept, [`delete ${dir}/a.txt`]);
    assert.ok(onServer(`${dir}/a.txt`));
  });

  it('ask: "Always for this link" deletes now, writes deleteOnServer: "always" into the link, and the next delete is not asked', async () => {
    const dir = unique('ask-always');
    await seed(dir, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    let from = asked.length;
    await explorer({ delete: [`${dir}/a.txt`] });
    await question(dir, from);
    let report = nextReport(dir);
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const first = await report;
    assert.deepEqual(first.deleted, [`${dir}/a.txt`], JSON.stringify(first));
    assert.equal(onServer(`${dir}/a.txt`), false);
    const now = workspaceLinks().find((l) => l.local === link.local);
    assert.equal(now?.deleteOnServer, 'always', `the link's setting: ${JSON.stringify(now)}`);

    from = asked.length;
    report = nextReport(dir);
    await explorer({ delete: [`${dir}/b.txt`] });
    assert.deepEqual((await report).deleted, [`${dir}/b.txt`]);
    assert.equal(onServer(`${dir}/b.txt`), false);
    assert.equal(asked.length, from, 'not asked again');
  });

  it('always: deleted without a question — but a file changed on the server since the last sync is asked about, and kept on Escape', async () => {
    await linkWith({ deleteOnServer: 'always' });
    const dir = unique('always');
    await seed(dir, { 'plain.txt': 'plain\n', 'edited.txt': 'edited\n' });
    disk.put(remote(`${dir}/edited.txt`), 'edited on the server by someone else\n', Date.now() + 120_000);
    const from = asked.length;
    const report = nextReport(dir);
    await explorer({ delete: [`${dir}/plain.txt`, `${dir}/edited.txt`] });
    const q = await question(dir, from);
    assert.deepEqual(q.changes, [`delete ${dir}/edited.txt`], 'only the changed file is asked about');
    assert.deepEqual(q.choices, ['Delete on Server', 'Keep on Server']);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    const r = await report;
    assert.deepEqual([r.deleted, r.kept], [[`${dir}/plain.txt`], [`delete ${dir}/edited.txt`]]);
    assert.equal(onServer(`${dir}/plain.txt`), false);
    assert.equal(disk.text(remote(`${dir}/edited.txt`)), 'edited on the server by someone else\n');
  });

  it('never: nothing is deleted or renamed on the server, and nothing asked', async () => {
    await linkWith({ deleteOnServer: 'never', renameOnServer: 'never' });
    const dir = unique('never');
    await seed(dir, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const from = asked.length;
    const report = nextReport(dir);
    await explorer({ delete: [`${dir}/a.txt`], rename: [[`${dir}/b.txt`, `${dir}/c.txt`]] });
    assert.deepEqual((await report).kept, [`delete ${dir}/a.txt`, `rename ${dir}/b.txt → ${dir}/c.txt`]);
    assert.ok(onServer(`${dir}/a.txt`) && onServer(`${dir}/b.txt`) && !onServer(`${dir}/c.txt`));
    assert.equal(asked.length, from);
  });

  it('rename of a file and of a folder: RNFR/RNTO on the server (asked, then "Rename on Server"), no upload', async () => {
    const dir = unique('rename');
    await seed(dir, { 'old.txt': 'old\n', 'folder/inner.txt': 'inner\n' });
    const from = asked.length;
    await explorer({ rename: [[`${dir}/old.txt`, `${dir}/new.txt`], [`${dir}/folder`, `${dir}/moved`]] });
    const q = await question(dir, from);
    assert.deepEqual(q.changes, [`rename ${dir}/folder/ → ${dir}/moved/`, `rename ${dir}/old.txt → ${dir}/new.txt`]);
    assert.equal(q.choices[0], 'Rename on Server');
    const report = nextReport(dir);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    assert.equal((await report).renamed.length, 2);
    assert.equal(disk.text(remote(`${dir}/new.txt`)), 'old\n');
    assert.equal(disk.text(remote(`${dir}/moved/inner.txt`)), 'inner\n');
    assert.ok(!onServer(`${dir}/old.txt`) && !onServer(`${dir}/folder`));
    // The log reaches the Output panel in batches: wait for both renames to show.
    const log = await waitForLog((text) => text.includes(`> RNTO /${remoteDir}/${dir}/new.txt`) && text.includes(`> RNTO /${remoteDir}/${dir}/moved`), 'both RNTOs');
    assert.doesNotMatch(log, new RegExp(`> STOR /${remoteDir}/${dir}/(new|moved)`), 'renamed, not uploaded again');
  });

  it('a move into an ignored path is a delete (asked); a move in from outside the link is an upload', async () => {
    const dir = unique('in-out');
    await seed(dir, { 'trace.txt': 'trace\n' });
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'brought.txt'), 'brought in\n');
      const from = asked.length;
      const edit = new vscode.WorkspaceEdit();
      edit.renameFile(localUri(`${dir}/trace.txt`), localUri(`${dir}/trace.log`));
      edit.renameFile(vscode.Uri.file(path.join(outside, 'brought.txt')), localUri(`${dir}/brought.txt`));
      assert.ok(await vscode.workspace.applyEdit(edit));
      const q = await question(dir, from);
      assert.deepEqual(q.changes, [`delete ${dir}/trace.txt`]);
      const report = nextReport(dir);
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      const r = await report;
      assert.deepEqual([r.deleted, r.uploaded], [[`${dir}/trace.txt`], [`${dir}/brought.txt`]]);
      assert.equal(onServer(`${dir}/trace.txt`), false);
      assert.equal(onServer(`${dir}/trace.log`), false, 'the ignored name is not uploaded');
      await waitFor(() => onServer(`${dir}/brought.txt`) && disk.text(remote(`${dir}/brought.txt`)) === 'brought in\n', `${dir}/brought.txt uploaded`);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('uploadOnChange: a burst of deletes and a move by another program (as in a git checkout) is one question, then done', async () => {
    await linkWith({ uploadOnChange: true, renameOnServer: 'always' });
    const dir = unique('program');
    await seed(dir, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'lib/c.js': 'c\n', 'docs/readme.md': 'readme\n' });
    const from = asked.length;
    // Another program: plain file system calls, no editor involved.
    fs.rmSync(localPath(`${dir}/a.txt`));
    fs.rmSync(localPath(`${dir}/b.txt`));
    fs.rmSync(localPath(`${dir}/lib`), { recursive: true });
    fs.renameSync(localPath(`${dir}/docs/readme.md`), localPath(`${dir}/README.md`));
    const q = await question(dir, from);
    assert.deepEqual(q.changes, [`delete ${dir}/a.txt`, `delete ${dir}/b.txt`, `delete ${dir}/lib/`]);
    const report = nextReport(dir);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const r = await report;
    assert.deepEqual(r.renamed, [{ from: `${dir}/docs/readme.md`, to: `${dir}/README.md` }], 'the move is recognised as one');
    assert.ok(!onServer(`${dir}/a.txt`) && !onServer(`${dir}/b.txt`) && !onServer(`${dir}/lib`));
    assert.equal(disk.text(remote(`${dir}/README.md`)), 'readme\n');
    assert.equal(asked.length, from + 1, 'one question for the burst');
  });
});
