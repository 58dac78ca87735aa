#!/usr/bin/env node
// Installs the real VS Code that runs here — code-server (the VS Code server, its Node extension host
// and the web workbench) — plus Debian's chromium and ripgrep, into a cache folder.
//
// code-server's own postinstall downloads ripgrep and prebuilt native addons from GitHub, which is not
// reachable here, so the package is installed with --ignore-scripts and the postinstall is redone by
// hand: native addons rebuilt against the running Node's headers, argon2 built from source, Debian's
// `rg` put where @vscode/ripgrep looks for it. It is never a dependency of the project itself
// (`npm ci` would run that postinstall).
//
// Usage: node scripts/setup-vscode.mjs [--force] [--json]
// Import: const { ensureVsCode } = await import('./setup-vscode.mjs'); const paths = await ensureVsCode();
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The newest code-server that runs on Node 20 (4.101+ moved to Node 22/24). */
export const CODE_SERVER_VERSION = '4.100.3';
/** The VS Code it embeds: keep `engines.vscode` at or below this. */
export const VSCODE_VERSION = '1.100.3';
const REQUIRED_NODE_MAJOR = 20;

// Addons of lib/vscode that have a build step on Linux (the windows-* ones compile to stubs).
const VSCODE_NATIVE_ADDONS = ['@parcel/watcher', 'node-pty', '@vscode/spdlog', 'native-watchdog', '@vscode/deviceid', 'kerberos'];
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const RG_CANDIDATES = ['/usr/bin/rg'];
const GSSAPI_HEADER = '/usr/include/gssapi/gssapi.h';

export function cacheRoot() {
  return process.env.FTPW_CACHE || path.join(os.homedir(), '.cache', 'ftp-workspace');
}

/** Where things are (or will be) — computed, nothing installed. */
export function vscodePaths() {
  const root = path.join(cacheRoot(), 'vscode');
  const installDir = path.join(root, `code-server-${CODE_SERVER_VERSION}`);
  const codeServerDir = path.join(installDir, 'node_modules', 'code-server');
  return {
    root,
    installDir,
    codeServerDir,
    vscodeDir: path.join(codeServerDir, 'lib', 'vscode'),
    /** Run as `node <codeServerEntry> …` with a Node 20 (the addons are built for it). */
    codeServerEntry: path.join(codeServerDir, 'out', 'node', 'entry.js'),
    marker: path.join(installDir, '.installed.json'),
  };
}

function firstExisting(candidates) {
  return candidates.find((p) => fs.existsSync(p));
}

function say(log, message) {
  log(`[setup-vscode] ${message}`);
}

function run(log, command, args, options = {}) {
  say(log, `$ ${[command, ...args].join(' ')}${options.cwd ? `   (in ${options.cwd})` : ''}`);
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...options,
    env: { ...process.env, ...options.env },
  });
  if (result.error || result.status !== 0) {
    const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(
      `setup-vscode: \`${[command, ...args].join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`})\n${output}`,
    );
  }
  return result.stdout;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Debian packages: chromium (the browser Playwright drives), ripgrep (search), krb5 headers (kerberos
 * addon), fonts, pngquant (README screenshots are quantized: the .vsix that carries them must stay small).
 */
function ensureSystemPackages(log) {
  const missing = [];
  if (!firstExisting(CHROMIUM_CANDIDATES)) missing.push('chromium');
  if (!firstExisting(RG_CANDIDATES)) missing.push('ripgrep');
  if (!fs.existsSync(GSSAPI_HEADER)) missing.push('libkrb5-dev');
  // Fonts for readable screenshots: text, and the ✅ of the connection-test report.
  if (!fs.existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf')) missing.push('fonts-dejavu-core');
  if (!fs.existsSync('/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf')) missing.push('fonts-noto-color-emoji');
  if (!fs.existsSync('/usr/bin/pngquant')) missing.push('pngquant');
  if (missing.length === 0) return;
  if (!isRoot() || !fs.existsSync('/usr/bin/apt-get')) {
    throw new Error(
      `setup-vscode: missing system packages: ${missing.join(' ')}. Install them (e.g. \`sudo apt-get install -y ${missing.join(' ')}\`) and run again.`,
    );
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  try {
    run(log, 'apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  } catch {
    // A stale package index is the usual reason; refresh once.
    run(log, 'apt-get', ['update'], { env });
    run(log, 'apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  }
}

/** node-gyp needs the running Node's headers; offline it cannot download them. */
function nodeHeadersDir() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..')].filter(Boolean);
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'include', 'node', 'node.h')));
  if (!dir) {
    throw new Error(
      `setup-vscode: cannot find Node's C headers (include/node/node.h) next to ${process.execPath}; set npm_config_nodedir to a folder that has them.`,
    );
  }
  return dir;
}

function symlink(target, linkPath) {
  fs.rmSync(linkPath, { recursive: true, force: true });
  fs.symlinkSync(target, linkPath);
}

function install(log, paths) {
  const started = Date.now();
  const nodedir = nodeHeadersDir();
  // npm_config_yes: node-pty's post-install runs `npx node-gyp`, which would otherwise wait for a "y".
  const npmEnv = { npm_config_nodedir: nodedir, npm_config_yes: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };

  fs.rmSync(paths.installDir, { recursive: true, force: true });
  fs.mkdirSync(paths.installDir, { recursive: true });
  fs.writeFileSync(
    path.join(paths.installDir, 'package.json'),
    JSON.stringify({ name: 'ftp-workspace-code-server', private: true, description: 'cache: see scripts/setup-vscode.mjs' }, null, 2),
  );
  run(log, 'npm', ['install', '--ignore-scripts', '--no-save', `code-server@${CODE_SERVER_VERSION}`], { cwd: paths.installDir, env: npmEnv });

  // code-server's own server: argon2 is loaded at start-up even with --auth none.
  run(log, 'npm', ['rebuild', 'argon2'], { cwd: paths.installDir, env: { ...npmEnv, npm_config_build_from_source: 'true' } });

  // What postinstall.sh does, minus the downloads.
  run(log, 'npm', ['install', '--omit=dev', '--ignore-scripts'], { cwd: paths.vscodeDir, env: npmEnv });
  run(log, 'npm', ['rebuild', ...VSCODE_NATIVE_ADDONS], { cwd: paths.vscodeDir, env: npmEnv });
  const rgDir = path.join(paths.vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
  fs.mkdirSync(rgDir, { recursive: true });
  fs.copyFileSync(firstExisting(RG_CANDIDATES), path.join(rgDir, 'rg'));
  fs.chmodSync(path.join(rgDir, 'rg'), 0o755);
  say(log, `copied ${firstExisting(RG_CANDIDATES)} to ${path.join(rgDir, 'rg')}`);
  symlink('node_modules', path.join(paths.vscodeDir, 'node_modules.asar'));
  symlink('code-linux.sh', path.join(paths.vscodeDir, 'bin', 'remote-cli', 'code-server'));
  symlink('browser-linux.sh', path.join(paths.vscodeDir, 'bin', 'helpers', 'browser.sh'));
  run(log, 'npm', ['install', '--omit=dev'], { cwd: path.join(paths.vscodeDir, 'extensions'), env: npmEnv });

  // Fail here, not at the first test run, if an addon does not load.
  const probe = [
    `require(${JSON.stringify(path.join(paths.installDir, 'node_modules', 'argon2'))});`,
    ...['node-pty', '@vscode/spdlog', 'native-watchdog', '@parcel/watcher', 'kerberos'].map(
      (m) => `require(${JSON.stringify(path.join(paths.vscodeDir, 'node_modules', m))});`,
    ),
  ].join('');
  run(log, process.execPath, ['-e', probe]);

  const marker = {
    codeServer: CODE_SERVER_VERSION,
    vscode: VSCODE_VERSION,
    nodeModules: process.versions.modules,
    node: process.version,
    installedAt: new Date().toISOString(),
  };
  fs.writeFileSync(paths.marker, JSON.stringify(marker, null, 2));
  say(log, `code-server ${CODE_SERVER_VERSION} installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function readMarker(paths) {
  try {
    return JSON.parse(fs.readFileSync(paths.marker, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Serialises concurrent installs (two test runs started at once) with a lock directory. */
async function withLock(lockDir, log, fn) {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const age = Date.now() - fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs;
      if (age > 20 * 60_000) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`setup-vscode: gave up waiting for ${lockDir} (another install running?)`);
      say(log, `waiting for another install (${lockDir})`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

/**
 * Makes sure code-server, chromium and ripgrep are there; installs what is missing (about 2 minutes
 * the first time, milliseconds after). Throws with a readable message when something cannot be installed.
 * @param {{ force?: boolean, log?: (line: string) => void }} [options]
 */
export async function ensureVsCode(options = {}) {
  const log = options.log ?? ((line) => console.error(line));
  const paths = vscodePaths();
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor !== REQUIRED_NODE_MAJOR) {
    throw new Error(
      `setup-vscode: code-server ${CODE_SERVER_VERSION} needs Node ${REQUIRED_NODE_MAJOR}; this is Node ${process.version}.`,
    );
  }
  const isCurrent = (m) =>
    m?.codeServer === CODE_SERVER_VERSION && m?.nodeModules === process.versions.modules && fs.existsSync(paths.codeServerEntry);
  const ready = () => isCurrent(readMarker(paths)) && firstExisting(CHROMIUM_CANDIDATES) && firstExisting(RG_CANDIDATES);

  if (options.force || !ready()) {
    await withLock(path.join(paths.root, '.lock'), log, async () => {
      ensureSystemPackages(log);
      if (options.force || !isCurrent(readMarker(paths))) install(log, paths);
    });
  }
  return {
    version: CODE_SERVER_VERSION,
    vscodeVersion: VSCODE_VERSION,
    ...paths,
    nodeBin: process.execPath,
    /** A launcher: `codeServerBin` is run by `nodeBin` (see codeServerEntry). */
    codeServerBin: path.join(paths.installDir, 'node_modules', '.bin', 'code-server'),
    chromiumBin: firstExisting(CHROMIUM_CANDIDATES),
    rgBin: firstExisting(RG_CANDIDATES),
  };
}

async function main() {
  const started = Date.now();
  const result = await ensureVsCode({ force: process.argv.includes('--force') });
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(`code-server ${result.version} (VS Code ${result.vscodeVersion}) ready in ${Date.now() - started} ms`);
    console.log(`  code-server: ${result.nodeBin} ${result.codeServerEntry}`);
    console.log(`  chromium:    ${result.chromiumBin}`);
    console.log(`  ripgrep:     ${result.rgBin}`);
  }
}

// No top-level await: TypeScript tests load this module with require() (Node 20.19+ allows that only without it).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
