/**
 * End to end, as a user: VS Code (code-server) in Chromium with the extension installed, folders
 * on FTP servers opened from server profiles — the embedded demo server (anonymous) in one window,
 * a real vsftpd that wants a password in another — and, in a VS Code of its own, a local folder
 * linked to the demo server (upload on save, the conflict question, the sync preview, a server that
 * goes away and comes back). Every step leaves a screenshot in
 * test-results/screenshots/; the README's are refreshed in media/screenshots/.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { startServer, type RunningServer } from '../support/realServers';
import {
  E2eSession,
  answerDialog,
  answerInputBox,
  clickStatusBarItem,
  editorText,
  editorTab,
  explorerRow,
  filterOutput,
  focusEditor,
  openFileFromExplorer,
  outputPanelText,
  quickInput,
  quickPickRow,
  quickPickRows,
  restartDemoServer,
  runCommand,
  saveWithCtrlS,
  outputView,
  screenshot,
  settle,
  setLogLevel,
  startE2e,
  statusBarItem,
  typeAtStart,
  waitForDialog,
  waitForFailedUploads,
  waitForInputBox,
  waitForNotification,
  waitForStatusBarItem,
} from './workbench';

/** Waits (bounded) for a file's mode on the server's disk: the command returns before its notification. */
async function waitForMode(file: string, mode: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((fs.statSync(file).mode & 0o7777) !== mode) {
    if (Date.now() > deadline) assert.fail(`${file} has mode ${(fs.statSync(file).mode & 0o7777).toString(8)}, not ${mode.toString(8)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** With FTPW_E2E_VERBOSE=1, prints how long each step took (to see where a slow run spends its time). */
const started = Date.now();
function step(name: string): void {
  if (process.env.FTPW_E2E_VERBOSE) console.log(`      [${((Date.now() - started) / 1000).toFixed(1)} s] ${name}`);
}

const VSFTPD_FILES: Record<string, string> = {
  'hello.txt': 'Hello from vsftpd\n',
  'site/index.html': '<h1>Served by vsftpd</h1>\n',
};

describe('FTP Workspace in VS Code, as a user (end to end)', function () {
  this.timeout(120_000);
  let vsftpd: RunningServer;
  let session: E2eSession;
  /** A port where nothing listens: the profile "gone" points there. */
  let gonePort: number;

  before(async function () {
    this.timeout(180_000);
    gonePort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    vsftpd = await startServer('vsftpd');
    for (const [name, text] of Object.entries(VSFTPD_FILES)) {
      fs.mkdirSync(path.dirname(path.join(vsftpd.root, name)), { recursive: true });
      fs.writeFileSync(path.join(vsftpd.root, name), text);
    }
    vsftpd.giveToUser();
    step('vsftpd started');
    session = await startE2e({
      folder: 'ftp://demo/',
      profiles: [
        { name: 'vsftpd', host: vsftpd.host, port: vsftpd.port, user: vsftpd.user },
        { name: 'gone', host: '127.0.0.1', port: gonePort, user: 'someone' },
      ],
    });
    window = session.page;
  });

  // The window the tests drive now; a failed test leaves a picture of it.
  let window: Page | undefined;
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && window && !window.isClosed()) {
      await screenshot(window, `FAILED ${this.currentTest.title}`).catch(() => undefined);
    }
  });

  after(async () => {
    await session?.stop();
    await vsftpd?.stop();
  });

  describe('a folder on the demo server', () => {
    it('lists the folder and a subfolder in the Explorer, opens a file, and Ctrl+S puts the edit on the server', async () => {
      const { page, demo } = session;
      step('workbench open');
      await explorerRow(page, 'README.md').waitFor({ timeout: 60_000 });
      step('files listed');
      for (const name of ['css', 'notes', 'index.html']) assert.equal(await explorerRow(page, name).count(), 1, `Explorer row ${name}`);
      await explorerRow(page, 'css').click();
      await explorerRow(page, 'style.css').waitFor();
      await explorerRow(page, 'notes').click();
      await explorerRow(page, 'todo.txt').waitFor();

      await openFileFromExplorer(page, 'index.html');
      assert.match(await editorText(page), /<h1>Hello from an FTP server<\/h1>/);
      // Into the <h1>, by keyboard: plain words, as the editor's auto-closing would change markup.
      await focusEditor(page);
      await page.keyboard.press('Control+Home');
      for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('End');
      for (let i = 0; i < '</h1>'.length; i++) await page.keyboard.press('ArrowLeft');
      await page.keyboard.type(', edited in VS Code');
      await saveWithCtrlS(page, 'index.html');
      await closeSuggestions(page); // Emmet's, for the word just typed: not for the picture

      const onServer = fs.readFileSync(path.join(demo!.root, 'index.html'), 'utf8');
      assert.match(onServer, /<h1>Hello from an FTP server, edited in VS Code<\/h1>/, `the server has:\n${onServer}`);
      assert.match(await statusBarItem(page, 'FTP:').first().innerText(), /FTP: Auto/);
      await screenshot(page, '1-explorer-edit-saved', { publish: 'workbench.png', idle: true });
    });

    it('lists the servers in the FTP Servers view with address, security, mode and state', async () => {
      const { page } = session;
      const header = page.locator('.pane-header', { hasText: 'FTP Servers' });
      await header.waitFor();
      if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
      // Rows found by their address, which only this view shows.
      const row = (address: string) => page.locator('.monaco-list-row', { hasText: address }).first();
      const demo = row('anonymous@127.0.0.1:');
      const vsftpdRow = row(`${vsftpd.user}@127.0.0.1:${vsftpd.port}`);
      const goneRow = row(`someone@127.0.0.1:${gonePort}`);
      for (const r of [demo, vsftpdRow, goneRow]) await r.waitFor();
      assert.match(normalize(await demo.innerText()), /^demo ?anonymous@127\.0\.0\.1:\d+ · FTP · auto · (connected \d+\/\d+|idle)$/);
      assert.match(normalize(await vsftpdRow.innerText()), /^vsftpd ?\S+ · FTP · auto · idle$/);
      assert.match(normalize(await goneRow.innerText()), /^gone ?\S+ · FTP · auto · idle$/);
      await vsftpdRow.click({ button: 'right' });
      const menu = page.locator('.context-view .monaco-menu');
      await menu.waitFor();
      for (const action of ['Open Remote Folder…', 'Add to Workspace', 'Test Connection', 'Switch Data Mode…', 'Forget Password', 'Edit', 'Duplicate', 'Delete…']) {
        assert.equal(await menu.getByRole('menuitem', { name: action, exact: true }).count(), 1, `context menu has ${action}`);
      }
      await screenshot(page, '1b-servers-view-menu', { publish: 'servers-view.png' });
      await page.keyboard.press('Escape');
      await header.click(); // collapsed again: the later pictures stay as they were
    });

    it('"Set Permissions…" from the Explorer: boxes ticked as the mode is now, a typed mode applied, the new mode in the row\'s hover text', async () => {
      const { page, demo } = session;
      const file = path.join(demo!.root, 'index.html');
      fs.chmodSync(file, 0o644);
      await explorerRow(page, 'index.html').click({ button: 'right' });
      // Hover, then Enter: a click that comes right after the menu opened is sometimes ignored by the
      // workbench, and the menu then stays open over everything the next tests do.
      await page.locator('.context-view .monaco-menu .action-label', { hasText: 'Set Permissions…' }).hover();
      await page.locator('.context-view .monaco-menu .action-item.focused', { hasText: 'Set Permissions…' }).waitFor();
      await page.keyboard.press('Enter');
      const title = page.locator('.quick-input-widget .quick-input-title');
      await title.filter({ hasText: 'Permissions of index.html' }).waitFor();
      assert.match(await title.innerText(), /now rw-r--r-- \(644\)/);
      const ticked = await quickInput(page).locator('.quick-input-list .monaco-list-row[aria-checked="true"]').count();
      assert.equal(ticked, 4, 'owner read+write, group read, others read');
      await screenshot(page, '1b-set-permissions', { publish: 'set-permissions.png' });
      await answerInputBox(page, '640');
      await waitForMode(file, 0o640);
      // The row's hover text (VS Code's custom hover shows the label's aria-label): path • decoration tooltip.
      await explorerRow(page, 'index.html').locator('.monaco-icon-label[aria-label$="Permissions: rw-r----- (640)"]').waitFor({ timeout: 10_000 });
      await settle(page);
    });

    it('shows commands and replies in the protocol log once its level is Trace', async () => {
      const { page } = session;
      await runCommand(page, 'FTP: Show Protocol Log');
      // At the default level (Info) the log says how to see the protocol.
      const hint = await filterOutput(page, 'Trace level', /Developer: Set Log Level/);
      assert.match(hint, /Commands and replies are logged at the Trace level/, hint);
      await filterOutput(page, '');
      // …and offers to show them in one click: the Output panel's level for the channel goes to Trace.
      await waitForNotification(page, /hides commands and replies/);
      const offer = page.locator('.notifications-toasts .notification-toast', { hasText: /hides commands and replies/ });
      await offer.getByRole('button', { name: 'Show Commands and Replies' }).click();
      await offer.waitFor({ state: 'hidden' });
      // Something to log: opening a file downloads it.
      await openFileFromExplorer(page, 'README.md');
      const shown = await filterOutput(page, '', /\] < 226/);
      assert.match(shown, /\] > (EPSV|PASV|RETR|LIST|MLSD|SIZE|MDTM)\b/, `commands in the log:\n${shown}`);
      assert.match(shown, /\] < \d{3}[ -]/, `replies in the log:\n${shown}`);
      await screenshot(page, '2-protocol-log-trace');
    });

    it('opens the walkthrough with its five steps; a step\'s button runs the command and checks the step', async () => {
      const { page } = session;
      await explorerRow(page, 'README.md').waitFor({ timeout: 60_000 }); // the extension is up
      await runCommand(page, 'FTP: Get Started');
      const walkthrough = page.locator('.gettingStartedContainer');
      await walkthrough.getByText('Get Started with FTP Workspace').first().waitFor();
      for (const step of ['Add a server', 'Open a remote folder', 'Pick the data mode', 'Link a local folder', 'Where the log is']) {
        assert.equal(await walkthrough.locator('.getting-started-step', { hasText: step }).count(), 1, `step ${step}`);
      }
      const logStep = walkthrough.locator('.getting-started-step', { hasText: 'Where the log is' });
      await logStep.click();
      await logStep.getByRole('button', { name: 'Show Protocol Log' }).click();
      await outputView(page).waitFor();
      // The step's check mark (the panel that opened may have scrolled the step out of view).
      const checked = '[data-done-step-id$="#log"].codicon-getting-started-step-checked, [data-done-step-id$="#log"].codicon-pass-filled';
      await walkthrough.locator(checked).first().waitFor({ state: 'attached' });
      await walkthrough.locator('.getting-started-step', { hasText: 'Pick the data mode' }).click();
      // Its picture (data-mode.svg) is drawn in a webview, out of reach of the page: the picture shows it.
      await walkthrough.getByText('Every listing and file travels on a second connection').waitFor();
      await screenshot(page, '1c-walkthrough', { idle: true });
      // Closed by its tab (the keyboard may be in the picture's webview): later pictures stay as they were.
      const tab = page.locator('.tabs-container .tab', { hasText: 'Walkthrough' });
      await tab.hover();
      await tab.locator('.codicon-close').click();
      await tab.waitFor({ state: 'detached' });
      await outputView(page).waitFor();
    });

    it('switches to active mode from the status bar; the next save opens its data connection with EPRT/PORT', async () => {
      const { page, demo } = session;
      await clickStatusBarItem(page, 'FTP:');
      await quickPickRow(page, 'Passive').waitFor();
      const rows = await quickPickRows(page);
      const byLabel = new Map(rows.map((r) => [r.label, r.description]));
      for (const mode of ['Passive', 'Active', 'Auto']) assert.ok(byLabel.get(mode), `a described "${mode}" row in ${JSON.stringify(rows)}`);
      assert.match(byLabel.get('Passive')!, /EPSV|PASV/);
      assert.match(byLabel.get('Active')!, /EPRT|PORT/);
      assert.ok(byLabel.has('Test Connection'), `a "Test Connection" row in ${JSON.stringify(rows)}`);
      assert.ok(byLabel.has('Show Protocol Log'), `a "Show Protocol Log" row in ${JSON.stringify(rows)}`);
      await page.keyboard.press('ArrowDown'); // highlights "Active" for the picture
      await screenshot(page, '3-status-bar-quick-pick', { publish: 'status-bar-quick-pick.png' });

      await quickPickRow(page, 'Active').click();
      assert.equal(await waitForStatusBarItem(page, /FTP: Active/), 'FTP: Active');

      await openFileFromExplorer(page, 'todo.txt');
      await focusEditor(page);
      await page.keyboard.press('Control+Home');
      // No Enter after a word: it would accept the word suggestion that pops up.
      await page.keyboard.type('Saved in active mode. ');
      await saveWithCtrlS(page, 'todo.txt');
      const onServer = fs.readFileSync(path.join(demo!.root, 'notes', 'todo.txt'), 'utf8');
      assert.ok(onServer.startsWith('Saved in active mode. - try passive mode'), `the server has:\n${onServer}`);

      const active = await filterOutput(page, 'EPRT', /> EPRT \|/);
      assert.match(active, /> EPRT \|1\|127\.0\.0\.1\|\d+\|/, `EPRT in the log:\n${active}`);
      await filterOutput(page, '', /STOR|RNTO/);
      await showMaximizedPanel(page, true);
      const log = await outputPanelText(page);
      assert.match(log, /> EPRT /);
      await screenshot(page, '4-protocol-log-active-save', { publish: 'protocol-log.png' });
      await showMaximizedPanel(page, false);

      await clickStatusBarItem(page, 'FTP:');
      await quickPickRow(page, 'Passive').click();
      assert.equal(await waitForStatusBarItem(page, /FTP: Passive/), 'FTP: Passive');
      await screenshot(page, '5-back-to-passive');
    });

    it('FTP: Go to File… finds a file deep in the tree by a few of its letters and opens it', async () => {
      const { page, demo } = session;
      await explorerRow(page, 'README.md').waitFor({ timeout: 60_000 });
      const deep = path.join(demo!.root, 'site', 'assets', 'pages', 'deep-page.html');
      fs.mkdirSync(path.dirname(deep), { recursive: true });
      fs.writeFileSync(deep, '<html>\n<body>\n  <p>a needle-e2e in the page</p>\n</body>\n</html>\n');
      await runCommand(page, 'FTP: Go to File…');
      // Quick Open's way: a few letters of the name, in order.
      await page.locator('.quick-input-widget .quick-input-box input').fill('deeppag');
      const row = quickPickRow(page, 'deep-page.html');
      await row.waitFor({ timeout: 30_000 });
      await screenshot(page, '12-go-to-file', { publish: 'go-to-file.png' });
      await row.click();
      await editorTab(page, 'deep-page.html').waitFor();
      assert.match(await editorText(page), /a needle-e2e in the page/);
    });

    it('FTP: Find in Files… lists a match, and a click opens the file at that line with the match selected', async () => {
      const { page } = session;
      await runCommand(page, 'FTP: Find in Files…');
      await answerInputBox(page, 'needle-e2e');
      const match = page.locator('.monaco-list-row', { hasText: 'a needle-e2e in the page' });
      await match.waitFor({ timeout: 30_000 });
      await screenshot(page, '13-find-in-files', { idle: true, publish: 'find-in-files.png' });
      await match.click();
      await editorTab(page, 'deep-page.html').waitFor();
      // The status bar tells where the cursor is and how much is selected: the match on line 3
      // (columns 8–17, the cursor after it).
      await waitForStatusBarItem(page, /Ln 3, Col 18 \(10 selected\)/);
    });
  });

  describe('a folder on vsftpd, which wants a password', () => {
    let page: Page;

    before(async () => {
      // One window at a time: two extension hosts starting at once make the run slow.
      await session.page.context().close();
    });

    it('asks for the password, asks again once after a wrong one, then lists the files', async () => {
      step('opening a window on ftp://vsftpd/');
      page = await session.openWindow('ftp://vsftpd/');
      window = page;
      step('window open');
      const first = await waitForInputBox(page, /Password for ftpwtest@127\.0\.0\.1/);
      step('password prompt');
      await first.input.fill('not-the-password');
      await screenshot(page, '6-password-prompt', { publish: 'password-prompt.png' });
      await page.keyboard.press('Enter');
      await quickPickRow(page, 'Only for this session').click();

      const again = await waitForInputBox(page, /Login failed/);
      assert.match(again.message, /530/, `the reason is shown: ${again.message}`);
      // VS Code reads .vscode/settings.json & co. meanwhile: no "Downloading …" toasts for those.
      assert.equal(await page.locator('.notifications-toasts .notification-toast', { hasText: 'Downloading' }).count(), 0, 'download toasts over the prompt');
      await screenshot(page, '7-password-asked-again');
      step('asked again');
      await again.input.fill(vsftpd.password);
      await page.keyboard.press('Enter');
      await screenshot(page, '8-remember-password');
      await quickPickRow(page, 'Remember').click();

      await explorerRow(page, 'hello.txt').waitFor({ timeout: 30_000 });
      step('files listed');
      assert.equal(await explorerRow(page, 'site').count(), 1);
      assert.equal(await quickInput(page).isVisible(), false, 'no third password prompt');
      // The refused login is over, and VS Code's probes for .vscode/* files are no warning.
      const item = statusBarItem(page, 'FTP:').first();
      await item.waitFor();
      assert.doesNotMatch((await item.getAttribute('class')) ?? '', /warning-kind/, 'the status bar item shows no warning');
      await screenshot(page, '9-vsftpd-explorer');
    });

    it('does not ask again after a reload when the password was remembered', async () => {
      await page.reload();
      await explorerRow(page, 'hello.txt').waitFor({ timeout: 60_000 });
      assert.equal(await quickInput(page).isVisible(), false, 'no password prompt');
    });

    it('saves an edit to the real server', async () => {
      await openFileFromExplorer(page, 'hello.txt');
      await focusEditor(page);
      await page.keyboard.press('Control+Home');
      await page.keyboard.type('Edited over FTP. ');
      await saveWithCtrlS(page, 'hello.txt');
      assert.equal(fs.readFileSync(path.join(vsftpd.root, 'hello.txt'), 'utf8'), 'Edited over FTP. Hello from vsftpd\n');
    });

    it('"FTP: Test Connection" shows a report of every step and a recommendation', async () => {
      await setLogLevel(page, 'FTP Workspace', 'Trace');
      await runCommand(page, 'FTP: Test Connection');
      const report = await waitForWebviewText(page, /FTP connection test/);
      for (const step of ['Connect and log in', 'EPSV', 'PASV', 'EPRT', 'PORT']) assert.match(report, new RegExp(step), `step ${step} in the report:\n${report}`);
      assert.match(report, /Recommended mode: (passive|active)/i, report);
      const summary = await waitForNotification(page, /passive|active/i);
      assert.match(summary, /work/i, summary);
      await editorTab(page, 'Preview Connection test vsftpd').waitFor();
      // A report, not an unsaved document that asks to be saved on exit.
      assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0, 'no dirty tab');
      await screenshot(page, '10-test-connection-report', { publish: 'test-connection-report.png', idle: true });
    });

    it('a server that cannot be reached: no password prompt, one notification with the reason and its actions', async () => {
      const gone = await session.openWindow('ftp://gone/');
      window = gone;
      const text = await waitForNotification(gone, /nothing listens on that port/, 30_000);
      assert.match(text, new RegExp(`FTP gone: Could not connect to 127\\.0\\.0\\.1:${gonePort}`), text);
      const toast = gone.locator('.notifications-toasts .notification-toast', { hasText: /nothing listens on that port/ });
      for (const action of ['Retry', 'Edit Server', 'Test Connection', 'Show Log']) {
        assert.equal(await toast.getByRole('button', { name: action }).count(), 1, `action ${action} in: ${text}`);
      }
      // The password of a server that is not there is never asked for.
      assert.equal(await quickInput(gone).isVisible(), false, 'no password prompt');
      await screenshot(gone, '11-unreachable-server', { idle: true });
      // An absence: the Explorer and the extension keep asking, and no second notification may come.
      await gone.waitForTimeout(2000);
      assert.equal(await toast.count(), 1, 'one notification, not one per request');
      await toast.getByRole('button', { name: 'Show Log' }).click();
      const log = await filterOutput(gone, 'could not connect', /could not connect/i);
      assert.match(log, new RegExp(`127\\.0\\.0\\.1:${gonePort}`), log);
      await filterOutput(gone, '');
      await gone.close();
      window = page;
    });

    it('never writes the password into the protocol log', async () => {
      await runCommand(page, 'FTP: Show Protocol Log');
      // The filter "PASS" also shows every "passive" line, and Test Connection wrote many after its
      // login: a maximized panel shows enough of them to reach the PASS line.
      await runCommand(page, 'View: Toggle Maximized Panel');
      const shown = await filterOutput(page, 'PASS', /> PASS /);
      assert.match(shown, /> PASS \*{4}/, `the masked PASS line:\n${shown}`);
      assert.ok(!shown.includes(vsftpd.password), 'password in the Output panel');
      const all = session.protocolLogFiles();
      assert.match(all, /> PASS \*{4}/);
      assert.ok(!all.includes(vsftpd.password), 'password in a log file');
      assert.ok(!all.includes('not-the-password'), 'the wrong password in a log file');
      await filterOutput(page, '');
      await runCommand(page, 'View: Toggle Maximized Panel');
    });
  });
});

describe('a local folder linked to a folder on the demo server (end to end)', function () {
  this.timeout(120_000);
  let session: E2eSession;
  let page: Page;
  let local: string;
  let demoRoot: string;
  let restarted: Awaited<ReturnType<typeof restartDemoServer>> | undefined;
  let remoteDir: string;
  const onServer = (name: string) => (fs.existsSync(path.join(remoteDir, name)) ? fs.readFileSync(path.join(remoteDir, name), 'utf8') : undefined);
  const waitOnServer = async (name: string, expected: string | undefined, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (onServer(name) !== expected) {
      if (Date.now() > deadline) {
        const log = session.protocolLogFiles().split('\n').slice(-30).join('\n');
        assert.fail(`${name} on the server reads ${JSON.stringify(onServer(name))}, not ${JSON.stringify(expected)}; the protocol log ends with:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  before(async function () {
    this.timeout(180_000);
    local = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-e2e-site-'));
    fs.mkdirSync(path.join(local, '.vscode'));
    fs.writeFileSync(
      path.join(local, '.vscode', 'settings.json'),
      JSON.stringify({ 'ftpWorkspace.links': [{ local: '.', remote: 'ftp://demo/linked-site', ignore: ['.vscode/'] }] }, null, 2),
    );
    fs.writeFileSync(path.join(local, 'index.html'), '<h1>Local</h1>\n');
    // The demo server's files outlive it: one test stops the server and starts it again.
    demoRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-e2e-demo-'));
    // Its own VS Code, opened straight on the local folder: the save below races the extension's start.
    session = await startE2e({ folder: local, demoRoot });
    remoteDir = path.join(demoRoot, 'linked-site');
  });
  after(async () => {
    await session?.stop();
    await restarted?.stop();
    for (const dir of [local, demoRoot]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    await screenshot(session.page, `FAILED ${this.currentTest.title}`).catch(() => undefined);
    console.log(`the protocol log ends with:\n${session.protocolLogFiles().split('\n').slice(-40).join('\n')}`);
  });

  it('uploads a save made the moment the window opens, before the extension has started', async () => {
    page = session.page;
    // As fast as a user can: no waiting for the extension, which starts once the window has settled.
    await explorerRow(page, 'index.html').waitFor({ timeout: 60_000 });
    await openFileFromExplorer(page, 'index.html');
    await typeAtStart(page, 'Saved at once. ');
    await saveWithCtrlS(page, 'index.html');
    step('saved right after opening');
    await waitOnServer('index.html', 'Saved at once. <h1>Local</h1>\n');
    // The record of this sync is taken from a listing right after the upload: let it be taken
    // before the next test plays a colleague changing the file.
    await page.waitForTimeout(1500);
  });

  it('asks before overwriting a server copy changed since the last sync: Compare keeps it pending, Overwrite uploads', async () => {
    fs.writeFileSync(path.join(remoteDir, 'index.html'), '<h1>Changed on the server by a colleague</h1>\n');
    await typeAtStart(page, 'Second edit. ');
    await saveWithCtrlS(page, 'index.html');
    const asked = await waitForDialog(page, /changed on the server since your last sync/);
    assert.match(asked.text, /index\.html changed on the server since your last sync of it/, asked.text);
    for (const button of ['Overwrite', 'Compare', 'Skip']) assert.match(asked.text, new RegExp(button), `a ${button} button: ${asked.text}`);
    await screenshot(page, '11-upload-conflict', { publish: 'upload-conflict.png' });

    await answerDialog(asked.dialog, 'Compare');
    await editorTab(page, 'index.html (server ↔ local)').waitFor();
    assert.equal(onServer('index.html'), '<h1>Changed on the server by a colleague</h1>\n', 'Compare overwrote the server copy');
    // Still pending, as failed: the status bar item says so, and a retry asks again.
    await waitForFailedUploads(page, 1);
    await runCommand(page, 'FTP: Retry Failed Uploads');
    await answerDialog((await waitForDialog(page, /changed on the server since your last sync/)).dialog, 'Overwrite');
    await waitOnServer('index.html', 'Second edit. Saved at once. <h1>Local</h1>\n');
  });

  it('Sync Local → Remote previews every change and deletes a server file only when ticked and confirmed', async () => {
    fs.writeFileSync(path.join(local, 'about.html'), '<h1>About</h1>\n');
    fs.writeFileSync(path.join(remoteDir, 'old.html'), 'only on the server\n');
    await runCommand(page, 'FTP: Sync Local → Remote…');
    await quickPickRow(page, 'about.html').waitFor({ timeout: 30_000 });
    const description = async (label: string) => normalize(await quickPickRow(page, label).locator('.label-description').first().innerText());
    assert.match(await description('about.html'), /^create on the server · 15 B$/);
    assert.match(await description('old.html'), /^delete on the server$/);
    assert.equal(await quickInput(page).locator('.monaco-list-row', { hasText: '.vscode' }).count(), 0, 'the ignored .vscode/ is listed');
    // The deletion is offered unticked; tick it, as a user who wants the server cleaned up.
    const deletion = quickPickRow(page, 'old.html');
    assert.equal(await deletion.getAttribute('aria-checked'), 'false', 'the deletion is ticked by default');
    await deletion.click();
    assert.equal(await deletion.getAttribute('aria-checked'), 'true', 'the deletion row did not tick');
    await screenshot(page, '12-sync-preview', { publish: 'sync-preview.png' });
    await page.keyboard.press('Enter');

    const confirm = await waitForDialog(page, /Delete 1 item\(s\) on the server\?/);
    assert.match(confirm.text, /old\.html/, confirm.text);
    await answerDialog(confirm.dialog, 'Delete');
    await waitOnServer('about.html', '<h1>About</h1>\n');
    await waitOnServer('old.html', undefined);
    const done = await waitForNotification(page, /FTP Sync Local → Remote: .*(created|deleted|nothing)/);
    assert.match(done, /1 created, 1 deleted/, done);
  });

  it('keeps a save pending while the server is down, says so once, and uploads it on Retry Now when it is back', async () => {
    await session.demo!.stop();
    await runCommand(page, 'View: Close All Editors');
    await openFileFromExplorer(page, 'index.html');
    await typeAtStart(page, 'Offline edit. ');
    await saveWithCtrlS(page, 'index.html');
    const told = await waitForNotification(page, /could not upload index\.html/, 60_000);
    assert.match(told, /stays pending/, told);
    assert.match(await waitForFailedUploads(page, 1), /FTP/);
    await screenshot(page, '13-upload-pending');
    assert.equal(onServer('index.html'), 'Second edit. Saved at once. <h1>Local</h1>\n');

    restarted = await restartDemoServer(session.demo!);
    await page.locator('.notifications-toasts .notification-toast', { hasText: 'could not upload index.html' }).locator('.monaco-button', { hasText: 'Retry Now' }).click();
    await waitOnServer('index.html', 'Offline edit. Second edit. Saved at once. <h1>Local</h1>\n');
    await statusBarItem(page, /FTP .*1/).first().waitFor({ state: 'hidden' });
  });

  it('with uploadOnChange, uploads what another program writes, and not what a download brought', async () => {
    fs.writeFileSync(
      path.join(local, '.vscode', 'settings.json'),
      JSON.stringify({ 'ftpWorkspace.links': [{ local: '.', remote: 'ftp://demo/linked-site', ignore: ['.vscode/'], uploadOnChange: true }] }, null, 2),
    );
    await page.waitForTimeout(2000); // VS Code picks up the edited settings file
    // A build writes into a new folder: no editor, no save.
    fs.mkdirSync(path.join(local, 'build'));
    fs.writeFileSync(path.join(local, 'build', 'app.js'), 'console.log("built");\n');
    await waitOnServer('build/app.js', 'console.log("built");\n');

    fs.writeFileSync(path.join(remoteDir, 'news.html'), '<h1>News from the server</h1>\n');
    await runCommand(page, 'View: Close All Editors');
    await runCommand(page, 'FTP: Download from Server');
    await explorerRow(page, 'news.html').waitFor({ timeout: 20_000 });
    await page.waitForTimeout(2000);
    const uploads = session.protocolLogFiles().split('\n').filter((line) => /\] upload \/linked-site\/(\.)?news\.html/.test(line));
    assert.deepEqual(uploads, [], 'the downloaded file went back up');
  });
});

function normalize(text: string): string {
  return text.replace(/\u00a0/g, ' ').trim();
}

/** Closes the editor's suggestion list if it is open (or opens late, as it does on a busy machine). */
async function closeSuggestions(page: Page): Promise<void> {
  const widget = page.locator('.monaco-editor .suggest-widget.visible');
  await widget.waitFor({ state: 'visible', timeout: 2_000 }).catch(() => {});
  if (await widget.isVisible()) await page.keyboard.press('Escape');
  await widget.waitFor({ state: 'hidden' });
}

/** Maximizes (or restores) the panel, as "View: Toggle Maximized Panel" does. */
async function showMaximizedPanel(page: Page, maximized: boolean): Promise<void> {
  const isMaximized = async () => (await page.locator('.monaco-workbench .part.editor').first().isVisible()) === false;
  if ((await isMaximized()) !== maximized) await runCommand(page, 'View: Toggle Maximized Panel');
}

/** The text of the first webview (e.g. the Markdown preview) whose document matches `expect`. */
async function waitForWebviewText(page: Page, expect: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames().filter((f) => f.url().includes('/webview/'))) {
      const text = await frame.locator('body').innerText({ timeout: 500 }).catch(() => '');
      if (expect.test(text)) return text;
    }
    if (Date.now() > deadline) throw new Error(`no webview shows ${expect}`);
    await page.waitForTimeout(250);
  }
}
