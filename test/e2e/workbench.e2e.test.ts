/**
 * End to end, as a user: VS Code (code-server) in Chromium with the extension installed, a folder
 * on the demo FTP server opened from a server profile.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  E2eSession,
  editorText,
  explorerRow,
  openFileFromExplorer,
  saveWithCtrlS,
  screenshot,
  startE2e,
  typeAtStart,
} from './workbench';

describe('workbench on an FTP folder (end to end)', function () {
  this.timeout(180_000);
  let session: E2eSession;

  before(async () => {
    session = await startE2e({ folder: 'ftp://demo/' });
  });

  after(async () => {
    await session?.stop();
  });

  it('shows the remote files in the Explorer', async () => {
    const { page } = session;
    await explorerRow(page, 'README.md').waitFor({ timeout: 60_000 });
    const file = await screenshot(page, 'explorer-ftp-demo');
    assert.ok(fs.statSync(file).size > 0, 'screenshot written');
    for (const name of ['css', 'notes', 'index.html']) {
      assert.equal(await explorerRow(page, name).count(), 1, `Explorer row ${name}`);
    }
  });

  it('saves an edit back to the server with Ctrl+S', async () => {
    const { page, demo } = session;
    await openFileFromExplorer(page, 'README.md');
    assert.match(await editorText(page), /# FTP Workspace demo/);
    // Plain words: the editor's auto-closing and auto-indent would change typed markup or newlines.
    await typeAtStart(page, 'Edited in e2e. ');
    await saveWithCtrlS(page, 'README.md');
    await screenshot(page, 'saved-readme');
    const onServer = fs.readFileSync(path.join(demo!.root, 'README.md'), 'utf8');
    assert.ok(onServer.startsWith('Edited in e2e. # FTP Workspace demo\n'), `the server has: ${onServer.slice(0, 80)}`);
  });
});
