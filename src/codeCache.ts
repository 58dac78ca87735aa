/**
 * The command line's start-up: its bundle (dist/cli-main.js, 0.8 MB) run from V8's code cache.
 *
 * Compiling the bundle was a third of a one-shot command's start-up (~22 ms in V8's compiler of
 * ~70–85 ms for `--help`; `node -e 0` alone is ~30 ms). V8 can skip that when given the bytecode of an earlier run
 * (`vm.Script`'s `cachedData`), so the first run writes it, at exit — with every function that run
 * compiled, not only the top level — and later runs start from it.
 *
 * A cache is bytecode, as good as code: it lives only in the user's own cache folder (never a
 * shared /tmp), a folder or file that others could write is not used, and its name carries the
 * bundle's content hash, Node's version and the CPU architecture, so a new build or a new Node never
 * meets an old cache. V8 itself refuses a cache that is corrupt, truncated or made by another V8 or
 * with other flags (`cachedDataRejected`): the bundle is then compiled from source as without a
 * cache, and the cache written again. Any failure to read or write only costs the time saved.
 * `FTP_WORKSPACE_CODE_CACHE=0` turns it off.
 */
import { isAscii } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** The environment variable that turns the cache off with `0`. */
export const CODE_CACHE_ENV = 'FTP_WORKSPACE_CODE_CACHE';

/** Caches kept per bundle name (other builds, other Node versions); older ones go when one is written. */
const KEEP = 4;

/**
 * The per-user cache folder: `$XDG_CACHE_HOME/ftp-workspace` or `~/.cache/ftp-workspace` (Linux and
 * other Unixes), `~/Library/Caches/ftp-workspace` (macOS), `%LOCALAPPDATA%\ftp-workspace` (Windows).
 * Undefined without a home folder to put it in.
 */
export function cacheFolder(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string | undefined {
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA && p.isAbsolute(env.LOCALAPPDATA) ? env.LOCALAPPDATA : home && p.join(home, 'AppData', 'Local');
    return local ? p.join(local, 'ftp-workspace') : undefined;
  }
  if (platform === 'darwin') return home ? p.join(home, 'Library', 'Caches', 'ftp-workspace') : undefined;
  // XDG: a relative value is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME && p.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : home && p.join(home, '.cache');
  return xdg ? p.join(xdg, 'ftp-workspace') : undefined;
}

/**
 * The cache's file name for this bundle content on this Node. The content's hash, not its size and
 * mtime: npm installs every file with the same mtime (1985), so two versions of the same size would
 * share a cache, and V8 checks only the source's length — it would run the other version's
 * bytecode. Hashing the 1 MB bundle takes ~1.5 ms.
 */
export function cacheFileName(bundleName: string, content: Uint8Array, version: string, arch: string, flags = ''): string {
  // V8 refuses a cache made under other flags (--max-old-space-size, NODE_OPTIONS): runs with and
  // without them would otherwise rewrite one file in turn, each paying a full compile.
  const hash = createHash('sha256').update(content).update(`\0${flags}`).digest('hex').slice(0, 32);
  return `${bundleName}-${hash}-node${version.replace(/^v/, '')}-${arch}.v8cache`;
}

/**
 * Runs the CommonJS file `bundle` as `require(bundle)` would, from V8's code cache when there is a
 * usable one, and writes the cache at exit when there was none. `__filename`, `__dirname`, `module`
 * and `require` are the bundle's own; `require.main` is the launcher's module, as with a plain
 * `require` (src/cli.ts runs its main unconditionally); `process.argv` is untouched.
 */
export function runWithCodeCache(bundle: string, parent: NodeJS.Module): void {
  // Stack traces through --enable-source-maps need Node's own loader: in Node 20 a vm.Script's
  // source map is not applied. Those who ask for source maps get them, without the cache.
  if (process.env[CODE_CACHE_ENV] === '0' || process.sourceMapsEnabled) {
    parent.require(bundle);
    return;
  }
  const content = fs.readFileSync(bundle);
  const folder = privateFolder();
  const name = path.basename(bundle);
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\0');
  const file = folder && path.join(folder, cacheFileName(name, content, process.version, process.arch, flags));
  const cachedData = file ? readPrivateFile(file) : undefined;
  const script = new vm.Script(Module.wrap(sourceText(content)), { filename: bundle, cachedData });
  if (file && (!cachedData || script.cachedDataRejected)) {
    // At exit, so that the cache holds the functions this run compiled: for a `get`, most of what
    // the next `get` needs.
    process.once('exit', () => writeCache(file, name, () => script.createCachedData()));
  }
  const mod = new Module(bundle, parent);
  mod.filename = bundle;
  mod.paths = parent.paths; // the launcher is in the same folder
  const req = createRequire(bundle);
  req.cache[bundle] = mod;
  const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => void;
  wrapper.call(mod.exports, mod.exports, req, mod, bundle, path.dirname(bundle));
  mod.loaded = true;
}

/**
 * The bundle's text. An ASCII bundle (esbuild escapes non-ASCII in code; a build without comments
 * has no other) is read as Latin-1, the same text: ~1 ms instead of ~3 ms for UTF-8 decoding, and
 * V8 gets a one-byte string, which it hashes and scans faster.
 */
function sourceText(content: Buffer): string {
  return content.toString(isAscii(content) ? 'latin1' : 'utf8');
}

/** The cache folder, made if missing (0700); undefined when there is none or others could write to it. */
export function privateFolder(): string | undefined {
  try {
    const home = os.homedir();
    const folder = cacheFolder(process.platform, process.env, home);
    if (!folder) return undefined;
    // Made only inside a folder of ours: run as root with a user's HOME (sudo -E), a recursive
    // mkdir would leave the user a ~/.cache of root's that they can no longer write to.
    const parent = path.dirname(folder);
    if (!ours(fs.statSync(fs.existsSync(parent) ? parent : home))) return undefined;
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    const s = fs.lstatSync(folder); // a link is not followed
    return s.isDirectory() && ownedAndPrivate(s) ? folder : undefined;
  } catch {
    return undefined;
  }
}

/** Files carry an owner and mode bits to check (Unix); on Windows the profile's access list says whose they are. */
const UNIX_OWNERS = process.platform !== 'win32' && typeof process.getuid === 'function';

/** The user's running us. */
function ours(s: fs.Stats): boolean {
  return !UNIX_OWNERS || s.uid === process.getuid?.();
}

/** Ours and writable by nobody else: anyone who could write there could plant bytecode. */
function ownedAndPrivate(s: fs.Stats): boolean {
  return ours(s) && (!UNIX_OWNERS || (s.mode & 0o022) === 0);
}

/** A file's bytes in the private folder; undefined when absent, unreadable, a link or not private. */
export function readPrivateFile(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
    const s = fs.fstatSync(fd);
    return s.isFile() && ownedAndPrivate(s) ? fs.readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Written to a temporary name and renamed over, so a reader never sees half a cache (several
 * processes may start at once); older caches of the same bundle name beyond the newest KEEP go.
 * Any error is ignored: a read-only home or a full disk only costs the next run its head start.
 */
function writeCache(file: string, bundleName: string, data: () => Buffer): void {
  if (!writePrivateFile(file, data)) return;
  try { prune(path.dirname(file), `${bundleName}-`); } catch { /* next time */ }
}

/** Writes a private file (0600) at once: to a temporary name, renamed over. False on any error. */
export function writePrivateFile(file: string, data: () => Buffer | string): boolean {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data(), { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, file);
    return true;
  } catch {
    try { fs.unlinkSync(tmp); } catch { /* never made */ }
    return false;
  }
}

/** Removes this bundle's caches beyond the newest KEEP, and temporary files an interrupted write left. */
function prune(folder: string, prefix: string): void {
  const ours = fs.readdirSync(folder).filter((n) => n.startsWith(prefix)).map((name) => {
    const p = path.join(folder, name);
    return { p, name, mtimeMs: fs.lstatSync(p).mtimeMs };
  });
  const caches = ours.filter((f) => f.name.endsWith('.v8cache')).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const stale = [...caches.slice(KEEP), ...ours.filter((f) => f.name.endsWith('.tmp') && f.mtimeMs < Date.now() - 600_000)];
  for (const f of stale) {
    try { fs.unlinkSync(f.p); } catch { /* another process got there */ }
  }
}
