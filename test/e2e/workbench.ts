/**
 * User-level end-to-end helpers: the extension installed in a real VS Code (code-server) the way a
 * user has it, the workbench driven in headless Chromium, and small actions a user does — click an
 * Explorer row, type, Ctrl+S, click the status bar, pick a quick-input row, read the Output panel.
 *
 * Elements are found by aria-label or visible text, as a user (or a screen reader) finds them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type * as CodeServerModule from '../vscode/codeServer.mjs';
import type * as DemoServerModule from '../../scripts/demo-server.mjs';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'screenshots');

// ES modules, loaded with require() (Node 20.19+); their paths are in the repository, not in out/.
const loadCodeServer = () => import(path.join(REPO_ROOT, 'test', 'vscode', 'codeServer.mjs')) as Promise<typeof CodeServerModule>;
const loadDemoServer = () => import(path.join(REPO_ROOT, 'scripts', 'demo-server.mjs')) as Promise<typeof DemoServerModule>;

export interface E2eOptions {
  /** Folder to open (a path or a URI such as `ftp://demo/`). Default: `ftp://demo/` on the demo server. */
  folder?: string;
  /** Extra user settings (merged over the harness defaults and the demo profile). */
  settings?: Record<string, unknown>;
  /** Start the embedded demo FTP server as profile `demo` (default true). */
  demo?: boolean;
}

export interface E2eSession {
  page: Page;
  url: string;
  /** The demo server when `demo` was on: its root folder is what `ftp://demo/` shows. */
  demo?: DemoServerModule.DemoServer;
  userDataDir: string;
  stop(): Promise<void>;
}

/** Starts the demo FTP server, code-server with the extension installed, Chromium, and opens the folder. */
export async function startE2e(options: E2eOptions = {}): Promise<E2eSession> {
  const { startCodeServer, launchChromium, openWorkbench, installExtensionFolder } = await loadCodeServer();
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    let demo: DemoServerModule.DemoServer | undefined;
    const settings: Record<string, unknown> = {};
    if (options.demo ?? true) {
      const { startDemoServer } = await loadDemoServer();
      demo = await startDemoServer({ port: 0, pasvRange: [32000, 32049] });
      stops.push(() => demo!.stop());
      settings['ftpWorkspace.servers'] = [{ name: 'demo', host: demo.host, port: demo.port, user: 'anonymous' }];
    }
    const server = await startCodeServer({ settings: { ...settings, ...options.settings } });
    stops.push(() => server.stop());
    // Installed before the page opens: code-server scans its extensions folder per window.
    installExtensionFolder(server.extensionsDir);
    const { browser, stop: stopBrowser } = await launchChromium({ chromiumBin: server.vscode.chromiumBin });
    stops.push(stopBrowser);
    const workbench = await openWorkbench({ server, browser, folder: options.folder ?? (demo ? 'ftp://demo/' : undefined) });
    return { page: workbench.page, url: workbench.url, demo, userDataDir: server.userDataDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Saves a PNG of the whole page to test-results/screenshots/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The Explorer row of a file or folder, by its name (the row's aria-label). */
export function explorerRow(page: Page, name: string): Locator {
  return page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${cssString(name)}"]`);
}

/** Opens a file with a click on its Explorer row (a single click opens it, as for a user) and waits for its tab. */
export async function openFileFromExplorer(page: Page, name: string): Promise<Locator> {
  await explorerRow(page, name).click();
  const tab = editorTab(page, name);
  await tab.waitFor();
  await activeEditor(page).locator('.view-lines').waitFor();
  return tab;
}

/** An editor tab by its file name. */
export function editorTab(page: Page, name: string): Locator {
  return page.locator(`.tabs-container .tab[aria-label^="${cssString(name)}"]`);
}

/** The editor that has focus in the active group. */
export function activeEditor(page: Page): Locator {
  return page.locator('.editor-group-container.active .editor-instance .monaco-editor').first();
}

/** Puts the cursor at the start of the active editor's document and types `text`. */
export async function typeAtStart(page: Page, text: string): Promise<void> {
  await activeEditor(page).locator('.view-lines').click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.type(text);
}

/** The text of the active editor's visible lines. */
export async function editorText(page: Page): Promise<string> {
  return normalizeSpaces(await activeEditor(page).locator('.view-lines').innerText());
}

/** Presses Ctrl+S on a modified file and waits until its tab is no longer marked dirty (the save went through). */
export async function saveWithCtrlS(page: Page, name: string, timeoutMs = 20_000): Promise<void> {
  const dirtyTab = page.locator(`.tabs-container .tab.dirty[aria-label^="${cssString(name)}"]`);
  await dirtyTab.waitFor({ state: 'attached', timeout: 5_000 });
  await page.keyboard.press('Control+S');
  await dirtyTab.waitFor({ state: 'detached', timeout: timeoutMs });
}

/** A status bar item by (part of) its visible text. */
export function statusBarItem(page: Page, text: string | RegExp): Locator {
  return page.locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: text });
}

export async function clickStatusBarItem(page: Page, text: string | RegExp): Promise<void> {
  await statusBarItem(page, text).first().click();
}

/** Clicks the quick-input row (quick pick / command palette) whose label contains `label`. */
export async function pickQuickInput(page: Page, label: string | RegExp): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible' });
  // Clicking the row, not pressing Enter right after typing: Enter can race the list's filtering.
  await widget.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().click();
}

/** Types into the visible quick input (an input box or a quick pick's filter) and presses Enter. */
export async function answerInputBox(page: Page, text: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible' });
  await input.fill(text);
  await page.keyboard.press('Enter');
}

/** Runs a command from the command palette by its title as shown there (e.g. 'FTP: Show Protocol Log'). */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await pickQuickInput(page, title);
}

/**
 * The visible text of an Output channel: opens the Output panel on that channel (through the
 * command palette, as a user would) and reads its editor. Only what is on screen — scroll or filter
 * for older lines.
 */
export async function readOutputPanel(page: Page, channel: string): Promise<string> {
  await runCommand(page, 'Output: Show Output Channels...');
  await pickQuickInput(page, channel);
  const lines = page.locator('.part.panel .output-view .monaco-editor .view-lines');
  await lines.waitFor({ state: 'visible' });
  return normalizeSpaces(await lines.innerText());
}

/** Waits for a notification toast containing `text` and returns its message. */
export async function waitForNotification(page: Page, text: string | RegExp, timeoutMs = 20_000): Promise<string> {
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  await toast.waitFor({ state: 'visible', timeout: timeoutMs });
  return normalizeSpaces(await toast.innerText());
}

function normalizeSpaces(text: string): string {
  return text.replace(/\u00a0/g, ' ');
}

function cssString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}
