/**
 * Search against the real servers: `ftp-workspace find` and `grep` (dist/cli.js) give what `find`
 * and `grep -rn` give on the server's own disk, with grep's exit codes; the content cache makes a
 * second grep download nothing unchanged (counted in the protocol log: RETR commands); and the
 * index (RemoteIndex over RemoteFs and a real pool) equals the server's tree, follows the
 * extension's own writes and finds another client's file after a refresh.
 */
import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { ConnectionPool } from '../../src/ftp/pool';
import { RemoteFs } from '../../src/remote/remoteFs';
import { RemoteIndex } from '../../src/search/remoteIndex';
import { searchText } from '../../src/search/textSearch';
import { DropProxy } from '../support/dropProxy';
import { optionsFor } from '../support/realClients';
import { startServer, stopAllServers, type RunningServer, type ServerKind } from '../support/realServers';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], password: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, FTP_WORKSPACE_SERVER_MEMORY: '0', FTP_PASSWORD: password }, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') });
    });
  });
}

/** A site: nested folders, non-ASCII names and text, CRLF, a binary file and one too big to search. */
function makeSite(root: string): void {
  const files: Record<string, string | Buffer> = {
    'index.html': '<h1>Welcome</h1>\n<p>needle in the page</p>\n',
    'README.md': 'no match here\n',
    'css/site.css': 'body { color: red; }\n/* needle */\n',
    'js/app.js': 'const needle = 1;\nconst haystack = needle + 1;\nneedles();\n',
    'js/lib/deep/util.js': 'export function x() {\n  return "NEEDLE";\n}\n',
    'données/café.txt': 'un café avec le needle\nété\n',
    'données/notes.txt': 'line one\r\nthe needle, in CRLF\r\nlast\r\n',
    'empty/.keep': '',
    'img/logo.png': Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), Buffer.from('needle')]),
    'logs/huge.log': Buffer.alloc(6 * 1024 * 1024, 'needle\n'),
    'node_modules/pkg/index.js': 'needle in a package\n',
  };
  for (let i = 0; i < 20; i++) files[`many/f${i}.txt`] = i % 5 === 0 ? `number ${i} has the needle\n` : `number ${i}\n`;
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(root, 'site', rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
}

/** Every file under `dir` on disk, relative, sorted. */
function filesOnDisk(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const child = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? filesOnDisk(dir, child) : [child];
  }).sort();
}

/** `grep -rn` run on the server's disk (binary files left out, as ours does), paths relative. */
function grepOnDisk(dir: string, args: string[]): string[] {
  let out = '';
  try {
    out = execFileSync('grep', ['-rnI', ...args, '.'], { cwd: dir, env: { ...process.env, LC_ALL: 'C' }, encoding: 'utf8' });
  } catch (err) {
    if ((err as { status?: number }).status !== 1) throw err;
  }
  return out.split('\n').filter(Boolean).map((l) => l.replace(/^\.\//, '').replace(/\r$/, '')).sort();
}

const sortedLines = (text: string) => text.split('\n').filter(Boolean).map((l) => l.replace(/\r$/, '')).sort();
const retrCount = (stderr: string) => stderr.split('\n').filter((l) => /> RETR /.test(l)).length;

for (const kind of ['vsftpd', 'proftpd', 'pure-ftpd'] as ServerKind[]) {
  describe(`search on ${kind}`, function () {
    this.timeout(120_000);
    let server: RunningServer;
    let tmp: string;
    let site: string;
    before(async () => {
      assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
      server = await startServer(kind);
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-search-'));
      makeSite(server.root);
      server.giveToUser();
      site = path.join(server.root, 'site');
    });
    after(async () => {
      await stopAllServers();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('find lists every file under the folder, as find does on the server\'s disk', async () => {
      const r = await cli(['find', server.url('/site')], server.password);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(sortedLines(r.stdout), filesOnDisk(site));
    });

    it('find --name and --exclude narrow it', async () => {
      const r = await cli(['find', server.url('/site'), '--name', '*.js', '--name', '*.txt', '--exclude', 'node_modules', '--exclude', 'many'], server.password);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(sortedLines(r.stdout), ['données/café.txt', 'données/notes.txt', 'js/app.js', 'js/lib/deep/util.js']);
      const json = await cli(['find', server.url('/site/js'), '--json'], server.password);
      const first = JSON.parse(json.stdout.split('\n')[0]) as { path: string; size: number };
      assert.ok(['app.js', 'lib/deep/util.js'].includes(first.path));
      assert.equal(first.size, fs.statSync(path.join(site, 'js', first.path)).size);
    });

    it('grep finds exactly what grep -rn finds on the server\'s disk (non-ASCII, CRLF; binary and huge files skipped)', async () => {
      const r = await cli(['grep', 'needle', server.url('/site')], server.password);
      assert.equal(r.code, 0, r.stderr);
      // logs/huge.log (6 MiB, over the 5 MiB limit) holds a million matches: grep on disk leaves it out too.
      const expected = grepOnDisk(site, ['-F', 'needle', '--exclude-dir=logs']);
      assert.ok(expected.length >= 8, 'the reference found the matches');
      assert.deepEqual(sortedLines(r.stdout), expected);
      const json = await cli(['grep', 'needle', server.url('/site'), '--json'], server.password);
      const summary = (JSON.parse(json.stderr.trim().split('\n').pop()!) as { summary: { skipped: { binary: number; tooLarge: number }; filesMatched: number } }).summary;
      assert.deepEqual([summary.skipped.binary, summary.skipped.tooLarge], [1, 1], 'the PNG and the huge log were skipped and counted');
      assert.equal(json.stdout.split('\n').filter(Boolean).length, expected.length);
    });

    it('grep --regex, --ignore-case, --word, --include and --exclude match grep\'s -E, -i, -w and --include/--exclude-dir', async () => {
      const regex = await cli(['grep', 'needle[s(]', server.url('/site'), '--regex', '--exclude', 'node_modules'], server.password);
      assert.equal(regex.code, 0, regex.stderr);
      assert.deepEqual(sortedLines(regex.stdout), grepOnDisk(site, ['-E', 'needle[s(]', '--exclude-dir=node_modules']));

      const word = await cli(['grep', 'NEEDLE', server.url('/site'), '--ignore-case', '--word', '--include', '*.js', '--exclude', 'node_modules'], server.password);
      assert.equal(word.code, 0, word.stderr);
      assert.deepEqual(sortedLines(word.stdout), grepOnDisk(site, ['-i', '-w', '-F', 'NEEDLE', '--include=*.js', '--exclude-dir=node_modules']));
    });

    it('grep exits 1 without a match and 2 for a pattern that does not compile or a server that is not there', async () => {
      const none = await cli(['grep', 'no such text anywhere', server.url('/site')], server.password);
      assert.equal(none.code, 1, none.stderr);
      assert.equal(none.stdout, '');
      const bad = await cli(['grep', '(unclosed', server.url('/site'), '--regex'], server.password);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /regular expression \/\(unclosed\/ is not valid: Unterminated group/);
      const gone = await cli(['grep', 'needle', `ftp://${server.user}@127.0.0.1:1/site`, '--timeout', '5'], server.password);
      assert.equal(gone.code, 2);
      assert.match(gone.stderr, /nothing listens|refused|connect/i);
    });

    it('a second grep with the content cache downloads nothing unchanged; a changed file is downloaded again', async () => {
      const cacheDir = path.join(tmp, `cache-${kind}`);
      const args = ['grep', 'needle', server.url('/site'), '--cache-dir', cacheDir, '--verbose', '--exclude', 'logs'];
      const first = await cli(args, server.password);
      assert.equal(first.code, 0, first.stderr);
      const textFiles = filesOnDisk(site).filter((f) => !f.startsWith('logs/')).length;
      assert.equal(retrCount(first.stderr), textFiles, 'the first grep downloads every file');

      const second = await cli(args, server.password);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(retrCount(second.stderr), 0, 'nothing unchanged is downloaded again');
      assert.deepEqual(sortedLines(second.stdout), sortedLines(first.stdout));

      fs.appendFileSync(path.join(site, 'js/app.js'), 'another needle\n');
      const third = await cli(args, server.password);
      assert.equal(third.code, 0, third.stderr);
      assert.deepEqual(third.stderr.split('\n').filter((l) => /> RETR /.test(l)).map((l) => l.replace(/^.*> RETR /, '')), ['/site/js/app.js']);
      assert.ok(third.stdout.includes('js/app.js:4:another needle'));
    });

    it('the index equals the server\'s tree, follows our own writes and finds another client\'s file after a refresh', async () => {
      const pool = new ConnectionPool<FtpClient>((mode, onEvent) => FtpClient.connect(optionsFor(server, { mode, onEvent })), { maxConnections: 3 });
      const remote = new RemoteFs(pool, { cacheTtlMs: 5000 });
      const index = new RemoteIndex(remote, '/site', { storePath: path.join(tmp, `index-${kind}.json`) });
      try {
        await index.refresh();
        assert.deepEqual([...index.files()].map((f) => f.path).sort(), filesOnDisk(site));
        assert.equal(index.file('données/café.txt')?.size, fs.statSync(path.join(site, 'données/café.txt')).size);
        assert.notEqual(index.walkedAt, undefined);

        // The extension's own writes, through the same RemoteFs.
        await remote.writeFile('/site/js/new.js', Buffer.from('new\n'), { create: true, overwrite: false });
        await remote.rename('/site/README.md', '/site/docs.md', { overwrite: false });
        await remote.delete('/site/many', { recursive: true });
        const files = [...index.files()].map((f) => f.path);
        assert.ok(files.includes('js/new.js'));
        assert.ok(files.includes('docs.md') && !files.includes('README.md'));
        assert.ok(!files.some((f) => f.startsWith('many/')));
        assert.deepEqual(files.sort(), filesOnDisk(site));

        // Another client adds a file: a listing (the Explorer's, here RemoteFs.list) or a refresh finds it.
        fs.writeFileSync(path.join(site, 'css/other.css'), 'x\n');
        remote.cache.invalidate('/site/css');
        await remote.list('/site/css');
        assert.ok(index.file('css/other.css'), 'a listing of the folder updated the index');
        fs.writeFileSync(path.join(site, 'js/lib/late.js'), 'x\n');
        remote.cache.clear();
        await index.refresh();
        assert.ok(index.file('js/lib/late.js'), 'a refresh found it');

        await index.save();
        const reloaded = new RemoteIndex(remote, '/site', { storePath: path.join(tmp, `index-${kind}.json`) });
        assert.equal(await reloaded.load(), true);
        assert.deepEqual([...reloaded.files()].map((f) => f.path).sort(), filesOnDisk(site));
        reloaded.dispose();
      } finally {
        index.dispose();
        await pool.close();
      }
    });
  });
}

describe('grep on its default 12 connections against servers that allow 3 per address', function () {
  this.timeout(120_000);
  after(() => stopAllServers());
  for (const kind of ['vsftpd', 'proftpd', 'pure-ftpd'] as ServerKind[]) {
    it(`finds on ${kind} exactly what grep -rn finds: the refused connections only shrink the search`, async () => {
      const server = await startServer(kind, { maxPerIp: 3 });
      try {
        makeSite(server.root);
        server.giveToUser();
        const site = path.join(server.root, 'site');
        const r = await cli(['grep', 'needle', server.url('/site'), '--verbose'], server.password);
        assert.equal(r.code, 0, r.stderr.split('\n').filter((l) => !/ [<>] /.test(l)).join('\n'));
        assert.deepEqual(sortedLines(r.stdout), grepOnDisk(site, ['-F', 'needle', '--exclude-dir=logs']));
        // The server did refuse: more than 3 were asked for (421, or proftpd's 530 "too many").
        assert.match(r.stderr, /\b(421|530)\b/);
      } finally {
        await server.stop();
      }
    });
  }
});

describe('search against a server that drops connections mid-search (vsftpd behind a cutting proxy)', function () {
  this.timeout(120_000);
  let server: RunningServer;
  let proxy: DropProxy;
  before(async () => {
    server = await startServer('vsftpd');
    for (let i = 0; i < 12; i++) {
      fs.mkdirSync(path.join(server.root, 'cut', `d${i}`), { recursive: true });
      fs.writeFileSync(path.join(server.root, 'cut', `d${i}`, 'f.txt'), `needle ${i}\n`);
    }
    server.giveToUser();
    proxy = await DropProxy.start(server);
  });
  after(async () => {
    await proxy?.stop();
    await stopAllServers();
  });

  for (const [what, verb] of [['downloads', 'RETR'], ['listings', 'LIST']] as const) {
    it(`keeps the results found so far and says the search is incomplete when its ${what} are cut`, async () => {
      const pool = new ConnectionPool<FtpClient>((mode, onEvent) => FtpClient.connect(optionsFor({ ...server, host: proxy.host, port: proxy.port }, { mode, onEvent })), { maxConnections: 2, busyRetryDelaysMs: [10, 10] });
      const remote = new RemoteFs(pool, { cacheTtlMs: 0 });
      const index = new RemoteIndex(remote, '/cut', { concurrency: 2 });
      let seen = 0;
      // After a few have gone through, every further one is cut (the pool's retry is cut too).
      proxy.onCommand((line) => (line.startsWith(verb) && ++seen > 4 ? 'drop-after' : undefined));
      const found: string[] = [];
      try {
        const summary = await searchText(index, remote, { query: { pattern: 'needle' }, concurrency: 2, onFile: (r) => found.push(r.path) });
        assert.match(summary.incomplete ?? '', /closed|lost|reset|cut|ECONNRESET/i, JSON.stringify(summary));
        assert.ok(found.length > 0 && found.length < 12, `partial results: ${found.length}`);
        assert.equal(summary.filesMatched, found.length);
        // Cut listings leave the index incomplete (no age); cut downloads do not touch it.
        assert.equal(index.walkedAt === undefined, verb === 'LIST');
      } finally {
        proxy.onCommand(undefined);
        index.dispose();
        await pool.close();
      }
    });
  }
});
