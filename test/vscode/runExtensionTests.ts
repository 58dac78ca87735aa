/**
 * Runs the extension tests (test/extension, compiled to out/test/extension) in a real VS Code
 * extension host with @vscode/test-electron's runTests.
 *
 * Here the "VS Code executable" is test/vscode/code: a stand-in that runs them in code-server driven
 * by headless Chromium (no desktop VS Code can be installed offline). With a desktop VS Code, set
 * FTPW_VSCODE_EXECUTABLE to its binary and the same tests run there.
 *
 * Before VS Code starts, the runner calls the setup module (default out/test/extension/setup.js,
 * exporting `setup(): Promise<ExtensionTestSetup>`): it starts the FTP servers the tests need and
 * says which folder to open, which user settings to write (server profiles) and which environment
 * variables the extension host gets; its `teardown()` runs afterwards, pass or fail.
 *
 * Usage: node out/test/vscode/runExtensionTests.js [--grep PATTERN]
 * Environment:
 *   FTPW_EXT_FOLDER      folder to open instead of the setup's (a path or a URI such as ftp://demo/)
 *   FTPW_EXT_SETTINGS    JSON object of extra user settings
 *   FTPW_EXT_SETUP       another setup module (absolute path of a .js file); "none" for no setup
 *   FTPW_EXT_GREP        only tests whose title matches (same as --grep)
 *   FTPW_VSCODE_EXECUTABLE, FTPW_VSCODE_TIMEOUT_MS, FTPW_VSCODE_SCREENSHOT, FTPW_VSCODE_VERBOSE (see code-standin.mjs)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

export interface ExtensionTestSetup {
  /** Folder to open: a local path, or a URI such as `ftp://demo/` (from a server profile in settings). */
  folder?: string;
  /** A `.code-workspace` file to open instead of a folder. */
  workspace?: string;
  /** User settings, e.g. `{ 'ftpWorkspace.servers': [...] }`. */
  settings?: Record<string, unknown>;
  /** Environment variables for the extension host (so tests know ports, roots, passwords). */
  env?: Record<string, string>;
  teardown?(): Promise<void>;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function loadSetup(): Promise<ExtensionTestSetup> {
  const configured = process.env.FTPW_EXT_SETUP;
  if (configured === 'none') return {};
  const file = configured ?? path.join(REPO_ROOT, 'out', 'test', 'extension', 'setup.js');
  if (!fs.existsSync(file)) {
    if (configured) throw new Error(`FTPW_EXT_SETUP: ${file} does not exist`);
    return {};
  }
  const module = (await import(file)) as { setup?: () => Promise<ExtensionTestSetup> };
  if (typeof module.setup !== 'function') throw new Error(`${file} does not export setup()`);
  return module.setup();
}

function openArgs(setup: ExtensionTestSetup): string[] {
  const isUri = (s: string) => /^[a-z][a-z0-9+.-]+:\/\//i.test(s);
  const folder = process.env.FTPW_EXT_FOLDER ?? setup.folder;
  if (setup.workspace && !process.env.FTPW_EXT_FOLDER) {
    return isUri(setup.workspace) ? [`--file-uri=${setup.workspace}`] : [path.resolve(setup.workspace)];
  }
  if (!folder) return [];
  return isUri(folder) ? [`--folder-uri=${folder}`] : [path.resolve(folder)];
}

async function main(): Promise<number> {
  const extensionTestsPath = path.join(REPO_ROOT, 'out', 'test', 'extension', 'index.js');
  if (!fs.existsSync(extensionTestsPath)) {
    throw new Error(`${extensionTestsPath} is missing: compile the tests first (npx tsc -p tsconfig.test.json)`);
  }
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: build the extension first (npm run build)');
  }
  const standIn = path.join(REPO_ROOT, 'test', 'vscode', 'code');
  const vscodeExecutablePath = process.env.FTPW_VSCODE_EXECUTABLE ?? standIn;
  if (vscodeExecutablePath === standIn) fs.chmodSync(standIn, 0o755);

  const setup = await loadSetup();
  // A fresh profile per run: no state leaks between runs, and nothing is written into the repo.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-tests-'));
  try {
    const userDataDir = path.join(profile, 'user-data');
    const settingsFile = path.join(userDataDir, 'User', 'settings.json');
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    const settings = { ...setup.settings, ...(JSON.parse(process.env.FTPW_EXT_SETTINGS ?? '{}') as Record<string, unknown>) };
    fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));

    const grep = argValue('--grep') ?? process.env.FTPW_EXT_GREP;
    await runTests({
      vscodeExecutablePath,
      // Our extension, and a custom editor of bytes that saves without a text document (test/fixtures).
      extensionDevelopmentPath: [REPO_ROOT, path.join(REPO_ROOT, 'test', 'fixtures', 'custom-editor')],
      extensionTestsPath,
      launchArgs: [
        ...openArgs(setup),
        `--user-data-dir=${userDataDir}`,
        `--extensions-dir=${path.join(profile, 'extensions')}`,
        '--disable-extensions',
      ],
      extensionTestsEnv: {
        ...setup.env,
        FTPW_EXT_DEVELOPMENT_PATH: REPO_ROOT,
        ...(grep ? { FTPW_EXT_GREP: grep } : {}),
      },
    });
    return 0;
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (typeof code === 'number') return code;
    throw error;
  } finally {
    await setup.teardown?.();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
