// `npm test`: installs what the tests need, builds, and runs every suite — unit, integration
// against real FTP servers, extension tests in a real VS Code, end-to-end — then prints one
// "N passed, N failed" line. Anything that cannot be installed fails the run loudly.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const only = process.argv.slice(2); // e.g. `npm test -- unit integration`
const want = (suite) => only.length === 0 || only.includes(suite);
const totals = { passed: 0, failed: 0 };
const problems = [];

function step(title, cmd, args, opts = {}) {
  console.log(`\n=== ${title}: ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...opts.env } });
  if (r.status !== 0) {
    problems.push(`${title} failed (exit ${r.status ?? r.signal})`);
    if (opts.fatal !== false) finish();
  }
  return r.status === 0;
}

function mochaSuite(title, files, timeout) {
  const dir = mkdtempSync(join(tmpdir(), 'ftpw-counts-'));
  const counts = join(dir, 'counts.json');
  step(title, 'npx', ['mocha', '--reporter', './test/support/countingReporter.js', '--timeout', String(timeout), '--exit', ...files], { env: { FTPW_COUNTS: counts }, fatal: false });
  addCounts(title, counts);
  rmSync(dir, { recursive: true, force: true });
}

function addCounts(title, file) {
  if (!existsSync(file)) { problems.push(`${title}: no results (the suite did not run to the end)`); return; }
  const c = JSON.parse(readFileSync(file, 'utf8'));
  totals.passed += c.passed;
  totals.failed += c.failed;
  if (c.pending > 0) problems.push(`${title}: ${c.pending} pending test(s) — skipped tests are not allowed`);
}

function finish() {
  console.log('');
  for (const p of problems) console.log(`problem: ${p}`);
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
  process.exit(problems.length > 0 || totals.failed > 0 ? 1 : 0);
}

if (!existsSync('node_modules/.package-lock.json')) step('install npm dependencies', 'npm', ['ci']);
const isRoot = process.getuid?.() === 0;
step('FTP servers', 'bash', ['scripts/install-ftp-servers.sh']);
step('proxies', 'bash', ['scripts/install-proxies.sh']);
if (want('extension') || want('e2e')) step('VS Code runtime', 'node', ['scripts/setup-vscode.mjs']);
step('build', 'npm', ['run', '--silent', 'build']);
step('compile tests', 'npx', ['tsc', '-p', 'tsconfig.test.json']);
step('lint', 'npx', ['eslint', 'src', 'test', 'scripts', 'bench']);
// The .vsix must keep building and stay small (README images are packaged, not fetched).
if (step('package .vsix', 'npm', ['run', '--silent', 'package'], { fatal: false })) {
  const size = statSync('ftp-workspace.vsix').size;
  console.log(`ftp-workspace.vsix: ${(size / 1024).toFixed(0)} KiB`);
  if (size > 1024 * 1024) problems.push(`ftp-workspace.vsix is ${(size / 1024).toFixed(0)} KiB, over 1 MiB`);
}
if (!isRoot) console.log('note: not root — the FTP servers need root to run; integration tests will fail if they cannot start.');

if (want('unit')) mochaSuite('unit tests', ['out/test/unit/**/*.test.js'], 20000);
if (want('integration')) mochaSuite('integration tests (real FTP servers)', ['out/test/integration/**/*.test.js'], 120000);
if (want('extension')) {
  const dir = mkdtempSync(join(tmpdir(), 'ftpw-counts-'));
  const counts = join(dir, 'counts.json');
  step('extension tests (real VS Code)', 'node', ['out/test/vscode/runExtensionTests.js'], { env: { FTPW_COUNTS: counts }, fatal: false });
  addCounts('extension tests', counts);
}
if (want('e2e')) mochaSuite('end-to-end (workbench in Chromium)', ['out/test/e2e/**/*.test.js'], 300000);
finish();
