// `npm run bench`: bundles the bench harness (bench/src) with esbuild and runs it as root.
//   npm run bench -- [--rtt 50] [--runs 5] [--tree-runs 3] [--quick] [--smoke] [--only read,save] [--out DIR] [--baseline REF]
// See bench/README.md. Results: bench/results.md and bench/results.json.
import * as esbuild from 'esbuild';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'node_modules', '.cache', 'ftpw-bench');
mkdirSync(outDir, { recursive: true });

const bundle = {
  outdir: outDir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
};

await esbuild.build({ ...bundle, entryPoints: { main: join(root, 'bench/src/main.ts'), runner: join(root, 'bench/src/runner.ts') } });

const env = { ...process.env, FTPW_BENCH_DIR: join(root, 'bench'), FTPW_BENCH_RUNNER: join(outDir, 'runner.js') };
const argv = process.argv.slice(2);
const baselineAt = argv.indexOf('--baseline');
if (baselineAt >= 0 && !argv.includes('--report-only')) {
  const ref = argv[baselineAt + 1];
  if (!ref || ref.startsWith('--')) fail('--baseline needs a git commit or ref of this repository');
  Object.assign(env, buildBaseline(ref));
}

const child = spawn(process.execPath, ['--enable-source-maps', join(outDir, 'main.js'), ...argv], { stdio: 'inherit', env });
// Ctrl+C reaches the harness too (same process group); it cleans up and exits, then so do we.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

function git(...args) {
  return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * `--baseline REF`: that commit's bench runner, bundled exactly as the current one above (it
 * bundles our client from that commit's src/), run by the harness as one more tool, `ours@SHORT`.
 * The commit is checked out into a temporary worktree only for the bundling; the bundle is
 * self-contained. Packages come from this checkout's node_modules.
 */
function buildBaseline(ref) {
  let commit;
  let short;
  try {
    commit = git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
    short = git('rev-parse', '--short', commit);
  } catch {
    fail(`--baseline ${ref}: not a commit of this repository`);
  }
  checkedOut(commit, short, (tree) => {
    checkProtocol(tree);
    esbuild.buildSync({ ...bundle, outdir: runnerDir(commit), entryPoints: { runner: join(tree, 'bench/src/runner.ts') }, nodePaths: [join(root, 'node_modules')] });
  }, (e) => fail(`--baseline ${ref}: ${e.message}`));
  const runner = join(runnerDir(commit), 'runner.js');
  process.stderr.write(`baseline: ${ref} = ${commit}, runner ${runner}\n`);
  return { FTPW_BENCH_BASELINE_RUNNER: runner, FTPW_BENCH_BASELINE_COMMIT: commit, FTPW_BENCH_BASELINE_SHORT: short };
}

function runnerDir(commit) {
  return join(outDir, `baseline-${commit}`);
}

/** Runs `use` on a temporary worktree of `commit`, removed afterwards whatever happens; `failed` gets use's error after the removal. */
function checkedOut(commit, short, use, failed) {
  const tmp = mkdtempSync(join(tmpdir(), 'ftpw-bench-baseline-'));
  const tree = join(tmp, short);
  let error;
  try {
    git('worktree', 'add', '--detach', tree, commit);
    use(tree);
  } catch (e) {
    error = e;
  } finally {
    if (existsSync(tree)) {
      try { git('worktree', 'remove', '--force', tree); } catch { /* the folder goes below; git drops the entry at its next prune */ }
    }
    rmSync(tmp, { recursive: true, force: true });
  }
  if (error) failed(error);
}

/**
 * The harness spawns `node runner.js JOB_FILE` and reads one JSON line: the baseline's runner must
 * speak that, with the same declarations of bench/src/job.ts for the job file and the result line.
 */
function checkProtocol(tree) {
  const protocol = ['Scenario', 'Mode', 'ServerRef', 'RemotePaths', 'Job', 'SyncJob', 'TraceLine', 'JobResult', 'EDITOR_PAUSE_MS'];
  const tooOld = (why) => {
    throw new Error(`its runner is too old to speak this harness's job protocol (${why}); pick a later one, whose bench/src/job.ts declares the same Job and JobResult`);
  };
  const jobFile = join(tree, 'bench/src/job.ts');
  const runnerFile = join(tree, 'bench/src/runner.ts');
  if (!existsSync(runnerFile) || !existsSync(jobFile)) tooOld('no bench/src/runner.ts and job.ts');
  const runner = readFileSync(runnerFile, 'utf8');
  if (!runner.includes('process.argv[2]') || !/process\.stdout\.write\(`\$\{JSON\.stringify\(result\)\}\\n`\)/.test(runner)) {
    tooOld('it does not read a job file and print one JSON result line');
  }
  const theirs = declarations(readFileSync(jobFile, 'utf8'));
  const ours = declarations(readFileSync(join(root, 'bench/src/job.ts'), 'utf8'));
  const differ = protocol.filter((name) => !extends_(ours.get(name), theirs.get(name)));
  if (differ.length > 0) tooOld(`bench/src/job.ts differs in ${differ.join(', ')}`);
}

/** Exported declarations of a job.ts by name, without comments and whitespace. */
/**
 * Whether our declaration (whitespace and comments removed) is theirs, or theirs with additions an
 * older runner can ignore: optional fields of an interface, members of a union (scenarios it is
 * never asked to run). Anything theirs declares must be in ours unchanged.
 */
function extends_(ours, theirs) {
  if (ours === undefined || theirs === undefined) return ours === theirs;
  if (ours === theirs) return true;
  const iface = /^(exportinterface\w+)\{(.*)\}$/;
  const union = /^(exporttype\w+)=(.*);$/;
  for (const [re, sep, added] of [[iface, ';', /^\w+\?:/], [union, '|', /^'[^']*'$/]]) {
    const [o, t] = [re.exec(ours), re.exec(theirs)];
    if (!o || !t) continue;
    if (o[1] !== t[1]) return false;
    const [ourParts, theirParts] = [topLevel(o[2], sep), topLevel(t[2], sep)];
    return theirParts.every((p) => ourParts.includes(p)) && ourParts.every((p) => theirParts.includes(p) || added.test(p));
  }
  return false;
}

/** `text` split at `sep` outside braces, brackets, parentheses and quotes; empty parts dropped. */
function topLevel(text, sep) {
  const parts = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) { if (c === quote) quote = ''; continue; }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if ('{[('.includes(c)) depth++;
    else if ('}])'.includes(c)) depth--;
    else if (c === sep && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts.filter(Boolean);
}

function declarations(source) {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const out = new Map();
  const re = /export\s+(?:interface|type|const)\s+(\w+)/g;
  let m;
  while ((m = re.exec(text))) {
    // A declaration ends at its closing brace (interface) or at the semicolon ending the line (type, const).
    let i = m.index + m[0].length;
    let depth = 0;
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) { i++; break; }
      else if (c === ';' && depth === 0) { i++; break; }
    }
    out.set(m[1], text.slice(m.index, i).replace(/\s+/g, ''));
  }
  return out;
}
