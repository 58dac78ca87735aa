/**
 * FTP: Go to File… in the real extension host: the quick pick is VS Code's own, driven as a user
 * drives it (the command opens it with text typed in, `workbench.action.acceptSelectedQuickOpenItem`
 * is Enter), over files put on the real vsftpd server's disk, which the index has to find by
 * walking the server.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { closeAllEditors, extensionApi, prepareServers, protocolLog, realServer, unique, waitFor, waitForLog } from './helpers';

/** Presses Enter in the open quick pick until the active editor shows `uri` (the index fills in while walking). */
async function acceptUntilOpen(uri: vscode.Uri, what: string): Promise<vscode.TextEditor> {
  return waitFor(async () => {
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const editor = vscode.window.activeTextEditor;
    return editor?.document.uri.toString() === uri.toString() ? editor : undefined;
  }, what, 30_000);
}

describe('FTP: Go to File… (real server)', function () {
  this.timeout(60_000);
  const server = realServer('vsftpd');
  before(function () {
    this.timeout(90_000);
    return prepareServers();
  });
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await closeAllEditors();
  });

  it('finds a file deep in the tree by fuzzy name and opens it on Enter', async () => {
    const dir = unique('goto');
    const name = `${unique('deepfile')}.txt`;
    for (let i = 0; i < 5; i++) server.disk.put(`${dir}/other${i}/note${i}.txt`, `${i}\n`);
    server.disk.put(`${dir}/a/b/c/${name}`, 'found me\nsecond line\n');
    // A new walk: the file was put on disk behind the index's back (another client).
    await vscode.commands.executeCommand('ftpWorkspace.refreshSearchIndex');
    // Typed as Quick Open takes it: the name's letters, not the whole name.
    await vscode.commands.executeCommand('ftpWorkspace.goToFile', { query: name.replace(/\.txt$/, '').replace('-', ' ') });
    const editor = await acceptUntilOpen(server.uri(`${dir}/a/b/c/${name}`), `Go to File to open ${name}`);
    assert.equal(editor.document.getText(), 'found me\nsecond line\n');
  });

  it('opens at the line given after a colon, and from the Explorer\'s menu searches only that folder', async () => {
    const dir = unique('goto-scope');
    const name = `${unique('twin')}.txt`;
    server.disk.put(`${dir}/left/${name}`, 'left\n');
    server.disk.put(`${dir}/right/${name}`, 'right 1\nright 2\nright 3\n');
    await vscode.commands.executeCommand('ftpWorkspace.refreshSearchIndex');
    // The Explorer passes the folder's URI; the text is typed after.
    await vscode.commands.executeCommand('ftpWorkspace.goToFile', { folder: server.uri(`${dir}/right`), query: `${name}:3` });
    const editor = await acceptUntilOpen(server.uri(`${dir}/right/${name}`), 'Go to File in the right folder');
    assert.equal(editor.selection.active.line, 2, 'the cursor is on line 3');
  });

  it('knows a file the editor saved without walking the server again', async () => {
    const dir = unique('goto-save');
    server.disk.put(`${dir}/existing.txt`, 'x\n');
    await vscode.commands.executeCommand('ftpWorkspace.refreshSearchIndex');
    const name = `${unique('saved')}.md`;
    const uri = server.uri(`${dir}/${name}`);
    // The log reaches the Output panel in batches: first see the refresh's walk reach the new folder.
    const before = (await waitForLog((log) => log.includes(`> LIST -a /${dir}\n`), 'the walk of the refresh listing the new folder')).length;
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('# saved through the editor\n'));
    // Only this server's folder (the Explorer's menu on its root), so only its index is asked.
    await vscode.commands.executeCommand('ftpWorkspace.goToFile', { folder: server.uri(''), query: name });
    const editor = await acceptUntilOpen(uri, `Go to File to open the saved ${name}`);
    assert.equal(editor.document.getText(), '# saved through the editor\n');
    // A walk of vsftpd (which lists with LIST -a) starts at its root; the stats of the save and of
    // the editor list only the file's own folder.
    const walks = (await protocolLog()).slice(before).split('\n').filter((line) => /\] > LIST -a \/$/.test(line));
    assert.deepEqual(walks, [], 'the index learnt of the file from the save, not from a walk');
  });
});

describe('FTP: Find in Files… (real server)', function () {
  this.timeout(60_000);
  const server = realServer('vsftpd');
  before(function () {
    this.timeout(90_000);
    return prepareServers();
  });
  afterEach(() => closeAllEditors());

  interface Found {
    summary: { filesSearched: number; filesMatched: number; matches: number; skipped: { binary: number; tooLarge: number }; downloaded: number; fromCache: number; incomplete?: string };
    files: { uri: vscode.Uri; matches: { line: number; text: string; ranges: [number, number][] }[] }[];
  }

  it('lists each match by file and line, skips binary files, and a second search downloads nothing unchanged', async () => {
    const dir = unique('find');
    const token = unique('needle');
    server.disk.put(`${dir}/a.txt`, `one\ntwo\nthe ${token} here\n`);
    server.disk.put(`${dir}/sub/b.js`, `const x = "${token}"; // ${token}\n`);
    server.disk.put(`${dir}/sub/none.txt`, 'nothing\n');
    server.disk.put(`${dir}/img.bin`, Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(token)]));
    const found = (await vscode.commands.executeCommand<Found>('ftpWorkspace.findInFolder', { pattern: token, folder: server.uri(dir) }))!;
    const byPath = new Map(found.files.map((f) => [f.uri.path, f.matches.map((m) => [m.line, m.ranges])]));
    assert.deepEqual(byPath, new Map([
      [`/${dir}/a.txt`, [[3, [[4, 4 + token.length]]]]],
      [`/${dir}/sub/b.js`, [[1, [[11, 11 + token.length], [11 + token.length + 6, 11 + 2 * token.length + 6]]]]],
    ]));
    assert.equal(found.summary.matches, 3);
    assert.equal(found.summary.filesSearched, 3);
    assert.equal(found.summary.skipped.binary, 1);
    assert.equal(found.summary.incomplete, undefined);

    const again = (await vscode.commands.executeCommand<Found>('ftpWorkspace.findInFolder', { pattern: token, folder: server.uri(dir) }))!;
    assert.equal(again.summary.downloaded, 0, 'the content cache answered for every unchanged file');
    assert.equal(again.summary.fromCache, 4);
    assert.equal(again.summary.matches, 3);
  });

  /**
   * Finds in a new folder of 24 files: the connections its downloads went over, and the most
   * connections the server's pool held (the ones the search asked for log in even when the first
   * has read every file by then).
   */
  const searchOf24Files = async (wantPeak?: (peak: number) => boolean): Promise<{ retrOn: Set<string>; peak: number; limit: number }> => {
    const api = await extensionApi();
    const pool = () => api.serverStates().find((s) => s.name === server.name);
    let peak = 0;
    const watch = api.onDidChangeServerStates(() => (peak = Math.max(peak, pool()?.connections ?? 0)));
    try {
      const dir = unique('find-many');
      const token = unique('wide');
      for (let i = 0; i < 24; i++) server.disk.put(`${dir}/f${i}.txt`, `${'x'.repeat(200_000)}\n${i % 4 === 0 ? token : 'none'}\n`);
      const mark = (await protocolLog()).length;
      const found = (await vscode.commands.executeCommand<Found>('ftpWorkspace.findInFolder', { pattern: token, folder: server.uri(dir) }))!;
      assert.equal(found.summary.filesMatched, 6);
      const retr = new RegExp(`\\[([^\\]]+)\\] > RETR /${dir}/`);
      const log = await waitForLog((text) => text.slice(mark).split('\n').filter((line) => retr.test(line)).length >= 24, 'the search\'s 24 downloads');
      if (wantPeak) await waitFor(() => wantPeak(peak), `the pool to hold the connections the search asked for (at most ${peak} so far)`).catch(() => undefined);
      return { retrOn: new Set(log.slice(mark).split('\n').flatMap((line) => retr.exec(line)?.[1] ?? [])), peak, limit: pool()?.limit ?? 0 };
    } finally {
      watch.dispose();
    }
  };

  it('downloads on ftpWorkspace.search.connections connections at once, besides the one kept for the editor, and follows a change of it', async () => {
    // The default, 12, and one for the editor: more than the pool of 2 the editor's own work keeps to.
    const wide = await searchOf24Files((peak) => peak > 3);
    assert.equal(wide.limit, 13);
    assert.ok(wide.peak > 3, `the pool held at most ${wide.peak} connections`);
    const config = vscode.workspace.getConfiguration('ftpWorkspace');
    await config.update('search.connections', 2, vscode.ConfigurationTarget.Global);
    try {
      // Changed while the pool is open (its connections stay): the next search keeps to it.
      const narrow = await searchOf24Files();
      assert.equal(narrow.limit, 3);
      assert.ok(narrow.retrOn.size >= 1 && narrow.retrOn.size <= 2, `downloads on ${[...narrow.retrOn].join(', ')}`);
    } finally {
      await config.update('search.connections', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('opens the file at the match with the match selected, from the results view by keyboard', async () => {
    const dir = unique('find-open');
    const token = unique('target');
    server.disk.put(`${dir}/page.html`, `<html>\n<body>\n  <p>${token}</p>\n</body>\n`);
    const found = (await vscode.commands.executeCommand<Found>('ftpWorkspace.findInFolder', { pattern: token, folder: server.uri(dir), matchCase: true, wholeWord: true }))!;
    assert.equal(found.files.length, 1);
    // As a user does: into the results view, down to the first match, Enter (again while the view
    // is still drawing its rows).
    const editor = await waitFor(async () => {
      try {
        await vscode.commands.executeCommand('ftpWorkspace.searchResults.focus');
        await vscode.commands.executeCommand('list.focusFirst');
        await vscode.commands.executeCommand('list.focusDown');
        await vscode.commands.executeCommand('list.select');
      } catch {
        // The list commands throw while the view has no rows yet ("reading 'element'" of no focus): again.
        return undefined;
      }
      const e = vscode.window.activeTextEditor;
      return e?.document.uri.toString() === server.uri(`${dir}/page.html`).toString() ? e : undefined;
    }, 'the match to open from the results view');
    assert.deepEqual([editor.selection.start.line, editor.selection.start.character, editor.selection.end.character], [2, 5, 5 + token.length]);
    assert.equal(editor.document.getText(editor.selection), token);
  });

  it('finds nothing (and says so) rather than failing for a regular expression that matches nowhere; a bad one is refused before any transfer', async () => {
    const dir = unique('find-none');
    server.disk.put(`${dir}/a.txt`, 'abc\n');
    const none = (await vscode.commands.executeCommand<Found>('ftpWorkspace.findInFolder', { pattern: 'x{3}\\d', isRegex: true, folder: server.uri(dir) }))!;
    assert.equal(none.files.length, 0);
    assert.equal(none.summary.filesSearched, 1);
    const bad = await vscode.commands.executeCommand<Found | undefined>('ftpWorkspace.findInFolder', { pattern: '(', isRegex: true, folder: server.uri(dir) });
    assert.equal(bad, undefined);
  });
});
