#!/usr/bin/env node
// A stand-in for the desktop `code` executable, for @vscode/test-electron's
// runTests({ vscodeExecutablePath }) (and @vscode/test-cli's useInstallation.fromPath): it accepts the
// desktop flags, runs the extension tests in a real VS Code extension host — code-server's, driven by
// headless Chromium — prints their output and exits with their exit code.
//
//   code-standin.mjs --extensionDevelopmentPath=DIR --extensionTestsPath=FILE [--user-data-dir=DIR]
//                    [--extensions-dir=DIR] [FOLDER | FILE.code-workspace | --folder-uri=URI | --file-uri=URI]
//
// Unknown flags (--no-sandbox, --disable-updates, …) are ignored. Environment:
//   FTPW_VSCODE_TIMEOUT_MS   give up after this long (default 600000), exit code 124
//   FTPW_VSCODE_SCREENSHOT   save a PNG of the workbench here when the run ends
//   FTPW_VSCODE_VERBOSE=1    also print code-server's own log and the workbench's console
// Without --extensionTestsPath it just opens the workbench and prints the URL until Ctrl+C.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchChromium, openWorkbench, startCodeServer } from './codeServer.mjs';
import { stopAll } from './processes.mjs';

const VALUE_FLAGS = new Set([
  'extensionDevelopmentPath',
  'extensionTestsPath',
  'user-data-dir',
  'extensions-dir',
  'folder-uri',
  'file-uri',
]);

// The workbench's own start-up chatter, forwarded with the tests' output; hidden unless verbose.
const WORKBENCH_NOISE = [
  /^Resolving connection token/,
  /^Resolved connection token/,
  /^Creating a socket \(/,
  /^\[Service Worker\]/,
  /^Ignoring fetching additional builtin extensions/,
  /^Updating additional builtin extensions cache/,
  /^ChatSessionStore:/,
  /^Error while fetching the extension under development .*not a web extension/,
  /^\[lifecycle\] Long running operations during shutdown/,
  // The workbench checks the folder before the extension that provides its scheme has activated.
  /^Ignoring the error while validating workspace folder .* - ENOPRO/,
];

export function parseArgs(argv) {
  const parsed = { extensionDevelopmentPath: [], positional: [], ignored: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!match) {
      parsed.positional.push(arg);
      continue;
    }
    const [, name, inline] = match;
    if (!VALUE_FLAGS.has(name)) {
      parsed.ignored.push(arg);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (name === 'extensionDevelopmentPath') parsed.extensionDevelopmentPath.push(value);
    else parsed[name] = value;
  }
  return parsed;
}

function target(parsed) {
  const uri = parsed['folder-uri'] ?? parsed['file-uri'];
  if (uri) return /\.code-workspace$/.test(uri) || parsed['file-uri'] ? { workspace: uri } : { folder: uri };
  const [first] = parsed.positional;
  if (!first) return {};
  return first.endsWith('.code-workspace') ? { workspace: path.resolve(first) } : { folder: path.resolve(first) };
}

async function main() {
  const parsed = parseArgs(process.argv.slice(2));
  const verbose = process.env.FTPW_VSCODE_VERBOSE === '1';
  const timeoutMs = Number(process.env.FTPW_VSCODE_TIMEOUT_MS ?? 600_000);
  const started = Date.now();
  const note = (line) => process.stderr.write(`[code-standin +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);

  const server = await startCodeServer({
    userDataDir: parsed['user-data-dir'],
    extensionsDir: parsed['extensions-dir'],
    log: verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
  });
  note(`code-server ${server.vscode.version} (VS Code ${server.vscode.vscodeVersion}) at ${server.url} in ${Date.now() - started} ms`);
  const { browser } = await launchChromium({ chromiumBin: server.vscode.chromiumBin });

  const testing = Boolean(parsed.extensionTestsPath);
  const workbench = await openWorkbench({
    server,
    browser,
    ...target(parsed),
    extensionDevelopmentPath: parsed.extensionDevelopmentPath,
    extensionTestsPath: parsed.extensionTestsPath,
    waitForReady: false,
    onLog: (type, text) => {
      if (!verbose && WORKBENCH_NOISE.some((re) => re.test(text))) return;
      (type === 'error' ? process.stderr : process.stdout).write(`${text}\n`);
    },
    onPageError: (error) => note(`page error: ${error.message}`),
  });
  if (verbose) workbench.page.on('console', (m) => process.stderr.write(`[workbench ${m.type()}] ${m.text()}\n`));
  note(`opened ${workbench.url}`);

  if (!testing) {
    note('no --extensionTestsPath: leaving VS Code open, Ctrl+C to stop');
    await new Promise(() => {});
  }

  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([workbench.result, timedOut]);
  clearTimeout(timer);

  const screenshot = process.env.FTPW_VSCODE_SCREENSHOT;
  if (screenshot || outcome === 'timeout') {
    const file = screenshot ?? path.resolve('test-results', 'screenshots', 'code-standin-timeout.png');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await workbench.page.screenshot({ path: file }).then(
      () => note(`screenshot: ${file}`),
      (error) => note(`no screenshot: ${error.message}`),
    );
  }
  let code;
  if (outcome === 'timeout') {
    note(
      `TIMEOUT: the extension tests did not finish within ${Math.round(timeoutMs / 1000)} s ` +
        `(set FTPW_VSCODE_TIMEOUT_MS to change); code-server log tail:\n${server.output().slice(-3000)}`,
    );
    code = 124;
  } else {
    code = outcome;
    note(`extension tests finished with exit code ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  await stopAll();
  note(`stopped code-server and Chromium`);
  process.exit(code);
}

main().catch(async (error) => {
  process.stderr.write(`[code-standin] ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  await stopAll();
  process.exit(1);
});
