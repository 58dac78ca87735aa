#!/usr/bin/env node
// `npm start`: try the extension in a real VS Code with a demo FTP server, from a fresh clone.
//
//   npm start                 build, start the demo FTP server and VS Code (code-server), print the URL
//   npm start -- --check      the same, then load the page in headless Chromium, screenshot, print OK, exit
//   npm start -- --desktop    open a desktop VS Code (`code` on PATH) on the demo folder instead
//   options: --port N (VS Code, default 8080 or a free one), --ftp-port N (demo server, default 2121 or a free one)
//   env: FTPW_PORT, FTPW_DEMO_PORT, FTPW_START_CHECK=1 (same as --check)
//
// Ctrl+C stops everything it started. VS Code's state (settings, extensions folder) lives in .cache/start/.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const check = args.includes('--check') || process.env.FTPW_START_CHECK === '1';
const desktop = args.includes('--desktop');
const optionValue = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function say(line) {
  console.log(`[start] ${line}`);
}

function run(command, commandArgs) {
  say(`$ ${[command, ...commandArgs].join(' ')}`);
  const result = spawnSync(command, commandArgs, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

/** `preferred` if it is free on 127.0.0.1, else 0 (any free port). */
function portOrAny(preferred) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(0));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(preferred)));
  });
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim() || undefined;
}

/** Keeps profiles the user added in an earlier session; replaces only `demo`. */
function demoSettings(userDataDir, demo) {
  const file = path.join(userDataDir, 'User', 'settings.json');
  let servers = [];
  try {
    servers = JSON.parse(fs.readFileSync(file, 'utf8'))['ftpWorkspace.servers'] ?? [];
  } catch {
    // first start
  }
  const profile = { name: 'demo', host: demo.host, port: demo.port, user: 'anonymous' };
  return { 'ftpWorkspace.servers': [profile, ...servers.filter((s) => s?.name !== 'demo')] };
}

async function main() {
  const started = Date.now();
  if (!fs.existsSync(path.join(REPO_ROOT, 'node_modules'))) run('npm', ['install']);
  run('npm', ['run', '--silent', 'build']);

  // Imported after `npm install`: they need playwright-core and ftp-srv.
  const { ensureVsCode } = await import('./setup-vscode.mjs');
  const { startDemoServer } = await import('./demo-server.mjs');
  const { onCleanup, stopAll } = await import('../test/vscode/processes.mjs');
  const { startCodeServer, installExtensionFolder, launchChromium, openWorkbench, writeUserSettings, workbenchUrl } =
    await import('../test/vscode/codeServer.mjs');

  const vscode = await ensureVsCode({ log: (line) => console.log(line) });

  const demo = await startDemoServer({
    port: check ? 0 : await portOrAny(Number(optionValue('--ftp-port') ?? process.env.FTPW_DEMO_PORT ?? 2121)),
    log: (line) => console.log(line),
  });
  onCleanup(() => demo.stop());
  say(`demo FTP server on ${demo.url()} (anonymous, writable; files in ${demo.root})`);

  const stateDir = path.join(REPO_ROOT, '.cache', 'start');
  if (desktop) {
    const code = onPath('code');
    if (!code) throw new Error('--desktop needs a desktop VS Code: `code` is not on PATH');
    // Its own profile, so the user's own VS Code settings are left alone.
    const userDataDir = path.join(stateDir, 'desktop-user-data');
    writeUserSettings(userDataDir, demoSettings(userDataDir, demo));
    const child = spawn(
      code,
      ['--wait', `--user-data-dir=${userDataDir}`, `--extensionDevelopmentPath=${REPO_ROOT}`, '--folder-uri=ftp://demo/'],
      { stdio: 'inherit' },
    );
    say('desktop VS Code opened on ftp://demo/ — close its window or press Ctrl+C to stop the demo server');
    await new Promise((resolve) => child.once('exit', resolve));
    await stopAll();
    return;
  }

  // --check runs beside a possibly running `npm start`: its own ports and a throwaway profile.
  const userDataDir = check ? undefined : path.join(stateDir, 'user-data');
  const server = await startCodeServer({
    vscode,
    port: check ? 0 : await portOrAny(Number(optionValue('--port') ?? process.env.FTPW_PORT ?? 8080)),
    userDataDir,
    extensionsDir: check ? undefined : path.join(stateDir, 'extensions'),
    settings: userDataDir ? demoSettings(userDataDir, demo) : demoSettings('/nonexistent', demo),
  });
  const extension = installExtensionFolder(server.extensionsDir);
  const url = workbenchUrl(server.url, { folder: 'ftp://demo/' });
  say(`VS Code ${vscode.vscodeVersion} (code-server ${vscode.version}) with ${extension.id} from ${REPO_ROOT}`);
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  if (check) {
    const { browser } = await launchChromium({ chromiumBin: vscode.chromiumBin });
    const workbench = await openWorkbench({ server, browser, folder: 'ftp://demo/' });
    const screenshot = path.join(REPO_ROOT, 'test-results', 'screenshots', 'start.png');
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    try {
      await workbench.page.locator('.explorer-folders-view .monaco-list-row[aria-label="README.md"]').waitFor({ timeout: 60_000 });
    } finally {
      await workbench.page.screenshot({ path: screenshot });
      say(`screenshot: ${screenshot}`);
    }
    await stopAll();
    console.log(`OK: ${url} showed the demo folder (README.md in the Explorer) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return;
  }

  console.log('');
  console.log('  ┌──────────────────────────────────────────────────────────────');
  console.log(`  │  Open ${url}`);
  console.log('  │  in your browser. Ctrl+C here stops VS Code and the demo FTP server.');
  console.log('  └──────────────────────────────────────────────────────────────');
  console.log('');
  await new Promise(() => {});
}

main().catch(async (error) => {
  console.error(`[start] ${error instanceof Error ? error.message : error}`);
  try {
    const { stopAll } = await import('../test/vscode/processes.mjs');
    await stopAll();
  } catch {
    // nothing was started
  }
  process.exit(1);
});
