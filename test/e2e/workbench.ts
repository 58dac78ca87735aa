/**
 * User-level end-to-end helpers: the extension installed in a real VS Code (code-server) the way a
 * user has it, the workbench driven in headless Chromium, and small actions a user does — click an
 * Explorer row, type, Ctrl+S, click the status bar, pick a quick-input row, read the Output panel.
 *
 * Elements are found by aria-label or visible text, as a user (or a screen reader) finds them.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type * as CodeServerModule from '../vscode/codeServer.mjs';
import type * as DemoServerModule from '../../scripts/demo-server.mjs';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'screenshots');
/** Screenshots the README shows; the e2e run refreshes them so they never fall behind the UI. */
export const PUBLISHED_SCREENSHOT_DIR = path.join(REPO_ROOT, 'media', 'screenshots');

// ES modules, loaded with require() (Node 20.19+); their paths are in the repository, not in out/.
const loadCodeServer = () => import(path.join(REPO_ROOT, 'test', 'vscode', 'codeServer.mjs')) as Promise<typeof CodeServerModule>;
const loadDemoServer = () => import(path.join(REPO_ROOT, 'scripts', 'demo-server.mjs')) as Promise<typeof DemoServerModule>;

const DEMO_PASV_RANGE: [number, number] = [32000, 32049];

/**
 * Starts the demo server again where `demo` ran (same address, port and root, no reseeding), e.g.
 * after stopping it to play a server that went away. Give it a root of your own, or stopping the
 * first one removed its files.
 */
export async function restartDemoServer(demo: DemoServerModule.DemoServer): Promise<DemoServerModule.DemoServer> {
  const { startDemoServer } = await loadDemoServer();
  return startDemoServer({ host: demo.host, port: demo.port, root: demo.root, pasvRange: demo.pasvRange, seed: false });
}

export interface E2eOptions {
  /** Folder to open (a path or a URI such as `ftp://demo/`). Default: `ftp://demo/` on the demo server. */
  folder?: string;
  /** Extra user settings (merged over the harness defaults and the demo profile). */
  settings?: Record<string, unknown>;
  /** Start the embedded demo FTP server as profile `demo` (default true). */
  demo?: boolean;
  /** The demo server's root folder (default: a new one, removed when the server stops; seeded either way). */
  demoRoot?: string;
  /** More server profiles (`ftpWorkspace.servers` entries), after the demo's. */
  profiles?: Record<string, unknown>[];
  /** More code-server arguments, e.g. `['--log', 'trace']` (every log channel at Trace from the start). */
  codeServerArgs?: string[];
}

export interface E2eSession {
  page: Page;
  url: string;
  /** The demo server when `demo` was on: its root folder is what `ftp://demo/` shows. */
  demo?: DemoServerModule.DemoServer;
  userDataDir: string;
  /**
   * Opens another VS Code window (a new browser context: its own extension host, its own secret
   * storage) on the same code-server, e.g. on `ftp://other/`. Closed by `stop()`.
   */
  openWindow(folder: string): Promise<Page>;
  /** Everything the "FTP Workspace" log channels of all windows wrote so far (their log files). */
  protocolLogFiles(): string;
  stop(): Promise<void>;
}

/** Starts the demo FTP server, code-server with the extension installed, Chromium, and opens the folder. */
export async function startE2e(options: E2eOptions = {}): Promise<E2eSession> {
  const { startCodeServer, launchChromium, openWorkbench } = await loadCodeServer();
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    let demo: DemoServerModule.DemoServer | undefined;
    const profiles: Record<string, unknown>[] = [];
    if (options.demo ?? true) {
      const { startDemoServer } = await loadDemoServer();
      demo = await startDemoServer({ port: 0, pasvRange: DEMO_PASV_RANGE, root: options.demoRoot });
      stops.push(() => demo!.stop());
      profiles.push({ name: 'demo', host: demo.host, port: demo.port, user: 'anonymous' });
    }
    profiles.push(...(options.profiles ?? []));
    const settings: Record<string, unknown> = {
      // code-server sees every port our active mode listens on as a port to forward ("Ports 11").
      'remote.autoForwardPorts': false,
      ...(profiles.length ? { 'ftpWorkspace.servers': profiles } : {}),
    };
    const server = await startCodeServer({ settings: { ...settings, ...options.settings }, extraArgs: options.codeServerArgs });
    stops.push(() => server.stop());
    // Installed before the page opens: code-server scans its extensions folder per window.
    installExtensionCopy(server.extensionsDir);
    const { browser, stop: stopBrowser } = await launchChromium({ chromiumBin: server.vscode.chromiumBin });
    stops.push(stopBrowser);
    const workbench = await openWorkbench({ server, browser, folder: options.folder ?? (demo ? 'ftp://demo/' : undefined) });
    const openWindow = async (folder: string) => {
      const other = await openWorkbench({ server, browser, folder });
      stops.push(() => other.close());
      return other.page;
    };
    const protocolLogFiles = () =>
      findFiles(path.join(server.userDataDir, 'logs'), (f) => path.basename(f) === 'FTP Workspace.log')
        .map((f) => fs.readFileSync(f, 'utf8'))
        .join('\n');
    return { page: workbench.page, url: workbench.url, demo, userDataDir: server.userDataDir, openWindow, protocolLogFiles, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Installs the extension as a user has it: a real folder `<publisher>.<name>-<version>` in the
 * extensions folder, with copies of the packaged files. (Symbolic links into the repository make
 * the extension host fail to tell which extension `require('vscode')` comes from: it then hands
 * out the API of no extension, and e.g. the log channel lands under "nullExtensionDescription".)
 */
export function installExtensionCopy(extensionsDir: string, from = REPO_ROOT): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string; main: string };
  if (!fs.existsSync(path.join(from, manifest.main))) throw new Error(`${manifest.main} is missing in ${from}: build the extension first (npm run build)`);
  const folder = path.join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`.toLowerCase());
  fs.rmSync(folder, { recursive: true, force: true });
  fs.mkdirSync(folder, { recursive: true });
  for (const entry of ['package.json', 'package.nls.json', 'dist', 'media', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
    const source = path.join(from, entry);
    if (fs.existsSync(source)) fs.cpSync(source, path.join(folder, entry), { recursive: true, dereference: true });
  }
  return folder;
}

function findFiles(dir: string, accept: (file: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? findFiles(full, accept) : accept(full) ? [full] : [];
  });
}

/**
 * Saves a PNG of the whole page to test-results/screenshots/NAME.png and returns its path; with
 * `publish`, also copies it to media/screenshots/PUBLISH (a README screenshot). The mouse is moved
 * off the parts first so that no hover card covers what the picture is about; with `idle`, it also
 * waits for progress bars to finish (not while a prompt holds everything up).
 */
export async function screenshot(page: Page, name: string, options: { publish?: string; idle?: boolean } = {}): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await settle(page, options.idle ?? false);
  await page.screenshot({ path: file });
  if (options.publish) {
    fs.mkdirSync(PUBLISHED_SCREENSHOT_DIR, { recursive: true });
    publishQuantized(file, path.join(PUBLISHED_SCREENSHOT_DIR, options.publish));
  }
  return file;
}

/**
 * A README screenshot goes into the .vsix, which must stay under 1 MiB: 256 colours (pngquant,
 * installed by scripts/setup-vscode.mjs) make a workbench picture about a third of its size with
 * no visible loss. Where quantizing would lose too much (exit 99), the picture is kept as it is.
 */
function publishQuantized(from: string, to: string): void {
  try {
    execFileSync('pngquant', ['--quality', '65-90', '--speed', '1', '--force', '--output', to, from]);
  } catch (err) {
    if ((err as { status?: number }).status !== 99) throw err;
    fs.copyFileSync(from, to);
  }
}

/** Moves the mouse to an empty spot, waits for hover cards to go and, if `idle`, for progress bars. */
export async function settle(page: Page, idle = false): Promise<void> {
  const viewport = page.viewportSize() ?? { width: 1400, height: 900 };
  await page.mouse.move(viewport.width - 4, Math.round(viewport.height / 2));
  await page.locator('.monaco-hover:not(.hidden), .workbench-hover-container').first().waitFor({ state: 'hidden', timeout: 3_000 }).catch(() => {});
  if (idle) await page.locator('.monaco-progress-container.active').first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
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

/** Gives the active editor the keyboard (a click into its text), as a user does before typing. */
export async function focusEditor(page: Page): Promise<void> {
  await activeEditor(page).locator('.view-lines').click();
  // A string, evaluated in the page: this project compiles without the DOM library.
  await page.waitForFunction("!!document.activeElement && !!document.activeElement.closest('.monaco-editor')");
}

/** Puts the cursor at the start of the active editor's document and types `text`. */
export async function typeAtStart(page: Page, text: string): Promise<void> {
  await focusEditor(page);
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

/**
 * The uploads item once it counts `count` failed uploads (its error icon), not merely pending ones:
 * an upload still running (a conflict being compared) shows the same number with a spinning icon.
 */
export async function waitForFailedUploads(page: Page, count: number, timeoutMs = 10_000): Promise<string> {
  const item = statusBarItem(page, new RegExp(`^\\s*FTP\\b.*\\b${count}\\s*$`)).filter({ has: page.locator('.codicon-error') }).first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  return normalizeSpaces(await item.innerText()).trim();
}

/** The status bar item's text once it matches `text` (e.g. after a mode switch). */
export async function waitForStatusBarItem(page: Page, text: string | RegExp, timeoutMs = 10_000): Promise<string> {
  const item = statusBarItem(page, text).first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  return normalizeSpaces(await item.innerText()).trim();
}

/** The quick-input widget (command palette, quick pick, input box). */
export function quickInput(page: Page): Locator {
  return page.locator('.quick-input-widget');
}

/** Clicks the quick-input row (quick pick / command palette) whose label contains `label`. */
export async function pickQuickInput(page: Page, label: string | RegExp): Promise<void> {
  const widget = quickInput(page);
  await widget.waitFor({ state: 'visible' });
  // Clicking the row, not pressing Enter right after typing: Enter can race the list's filtering.
  await widget.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().click();
}

/**
 * A quick-input row by its label alone (icons aside), not its description: "Passive" is not the
 * "Active" row whose description mentions passive ports.
 */
export function quickPickRow(page: Page, label: string): Locator {
  const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  return quickInput(page)
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exact }) });
}

/** The rows of the visible quick pick: label (icons aside) and description. */
export async function quickPickRows(page: Page): Promise<{ label: string; description: string }[]> {
  const rows = quickInput(page).locator('.quick-input-list .monaco-list-row');
  await rows.first().waitFor();
  const result: { label: string; description: string }[] = [];
  for (const row of await rows.all()) {
    const label = normalizeSpaces(await row.locator('.label-name').first().innerText()).trim();
    const descriptions = row.locator('.label-description');
    const description = (await descriptions.count()) ? normalizeSpaces(await descriptions.first().innerText()).trim() : '';
    result.push({ label, description });
  }
  return result;
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
  return outputPanelText(page);
}

/** The lines the Output panel shows now. */
export async function outputPanelText(page: Page): Promise<string> {
  const lines = outputView(page).locator('.monaco-editor .view-lines');
  await lines.waitFor({ state: 'visible' });
  return normalizeSpaces(await lines.innerText());
}

export function outputView(page: Page): Locator {
  return page.locator('.part.panel .output-view');
}

/**
 * Types into the Output view's filter box (the text every shown line must contain) and waits until
 * the shown lines match `expect`, if given; an empty `text` clears the filter.
 */
export async function filterOutput(page: Page, text: string, expect?: RegExp, timeoutMs = 10_000): Promise<string> {
  const filter = page.locator('.part.panel .viewpane-filter input, .part.panel .panel-action-tree-filter input').first();
  await filter.fill(text);
  if (!expect) return outputPanelText(page);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await outputPanelText(page);
    if (expect.test(shown) || Date.now() > deadline) return shown;
    await page.waitForTimeout(200);
  }
}

/**
 * Sets the level of a log channel with "Developer: Set Log Level…" (as a user does to see the
 * protocol log's Trace lines).
 */
export async function setLogLevel(page: Page, channel: string, level: 'Trace' | 'Debug' | 'Info' | 'Warning' | 'Error' | 'Off'): Promise<void> {
  await runCommand(page, 'Developer: Set Log Level...');
  await quickPickRow(page, channel).click();
  // The same widget then lists the levels; wait for the channel list to go so as not to click the
  // default level's row of the first list.
  await quickPickRow(page, channel).waitFor({ state: 'detached' });
  await quickPickRow(page, level).click();
  await quickInput(page).waitFor({ state: 'hidden' });
}

/** Waits for a notification toast containing `text` and returns its message. */
export async function waitForNotification(page: Page, text: string | RegExp, timeoutMs = 20_000): Promise<string> {
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  await toast.waitFor({ state: 'visible', timeout: timeoutMs });
  return normalizeSpaces(await toast.innerText());
}

/** The input box (e.g. a password prompt) once visible, with its prompt text. */
export async function waitForInputBox(page: Page, prompt: string | RegExp, timeoutMs = 30_000): Promise<{ input: Locator; message: string }> {
  const widget = quickInput(page);
  const message = widget.locator('.quick-input-message', { hasText: prompt });
  await message.waitFor({ state: 'visible', timeout: timeoutMs });
  return { input: widget.locator('.quick-input-box input'), message: normalizeSpaces(await message.innerText()) };
}

function normalizeSpaces(text: string): string {
  return text.replace(/\u00a0/g, ' ');
}

function cssString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** A modal dialog (e.g. `showWarningMessage(…, { modal: true })`) once visible, with its text. */
export async function waitForDialog(page: Page, text: string | RegExp, timeoutMs = 20_000): Promise<{ dialog: Locator; text: string }> {
  const dialog = page.locator('.monaco-dialog-box', { hasText: text }).first();
  await dialog.waitFor({ state: 'visible', timeout: timeoutMs });
  return { dialog, text: normalizeSpaces(await dialog.innerText()) };
}

/** Clicks a dialog's button by its label and waits for the dialog to close. */
export async function answerDialog(dialog: Locator, button: string): Promise<void> {
  await dialog.locator('.dialog-buttons .monaco-button', { hasText: new RegExp(`^\\s*${button}\\s*$`) }).first().click();
  await dialog.waitFor({ state: 'detached' });
}
