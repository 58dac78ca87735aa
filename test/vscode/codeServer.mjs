// Starts the real VS Code available here — code-server — and drives its web workbench with Debian's
// headless Chromium through playwright-core. Used by the extension-test stand-in (code-standin.mjs),
// the user-level e2e tests (test/e2e) and `npm start` (scripts/start.mjs).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { ensureVsCode } from '../../scripts/setup-vscode.mjs';
import { onCleanup, stopProcessGroup, trackProcessGroup } from './processes.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Settings every harness-started VS Code gets; callers' settings win. */
export const BASE_SETTINGS = Object.freeze({
  // The web workbench autosaves by default, which would make Ctrl+S moot in e2e tests.
  'files.autoSave': 'off',
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
});

export const CHROMIUM_ARGS = Object.freeze([
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-default-apps',
]);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

/** Merges into `<userDataDir>/User/settings.json`: base < what is already there < `settings`. */
export function writeUserSettings(userDataDir, settings = {}) {
  const file = path.join(userDataDir, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const merged = { ...BASE_SETTINGS, ...readJson(file), ...settings };
  fs.writeFileSync(file, JSON.stringify(merged, null, 2));
  return file;
}

/**
 * Installs the extension as a user would have it — a folder `<publisher>.<name>-<version>` in
 * `--extensions-dir` — made of links to the repository's package.json, dist/ and media/, so a
 * rebuild shows up on reload. VS Code records it in the folder's extensions.json on first start.
 * @param {string} extensionsDir
 * @param {string} [from] the extension's root (default: this repository)
 */
export function installExtensionFolder(extensionsDir, from = REPO_ROOT) {
  const manifest = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8'));
  const folder = path.join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`.toLowerCase());
  if (!fs.existsSync(path.join(from, manifest.main ?? 'dist/extension.js'))) {
    throw new Error(`${manifest.main} is missing in ${from}: build the extension first (npm run build)`);
  }
  fs.rmSync(folder, { recursive: true, force: true });
  fs.mkdirSync(folder, { recursive: true });
  for (const entry of ['package.json', 'package.nls.json', 'dist', 'media', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
    if (fs.existsSync(path.join(from, entry))) fs.symlinkSync(path.join(from, entry), path.join(folder, entry));
  }
  return { id: `${manifest.publisher}.${manifest.name}`, folder };
}

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
  });
}

/**
 * Starts code-server on 127.0.0.1 (a free port unless `port` is given) and waits until it serves.
 * @param {import('./codeServer.d.mts').CodeServerOptions} [options]
 * @returns {Promise<import('./codeServer.d.mts').CodeServer>}
 */
export async function startCodeServer(options = {}) {
  const vscode = options.vscode ?? (await ensureVsCode({ log: options.log }));
  const log = options.log ?? (() => {});
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-vscode-'));
  const userDataDir = path.resolve(options.userDataDir ?? path.join(tmp, 'user-data'));
  const extensionsDir = path.resolve(options.extensionsDir ?? path.join(tmp, 'extensions'));
  fs.mkdirSync(userDataDir, { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  writeUserSettings(userDataDir, options.settings);
  // code-server reads its own config file too; an explicit (almost empty) one keeps ~/.config out of it.
  const configFile = path.join(tmp, 'config.yaml');
  fs.writeFileSync(configFile, 'auth: none\n');

  const args = [
    vscode.codeServerEntry,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--config', configFile,
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--bind-addr', `127.0.0.1:${options.port ?? 0}`,
    ...(options.extraArgs ?? []),
  ];
  const output = [];
  const child = spawn(vscode.nodeBin, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, EXTENSIONS_GALLERY: '{}', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: the extension host and pty host it forks are stopped with it.
    detached: true,
  });
  if (child.pid === undefined) throw new Error('code-server did not start');
  trackProcessGroup(child.pid);
  const stop = onCleanup(async () => {
    await stopProcessGroup(child);
    if (!options.keepTemp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const listening = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      const text = chunk.toString();
      output.push(text);
      if (output.length > 2000) output.splice(0, output.length - 1000);
      for (const line of text.split('\n')) if (line.trim()) log(`[code-server] ${line}`);
      const match = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output.join(''));
      if (match) resolve(Number(match[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`code-server exited (${code ?? signal}) before serving:\n${output.join('').slice(-4000)}`)),
    );
  });
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`code-server did not listen within 60 s:\n${output.join('').slice(-4000)}`)), 60_000).unref(),
  );
  let port;
  try {
    port = await Promise.race([listening, timeout]);
    const url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 30_000;
    while ((await get(`${url}healthz`).catch(() => 0)) !== 200) {
      if (Date.now() > deadline) throw new Error(`code-server at ${url} never answered /healthz`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    port,
    pid: child.pid,
    userDataDir,
    extensionsDir,
    vscode,
    output: () => output.join(''),
    stop,
  };
}

/**
 * The workbench URL for a folder or workspace: a local path (opened on code-server's own disk) or a
 * URI such as `ftp://demo/path`.
 * @param {string} baseUrl
 * @param {{ folder?: string, workspace?: string }} [target]
 */
export function workbenchUrl(baseUrl, target = {}) {
  const url = new URL(baseUrl);
  const toParam = (value) => (/^[a-z][a-z0-9+.-]+:\/\//i.test(value) ? value : path.resolve(value));
  if (target.workspace) url.searchParams.set('workspace', toParam(target.workspace));
  else if (target.folder) url.searchParams.set('folder', toParam(target.folder));
  else url.searchParams.set('ew', 'true');
  // URLSearchParams escapes ':' and '/', which code-server accepts but makes URLs hard to read.
  return url.toString().replace(/%3A/gi, ':').replace(/%2F/gi, '/');
}

/**
 * Launches headless Chromium (Debian's, not a Playwright download).
 * @param {{ chromiumBin?: string, headless?: boolean, args?: string[] }} [options]
 */
export async function launchChromium(options = {}) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: options.chromiumBin ?? '/usr/bin/chromium',
    headless: options.headless ?? true,
    args: [...CHROMIUM_ARGS, ...(isRoot ? ['--no-sandbox'] : []), ...(options.args ?? [])],
    // Our own handlers in processes.mjs stop everything in order.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const stop = onCleanup(async () => {
    await browser.close().catch(() => {});
  });
  return { browser, stop };
}

/**
 * Runs in the page before any of its scripts: adds development options to the workbench
 * configuration that code-server writes into a <meta> element — the same thing @vscode/test-web's
 * server writes — so that the Node extension host loads a development extension and runs tests.
 * (Rewriting the HTML with page.route instead makes Chromium block the workbench's WebSocket.)
 */
/* global location, Element -- runs in the page, not in Node */
function injectDevelopmentOptions(options) {
  const remote = (p) => ({ scheme: 'vscode-remote', authority: location.host, path: p });
  const original = Element.prototype.getAttribute;
  Element.prototype.getAttribute = function getAttribute(name) {
    const value = original.call(this, name);
    if (name !== 'data-settings' || this.id !== 'vscode-workbench-web-configuration' || !value) return value;
    const config = JSON.parse(value);
    config.developmentOptions = { ...config.developmentOptions };
    if (options.extensions.length) config.developmentOptions.extensions = options.extensions.map(remote);
    if (options.extensionTestsPath) config.developmentOptions.extensionTestsPath = remote(options.extensionTestsPath);
    return JSON.stringify(config);
  };
}

/**
 * Opens the workbench in a new page. With `extensionDevelopmentPath`/`extensionTestsPath` the page
 * gets the development options; `result` then settles with the tests' exit code (from
 * `window.codeAutomationExit`), and the tests' console output goes to `onLog`.
 * @param {import('./codeServer.d.mts').OpenWorkbenchOptions} options
 * @returns {Promise<import('./codeServer.d.mts').Workbench>}
 */
export async function openWorkbench(options) {
  const { server, browser } = options;
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 900 } });
  const closeContext = onCleanup(() => context.close().catch(() => {}));
  const page = await context.newPage();
  const extensions = (options.extensionDevelopmentPath ?? []).map((p) => path.resolve(p));
  if (extensions.length || options.extensionTestsPath) {
    await page.addInitScript(injectDevelopmentOptions, {
      extensions,
      extensionTestsPath: options.extensionTestsPath ? path.resolve(options.extensionTestsPath) : undefined,
    });
  }
  let settle;
  const result = new Promise((resolve) => (settle = resolve));
  await page.exposeFunction('codeAutomationExit', (code) => {
    settle(typeof code === 'number' ? code : Number(code ?? 1));
  });
  const onLog = options.onLog ?? (() => {});
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    // Console-style arguments: a format string ('%s%s  ' from mocha's reporter) and its values.
    const parts = Array.isArray(args) ? args : [args];
    onLog(String(type), format(...parts));
  });
  if (options.onPageError) page.on('pageerror', options.onPageError);
  const url = workbenchUrl(server.url, options);
  await page.goto(url);
  if (options.waitForReady ?? true) await waitForWorkbench(page, options.readyTimeoutMs);
  return { page, context, url, result, close: closeContext };
}

/** Waits until the workbench has rendered its parts (the Explorer/activity bar). */
export async function waitForWorkbench(page, timeoutMs = 60_000) {
  await page.waitForSelector('.monaco-workbench .part.activitybar, .monaco-workbench .part.sidebar', { timeout: timeoutMs });
}

/**
 * Everything at once: code-server + Chromium + a page on the folder/workspace. `stop()` ends all three.
 * @param {import('./codeServer.d.mts').StartWorkbenchOptions} [options]
 */
export async function startWorkbench(options = {}) {
  const server = await startCodeServer(options);
  try {
    const { browser, stop: stopBrowser } = await launchChromium({ chromiumBin: server.vscode.chromiumBin });
    const workbench = await openWorkbench({ ...options, server, browser });
    const stop = async () => {
      await workbench.close();
      await stopBrowser();
      await server.stop();
    };
    return { ...workbench, server, browser, stop };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
