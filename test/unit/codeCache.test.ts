/**
 * V8's code cache for the command line (src/codeCache.ts): where it goes, what it is named, and —
 * running dist/cli.js (built by `npm run build`) with its own cache folder — that it is written
 * once, used after, rewritten when corrupt, and never needed for the command line to work.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CODE_CACHE_ENV, cacheFileName, cacheFolder } from '../../src/codeCache';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');
const CODE_CACHE = path.resolve(__dirname, '../../src/codeCache.js');

interface Run { code: number; stdout: string; stderr: string }

/** `node file args…` with the cache folder in `home` (XDG_CACHE_HOME and HOME both there). */
function run(file: string, args: string[], home: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: path.join(home, 'cache'), ...extraEnv };
  // What the test runner's own environment might say would change what is tested.
  for (const name of [CODE_CACHE_ENV, 'NODE_OPTIONS']) if (!(name in extraEnv)) delete env[name];
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The cache folder's files (name → stat); none when the folder is missing. */
function cacheFiles(home: string): Map<string, fs.Stats> {
  const folder = path.join(home, 'cache', 'ftp-workspace');
  if (!fs.existsSync(folder)) return new Map();
  return new Map(fs.readdirSync(folder).map((n) => [n, fs.statSync(path.join(folder, n))]));
}

/** The one cache file there is; fails the test when there is not exactly one. */
function onlyCache(home: string): { file: string; stat: fs.Stats } {
  const files = [...cacheFiles(home)];
  assert.equal(files.length, 1, `one cache file, found: ${files.map(([n]) => n).join(', ') || 'none'}`);
  const [name, stat] = files[0];
  assert.match(name, /^cli-main\.js-[0-9a-f]{32}-node[\d.]+-\w+\.v8cache$/);
  return { file: path.join(home, 'cache', 'ftp-workspace', name), stat };
}

describe('code cache: folder and file name', () => {
  it('is the per-user cache folder of each platform', () => {
    assert.equal(cacheFolder('linux', { XDG_CACHE_HOME: '/x/cache' }, '/home/u'), '/x/cache/ftp-workspace');
    assert.equal(cacheFolder('linux', {}, '/home/u'), '/home/u/.cache/ftp-workspace');
    assert.equal(cacheFolder('linux', { XDG_CACHE_HOME: 'relative' }, '/home/u'), '/home/u/.cache/ftp-workspace', 'a relative XDG_CACHE_HOME is ignored');
    assert.equal(cacheFolder('freebsd', {}, '/home/u'), '/home/u/.cache/ftp-workspace');
    assert.equal(cacheFolder('darwin', { XDG_CACHE_HOME: '/x/cache' }, '/Users/u'), '/Users/u/Library/Caches/ftp-workspace');
    assert.equal(cacheFolder('win32', { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'C:\\Users\\u'), 'C:\\Users\\u\\AppData\\Local\\ftp-workspace');
    assert.equal(cacheFolder('win32', {}, 'C:\\Users\\u'), 'C:\\Users\\u\\AppData\\Local\\ftp-workspace');
    assert.equal(cacheFolder('linux', {}, ''), undefined, 'no home: no cache');
  });

  it('is named by the bundle content, the Node version and the architecture', () => {
    const a = Buffer.from('console.log(1)');
    const name = cacheFileName('cli-main.js', a, 'v20.20.2', 'x64');
    assert.match(name, /^cli-main\.js-[0-9a-f]{32}-node20\.20\.2-x64\.v8cache$/);
    assert.equal(cacheFileName('cli-main.js', Buffer.from('console.log(1)'), 'v20.20.2', 'x64'), name);
    // Same length, other content: V8 itself would take the old cache for it.
    assert.notEqual(cacheFileName('cli-main.js', Buffer.from('console.log(2)'), 'v20.20.2', 'x64'), name);
    assert.notEqual(cacheFileName('cli-main.js', a, 'v20.20.3', 'x64'), name);
    assert.notEqual(cacheFileName('cli-main.js', a, 'v20.20.2', 'arm64'), name);
    // Other Node flags: V8 would refuse the cache, and runs with and without them rewrite it in turn.
    assert.notEqual(cacheFileName('cli-main.js', a, 'v20.20.2', 'x64', '--max-old-space-size=100'), name);
  });
});

describe('code cache: the command line (dist/cli.js --help)', function () {
  this.timeout(30_000);
  let home: string;
  before(() => assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`));
  beforeEach(() => { home = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-codecache-')); });
  afterEach(() => {
    // The tests change modes; make it all removable again.
    const folder = path.join(home, 'cache', 'ftp-workspace');
    try { fs.chmodSync(folder, 0o700); } catch { /* not there or not a folder */ }
    fs.rmSync(home, { recursive: true, force: true });
  });

  async function help(extraEnv?: NodeJS.ProcessEnv): Promise<void> {
    const r = await run(CLI, ['--help'], home, extraEnv);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: ftp-workspace/);
    assert.equal(r.stderr, '');
  }

  it('writes one cache in a private folder at the first run, and uses it unchanged after', async () => {
    await help();
    const first = onlyCache(home);
    assert.equal(fs.statSync(path.join(home, 'cache', 'ftp-workspace')).mode & 0o777, 0o700);
    assert.equal(first.stat.mode & 0o777, 0o600);
    assert.ok(first.stat.size > 10_000, `a cache of ${first.stat.size} bytes`);
    await help();
    await help();
    // Rejected by V8 or not read at all, it would have been written again (a new file, renamed over).
    const later = onlyCache(home);
    assert.equal(later.stat.ino, first.stat.ino);
    assert.equal(later.stat.mtimeMs, first.stat.mtimeMs);
  });

  it('works with a corrupt or truncated cache, and writes it again', async () => {
    await help();
    const { file } = onlyCache(home);
    const good = fs.readFileSync(file);
    for (const bad of [Buffer.from('garbage, not a V8 code cache'.repeat(100)), good.subarray(0, good.length >> 1)]) {
      fs.writeFileSync(file, bad);
      await help();
      const again = onlyCache(home);
      assert.notDeepEqual(fs.readFileSync(again.file), bad, 'written again');
      assert.ok(again.stat.size > 10_000, `a cache of ${again.stat.size} bytes`);
      // …and that one is used.
      await help();
      assert.equal(onlyCache(home).stat.ino, again.stat.ino);
    }
  });

  it(`is off with ${CODE_CACHE_ENV}=0`, async () => {
    await help({ [CODE_CACHE_ENV]: '0' });
    assert.equal(fs.existsSync(path.join(home, 'cache')), false);
  });

  it('is not used with --enable-source-maps (Node 20 maps no vm.Script; its own loader does)', async () => {
    await help({ NODE_OPTIONS: '--enable-source-maps' });
    assert.equal(fs.existsSync(path.join(home, 'cache')), false);
  });

  it('works when the cache folder cannot be made', async () => {
    fs.mkdirSync(path.join(home, 'cache'));
    // A file in the way (permissions would not stop root, which the integration tests run as).
    fs.writeFileSync(path.join(home, 'cache', 'ftp-workspace'), 'not a folder');
    await help();
    assert.equal(fs.readFileSync(path.join(home, 'cache', 'ftp-workspace'), 'utf8'), 'not a folder');
  });

  it('neither reads nor writes a cache in a folder others can write to', async () => {
    await help();
    const { file } = onlyCache(home);
    const planted = Buffer.from('bytecode someone else put here');
    fs.writeFileSync(file, planted);
    fs.chmodSync(path.dirname(file), 0o777);
    await help();
    // Read, V8 would have refused it and it would have been written again.
    assert.deepEqual(fs.readFileSync(file), planted);
    assert.equal(cacheFiles(home).size, 1);
  });

  it('makes no cache folder in a home that is not ours (root with a user\'s HOME, as sudo -E gives it)', async function () {
    if (process.getuid?.() !== 0) this.skip(); // only root can hand the folder to someone else
    fs.chownSync(home, 65534, 65534);
    await help();
    // A recursive mkdir as root would have left the user a ~/.cache (here: cache) they cannot write to.
    assert.equal(fs.existsSync(path.join(home, 'cache')), false);
  });

  it('keeps one cache per set of Node flags, each used as it is', async () => {
    await help();
    await help({ NODE_OPTIONS: '--max-old-space-size=100' });
    assert.equal(cacheFiles(home).size, 2);
    const before = [...cacheFiles(home).values()].map((s) => s.ino).sort();
    await help();
    await help({ NODE_OPTIONS: '--max-old-space-size=100' });
    assert.deepEqual([...cacheFiles(home).values()].map((s) => s.ino).sort(), before, 'neither was written again');
  });

  it('does not use a cache file others can write to', async () => {
    await help();
    const { file } = onlyCache(home);
    fs.chmodSync(file, 0o666);
    const before = fs.statSync(file);
    await help();
    // Not read: taken as absent, so a private one replaces it.
    const after = onlyCache(home);
    assert.notEqual(after.stat.ino, before.ino);
    assert.equal(after.stat.mode & 0o777, 0o600);
  });
});

describe('code cache: a bundle run through it', function () {
  this.timeout(30_000);
  let home: string;
  let dist: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-codecache-'));
    dist = path.join(home, 'dist');
    fs.mkdirSync(dist);
    fs.writeFileSync(path.join(dist, 'launch.js'), `require(${JSON.stringify(CODE_CACHE)}).runWithCodeCache(require('path').join(__dirname, 'main.js'), module);\n`);
    fs.writeFileSync(path.join(dist, 'main.js'), `"use strict";
// Not ASCII (é): read as UTF-8, not Latin-1.
const facts = {
  accent: 'é',
  filename: __filename, dirname: __dirname, argv: process.argv.slice(1),
  moduleFilename: module.filename, cached: require.cache[__filename] === module,
  requireMain: require.main === module.parent, requires: typeof require('node:path').join,
  resolves: require.resolve('./launch.js'), strict: this === undefined || this === module.exports,
};
exports.answer = 42;
try { throw new Error('where'); } catch (e) { facts.stack = e.stack.split('\\n')[1]; }
if (process.argv[2] === 'throw') throw new Error('uncaught');
console.log(JSON.stringify(facts));
`);
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  for (const cache of ['written', 'used', 'off']) {
    it(`sees what require() would give it (cache ${cache})`, async () => {
      if (cache === 'used') await run(path.join(dist, 'launch.js'), [], home);
      const r = await run(path.join(dist, 'launch.js'), ['a', '--b'], home, cache === 'off' ? { [CODE_CACHE_ENV]: '0' } : {});
      assert.equal(r.code, 0, r.stderr);
      const main = path.join(dist, 'main.js');
      const facts = JSON.parse(r.stdout);
      assert.deepEqual(facts, {
        filename: main, dirname: dist, argv: [path.join(dist, 'launch.js'), 'a', '--b'],
        moduleFilename: main, cached: true, requireMain: true, requires: 'function',
        resolves: path.join(dist, 'launch.js'), strict: true,
        stack: `    at Object.<anonymous> (${main}:11:13)`, accent: 'é',
      });
      assert.equal(cacheFiles(home).size, cache === 'off' ? 0 : 1);
    });
  }

  it('lets an uncaught error end the process as usual, with its place in the bundle', async () => {
    const r = await run(path.join(dist, 'launch.js'), ['throw'], home);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error: uncaught\n {4}at Object.<anonymous> \(.*main\.js:12:/);
  });
});
