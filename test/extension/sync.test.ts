/**
 * A local folder linked to a folder on vsftpd (`ftpWorkspace.links`, written by setup.ts): upload
 * on save, ignore patterns, the Upload / Download / Sync commands and the retry of failed uploads,
 * in the real extension host. Local files are edited through text documents and saved as a user
 * does; what the server got is read from its folder on this disk.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, prepareServers, protocolLog, realServer, syncAccepting, unique, waitFor, waitForLog } from './helpers';

interface LinkSetting {
  local: string;
  remote: string;
  ignore?: string[];
  uploadOnSave?: boolean;
}

/** The link setup.ts configured: the test folder in FTPW_TEST_LINKED_LOCAL, on the vsftpd profile. */
function testLink(): LinkSetting & { remoteDir: string } {
  const local = process.env.FTPW_TEST_LINKED_LOCAL;
  assert.ok(local, 'FTPW_TEST_LINKED_LOCAL is not set: run through test/vscode/runExtensionTests.ts with test/extension/setup.ts');
  const links = vscode.workspace.getConfiguration('ftpWorkspace').get<LinkSetting[]>('links') ?? [];
  const link = links.find((l) => l.local === local);
  assert.ok(link, `ftpWorkspace.links has no link of ${local}: ${JSON.stringify(links)}`);
  const m = /^ftp:\/\/vsftpd\/(.*)$/.exec(link.remote);
  assert.ok(m, `the test link goes to the vsftpd profile, not ${link.remote}`);
  return { ...link, remoteDir: m[1].replace(/\/+$/, '') };
}

describe('linked local folder ↔ vsftpd (sync)', function () {
  this.timeout(60_000);
  const server = realServer('vsftpd');
  const { disk } = server;
  let link: ReturnType<typeof testLink>;

  /** Paths relative to the link's root, on each side. */
  const localPath = (rel: string) => path.join(link.local, ...rel.split('/'));
  const localUri = (rel: string) => vscode.Uri.file(localPath(rel));
  const remote = (rel: string) => `${link.remoteDir}/${rel}`;
  const putLocal = (rel: string, content: string, mtime?: number) => {
    fs.mkdirSync(path.dirname(localPath(rel)), { recursive: true });
    fs.writeFileSync(localPath(rel), content);
    if (mtime !== undefined) fs.utimesSync(localPath(rel), mtime / 1000, mtime / 1000);
  };
  const onServer = (rel: string) => (disk.exists(remote(rel)) ? disk.text(remote(rel)) : undefined);
  const waitOnServer = (rel: string, content: string, timeoutMs = 10_000) =>
    waitFor(() => onServer(rel) === content, `${remote(rel)} on the server to read ${JSON.stringify(content)} (it reads ${JSON.stringify(onServer(rel))})`, timeoutMs);

  /** Opens a local file, replaces its text in the editor and saves it, as a user does. */
  async function editAndSave(rel: string, text: string): Promise<void> {
    if (!fs.existsSync(localPath(rel))) putLocal(rel, '');
    const document = await vscode.workspace.openTextDocument(localUri(rel));
    const editor = await vscode.window.showTextDocument(document);
    const all = new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length));
    assert.ok(await editor.edit((edit) => edit.replace(all, text)), `edit of ${rel} applied`);
    assert.equal(await document.save(), true, `save of ${rel}`);
    assert.equal(fs.readFileSync(localPath(rel), 'utf8'), text, `${rel} saved on this disk`);
  }

  before(async function () {
    this.timeout(90_000);
    await prepareServers();
    link = testLink();
  });
  afterEach(() => closeAllEditors());

  it('uploads a saved file of the linked folder to the server', async () => {
    const dir = unique('save');
    putLocal(`${dir}/index.html`, '<h1>old</h1>\n');
    assert.equal(onServer(`${dir}/index.html`), undefined, 'writing a file outside the editor uploads nothing');

    await editAndSave(`${dir}/index.html`, '<h1>saved in the editor</h1>\n');
    await waitOnServer(`${dir}/index.html`, '<h1>saved in the editor</h1>\n');

    await editAndSave(`${dir}/index.html`, '<h1>saved again</h1>\n');
    await waitOnServer(`${dir}/index.html`, '<h1>saved again</h1>\n');
  });

  it('does not upload saved files the ignore patterns leave out (*.log, build/, node_modules/)', async () => {
    assert.ok(link.ignore?.includes('*.log') && link.ignore.includes('build/'), `the test link ignores *.log and build/: ${JSON.stringify(link.ignore)}`);
    const dir = unique('ignored');
    const ignored = [`${dir}/debug.log`, `${dir}/build/bundle.js`, `${dir}/node_modules/pkg/index.js`];
    for (const rel of ignored) await editAndSave(rel, `ignored ${rel}\n`);
    // Saved last, uploaded through the same queue: once it is there, the ignored ones had their chance.
    await editAndSave(`${dir}/kept.txt`, 'kept\n');
    await waitOnServer(`${dir}/kept.txt`, 'kept\n');
    // A real wait: a quiet period in which nothing may arrive (an absence has no event to wait for).
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const uploaded = ignored.filter((rel) => disk.exists(remote(rel)));
    assert.deepEqual(uploaded, [], 'ignored files were uploaded');
    assert.deepEqual([...disk.list(remote(dir)).keys()], ['kept.txt']);
  });

  it('Upload of a folder (Uri argument) creates and updates files on the server, deletes nothing, skips ignored ones', async () => {
    const dir = unique('upload');
    const old = Date.UTC(2020, 0, 1);
    disk.put(remote(`${dir}/changed.txt`), 'old on the server\n', old);
    disk.put(remote(`${dir}/only-on-server.txt`), 'stays\n', old);
    putLocal(`${dir}/changed.txt`, 'changed locally\n');
    putLocal(`${dir}/new.txt`, 'new\n');
    putLocal(`${dir}/sub/deeper/nested.txt`, 'nested\n');
    putLocal(`${dir}/trace.log`, 'ignored\n');

    await vscode.commands.executeCommand('ftpWorkspace.upload', localUri(dir));

    assert.equal(onServer(`${dir}/changed.txt`), 'changed locally\n');
    assert.equal(onServer(`${dir}/new.txt`), 'new\n');
    assert.equal(onServer(`${dir}/sub/deeper/nested.txt`), 'nested\n');
    assert.equal(onServer(`${dir}/only-on-server.txt`), 'stays\n', 'Upload never deletes on the server');
    assert.equal(disk.exists(remote(`${dir}/trace.log`)), false, 'ignored file uploaded');
  });

  it('Download of a file and of a folder (Uri argument) brings the server\'s changes here', async () => {
    const dir = unique('download');
    putLocal(`${dir}/page.html`, 'local version\n');
    await vscode.commands.executeCommand('ftpWorkspace.upload', localUri(`${dir}/page.html`));
    assert.equal(onServer(`${dir}/page.html`), 'local version\n');

    // Changed on the server after that sync (a later time than the upload's), not here.
    disk.put(remote(`${dir}/page.html`), 'edited on the server\n', Date.now() + 120_000);
    await vscode.commands.executeCommand('ftpWorkspace.download', localUri(`${dir}/page.html`));
    assert.equal(fs.readFileSync(localPath(`${dir}/page.html`), 'utf8'), 'edited on the server\n');

    disk.put(remote(`${dir}/assets/new.css`), 'body {}\n');
    disk.put(remote(`${dir}/server.log`), 'ignored\n');
    await vscode.commands.executeCommand('ftpWorkspace.download', localUri(dir));
    assert.equal(fs.readFileSync(localPath(`${dir}/assets/new.css`), 'utf8'), 'body {}\n');
    assert.equal(fs.existsSync(localPath(`${dir}/server.log`)), false, 'ignored file downloaded');
  });

  it('Sync Local → Remote does what the accepted preview lists: creates and updates, deletes only when ticked', async () => {
    const dir = unique('sync');
    const old = Date.UTC(2020, 0, 1);
    disk.put(remote(`${dir}/changed.txt`), 'old on the server\n', old);
    disk.put(remote(`${dir}/only-on-server.txt`), 'not ticked, so kept\n', old);
    putLocal(`${dir}/changed.txt`, 'changed locally\n');
    putLocal(`${dir}/added.txt`, 'added\n');

    // The preview is a QuickPick: accepted with Enter's command once it is up (ticked: the recommended actions).
    await syncAccepting('ftpWorkspace.syncToRemote', localUri(dir));

    assert.equal(onServer(`${dir}/changed.txt`), 'changed locally\n');
    assert.equal(onServer(`${dir}/added.txt`), 'added\n');
    assert.equal(onServer(`${dir}/only-on-server.txt`), 'not ticked, so kept\n', 'a deletion is never ticked by default');
  });

  it('Sync Remote → Local brings new and changed files here, deletes nothing unticked, and a second sync has nothing to do', async () => {
    const dir = unique('pull');
    const old = Date.UTC(2020, 0, 1);
    putLocal(`${dir}/changed.txt`, 'old here\n', old);
    putLocal(`${dir}/only-here.txt`, 'not ticked, so kept\n', old);
    disk.put(remote(`${dir}/changed.txt`), 'changed on the server\n');
    disk.put(remote(`${dir}/nested/added.txt`), 'added on the server\n');
    disk.put(remote(`${dir}/server.log`), 'ignored\n');

    await syncAccepting('ftpWorkspace.syncToLocal', localUri(dir));

    assert.equal(fs.readFileSync(localPath(`${dir}/changed.txt`), 'utf8'), 'changed on the server\n');
    assert.equal(fs.readFileSync(localPath(`${dir}/nested/added.txt`), 'utf8'), 'added on the server\n');
    assert.equal(fs.readFileSync(localPath(`${dir}/only-here.txt`), 'utf8'), 'not ticked, so kept\n', 'a deletion is never ticked by default');
    assert.equal(fs.existsSync(localPath(`${dir}/server.log`)), false, 'ignored file downloaded');

    // The record of that sync makes the two sides equal but for the unticked deletion: a second
    // sync changes nothing, whatever its preview offers.
    const before = fs.statSync(localPath(`${dir}/changed.txt`)).mtimeMs;
    await syncAccepting('ftpWorkspace.syncToLocal', localUri(dir));
    assert.equal(fs.statSync(localPath(`${dir}/changed.txt`)).mtimeMs, before, 'downloaded again');
    assert.equal(fs.existsSync(localPath(`${dir}/only-here.txt`)), true);
  });

  it('Compare with Remote opens the diff editor: the server\'s copy on the left, the local file on the right', async () => {
    const dir = unique('compare');
    putLocal(`${dir}/style.css`, 'body { color: red; }\n');
    disk.put(remote(`${dir}/style.css`), 'body { color: blue; }\n');

    await vscode.commands.executeCommand('ftpWorkspace.compareWithRemote', localUri(`${dir}/style.css`));

    const tab = await waitFor(() => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff ? input : undefined;
    }, 'a diff editor to open');
    assert.equal(tab.original.toString(), server.uri(remote(`${dir}/style.css`)).toString(), 'left: the ftp:// twin');
    assert.equal(tab.modified.fsPath, localPath(`${dir}/style.css`), 'right: the local file');
    const left = await vscode.workspace.openTextDocument(tab.original);
    assert.equal(left.getText(), 'body { color: blue; }\n', 'the left side shows the server\'s copy');
  });

  it('an open ftp:// editor of a linked file shows what upload on save put on the server', async () => {
    const dir = unique('twin');
    disk.put(remote(`${dir}/page.html`), 'before\n');
    putLocal(`${dir}/page.html`, 'before\n');
    const twin = await vscode.workspace.openTextDocument(server.uri(remote(`${dir}/page.html`)));
    assert.equal(twin.getText(), 'before\n');

    await editAndSave(`${dir}/page.html`, 'after the save\n');
    await waitOnServer(`${dir}/page.html`, 'after the save\n');
    // No polling is set up (ftpWorkspace.pollInterval is 0): only the extension's own change event reloads it.
    await waitFor(() => twin.getText() === 'after the save\n', `the ftp:// document to reload (it shows ${JSON.stringify(twin.getText())})`);
  });

  it('uploads a saved notebook of the linked folder too', async () => {
    const dir = unique('notebook');
    putLocal(`${dir}/analysis.ipynb`, JSON.stringify({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 }));
    const notebook = await vscode.workspace.openNotebookDocument(localUri(`${dir}/analysis.ipynb`));
    const edit = new vscode.WorkspaceEdit();
    edit.set(notebook.uri, [vscode.NotebookEdit.insertCells(0, [new vscode.NotebookCellData(vscode.NotebookCellKind.Markup, '# saved from a notebook', 'markdown')])]);
    assert.ok(await vscode.workspace.applyEdit(edit), 'notebook edit applied');
    assert.equal(await notebook.save(), true, 'notebook saved');
    await waitFor(() => onServer(`${dir}/analysis.ipynb`)?.includes('# saved from a notebook'), `the notebook on the server (it has ${JSON.stringify(onServer(`${dir}/analysis.ipynb`))})`, 10_000);
  });

  it('uploads a file saved in a custom editor (no text document, no save event) too', async () => {
    // The bytes editor of test/fixtures/custom-editor saves as image and hex editors do: through
    // vscode.workspace.fs, with nothing but its tab's dirty mark to show the save.
    const rel = `${unique('custom')}/picture.bytes`;
    putLocal(rel, 'before;');
    const uri = localUri(rel);
    await vscode.commands.executeCommand('vscode.openWith', uri, 'ftpwTest.bytes');
    const tab = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.toString() === uri.toString());
    await waitFor(() => tab(), `a custom-editor tab of ${rel}`);
    await vscode.commands.executeCommand('ftpwTest.bytes.append', uri, 'drawn;');
    await waitFor(() => tab()?.isDirty, `the tab of ${rel} to be dirty`);
    await vscode.commands.executeCommand('workbench.action.files.save');
    await waitFor(() => tab()?.isDirty === false && fs.readFileSync(localPath(rel), 'utf8') === 'before;drawn;', `${rel} saved by the custom editor`);
    await waitOnServer(rel, 'before;drawn;');

    // Reverted, the tab is clean again without a save: nothing may be uploaded.
    const stors = async () => (await protocolLog()).split('\n').filter((line) => line.includes(`> STOR /${link.remoteDir}/${path.posix.dirname(rel)}/`)).length;
    const before = await waitFor(async () => (await stors()) || false, `the upload's STOR in the protocol log`);
    await vscode.commands.executeCommand('ftpwTest.bytes.append', uri, 'reverted;');
    await waitFor(() => tab()?.isDirty, `the tab of ${rel} dirty again`);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await waitFor(() => tab()?.isDirty === false, `the tab of ${rel} reverted`);
    // A real wait: a quiet period in which no STOR may come (an absence has no event to wait for).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await stors(), before, 'a revert uploaded the file');
    assert.equal(onServer(rel), 'before;drawn;');
  });

  it('keeps a failed upload pending and uploads it on Retry Failed Uploads', async () => {
    const dir = unique('retry');
    disk.mkdir(remote(dir));
    putLocal(`${dir}/note.txt`, '');
    // The FTP user cannot write into a folder only root may change: the upload fails on the server.
    fs.chmodSync(disk.path(remote(dir)), 0o555);
    try {
      await editAndSave(`${dir}/note.txt`, 'written while the server refused\n');
      const stor = new RegExp(`\\[([^\\]]+)\\] > STOR /${link.remoteDir}/${dir}/`);
      await waitForLog((log) => refused(log, stor), `a refused STOR into /${link.remoteDir}/${dir}/`);
      // A real wait: give the queue a moment to record the failure (not observable from a test);
      // nothing may arrive meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(onServer(`${dir}/note.txt`), undefined);
    } finally {
      fs.chmodSync(disk.path(remote(dir)), 0o755);
    }
    // Nothing retries it by itself (no save, no command): still missing a while later. A real
    // wait: the user's pause before Retry, and the absence under test has no event.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(onServer(`${dir}/note.txt`), undefined, 'uploaded without a retry');

    await vscode.commands.executeCommand('ftpWorkspace.retryUploads');
    await waitOnServer(`${dir}/note.txt`, 'written while the server refused\n');
  });

  it('uploads a save that failed under a wrong server profile once the profile is fixed, without another save', async () => {
    const dir = unique('profile');
    disk.mkdir(remote(dir));
    const config = () => vscode.workspace.getConfiguration('ftpWorkspace');
    const profiles = config().inspect<Array<{ name: string; security?: string }>>('servers')?.globalValue ?? [];
    assert.ok(profiles.some((p) => p.name === 'vsftpd'), 'the vsftpd profile is in the user settings');
    // FTPS asked of a server without it: every login fails at AUTH TLS (same host, port and user,
    // so the stored password still applies and nobody is asked for one).
    await config().update('servers', profiles.map((p) => (p.name === 'vsftpd' ? { ...p, security: 'explicit' } : p)), vscode.ConfigurationTarget.Global);
    try {
      await editAndSave(`${dir}/note.txt`, 'saved while the profile was wrong\n');
      await waitForLog((log) => /\] > AUTH TLS/.test(log), 'an AUTH TLS in the log');
      // A real wait: the user's pause before fixing the profile; nothing may arrive meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(onServer(`${dir}/note.txt`), undefined);
    } finally {
      await config().update('servers', profiles, vscode.ConfigurationTarget.Global);
    }
    // Fixed: no save, no Retry — the pending upload goes under the new settings.
    await waitOnServer(`${dir}/note.txt`, 'saved while the profile was wrong\n');
  });
});

/** The log shows a STOR matching `stor` answered with a 5xx reply on the same connection. */
function refused(log: string, stor: RegExp): boolean {
  const lines = log.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const id = stor.exec(lines[i])?.[1];
    if (!id) continue;
    for (let j = i + 1; j < lines.length; j++) {
      // Only this connection's replies count: data-channel notes may come between command and reply.
      if (!lines[j].includes(`[${id}]`) || !/\] < \d\d\d/.test(lines[j])) continue;
      if (/\] < 5\d\d/.test(lines[j])) return true;
      if (/\] < [12]\d\d/.test(lines[j])) continue;
      break;
    }
  }
  return false;
}
