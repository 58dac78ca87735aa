/**
 * File names that are not UTF-8, on real servers: vsftpd, proftpd and pure-ftpd all pass the bytes of
 * a name on disk through unchanged (design.md §4, §8), so files named in Latin-1 and GBK bytes on
 * disk are what an old Windows or Chinese host serves — through LIST (vsftpd) and MLSD (the other
 * two), with UTF8 offered (proftpd) or not. What we list, open, write, rename and delete must be
 * those same bytes on the server's disk.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as iconv from 'iconv-lite';
import { FtpClient } from '../../src/ftp/client';
import { diagnose } from '../../src/ftp/diagnose';
import type { FtpEvent } from '../../src/ftp/types';
import { rejectsWith } from '../support/assertions';
import { optionsFor, withClient } from '../support/realClients';
import { startServer, stopAllServers, type RunningServer } from '../support/realServers';

const KINDS = ['vsftpd', 'proftpd', 'pure-ftpd'] as const;
const CLI = path.resolve(__dirname, '../../../dist/cli.js');

/** A folder of the server and the names in it, in the bytes of `charset`. */
interface Fixture { dir: string; charset: string; existing: string; created: string; renamed: string; folder: string }

const LATIN1: Fixture = { dir: 'latin', charset: 'latin1', existing: 'café.txt', created: 'naïve Übung.txt', renamed: 'résumé ñ.txt', folder: 'Ordner ß' };
const GBK: Fixture = { dir: 'gbk', charset: 'gbk', existing: '文件.txt', created: '新建 文档.txt', renamed: '报告.txt', folder: '目录' };

function bytesOf(name: string, charset: string): Buffer {
  const b = iconv.encode(name, charset);
  assert.equal(iconv.decode(b, charset), name, `the test name ${name} must exist in ${charset}`);
  return b;
}

/** Local path of a name given as bytes: Node takes Buffer paths as raw bytes. */
function onDisk(server: RunningServer, dir: string, name: Buffer): Buffer {
  return Buffer.concat([Buffer.from(path.join(server.root, dir) + '/'), name]);
}

/** The names in a folder of the server's disk, as raw bytes. */
function namesOnDisk(server: RunningServer, dir: string): Buffer[] {
  return fs.readdirSync(path.join(server.root, dir), { encoding: 'buffer' });
}

function hasName(server: RunningServer, dir: string, name: Buffer): boolean {
  return namesOnDisk(server, dir).some((n) => n.equals(name));
}

/** Makes `dir` with `existing` (content "<dir> content") and a folder, named in the fixture's bytes, owned by the FTP user. */
function seed(server: RunningServer, f: Fixture): void {
  const dir = path.join(server.root, f.dir);
  fs.mkdirSync(dir);
  fs.chownSync(dir, server.uid, server.gid);
  const file = onDisk(server, f.dir, bytesOf(f.existing, f.charset));
  fs.writeFileSync(file, `${f.dir} content\n`);
  fs.chownSync(file, server.uid, server.gid);
  const folder = onDisk(server, f.dir, bytesOf(f.folder, f.charset));
  fs.mkdirSync(folder);
  fs.chownSync(folder, server.uid, server.gid);
}


/** List, open, upload, rename, make a folder in and delete, all through names in `f.charset`. */
async function roundTripThrough(server: RunningServer, f: Fixture, client: FtpClient): Promise<void> {
  const dir = `/${f.dir}`;
  const names = (await client.list(dir)).map((e) => e.name).sort();
  assert.deepEqual(names, [f.existing, f.folder].sort());
  assert.equal((await client.readFile(`${dir}/${f.existing}`)).toString(), `${f.dir} content\n`);
  assert.equal((await client.stat(`${dir}/${f.existing}`)).type, 'file');

  await client.upload(`${dir}/${f.created}`, Buffer.from('new\n'));
  const created = onDisk(server, f.dir, bytesOf(f.created, f.charset));
  assert.ok(hasName(server, f.dir, bytesOf(f.created, f.charset)), `the new name is ${f.charset} bytes on disk: ${namesOnDisk(server, f.dir).map((n) => n.toString('hex')).join(' ')}`);
  assert.equal(fs.readFileSync(created, 'utf8'), 'new\n');

  await client.rename(`${dir}/${f.created}`, `${dir}/${f.renamed}`);
  assert.ok(!hasName(server, f.dir, bytesOf(f.created, f.charset)));
  assert.ok(hasName(server, f.dir, bytesOf(f.renamed, f.charset)));

  await client.upload(`${dir}/${f.folder}/${f.created}`, Buffer.from('inside\n'));
  assert.ok(fs.readdirSync(onDisk(server, f.dir, bytesOf(f.folder, f.charset)), { encoding: 'buffer' }).some((n) => n.equals(bytesOf(f.created, f.charset))));
  await client.cwd(`${dir}/${f.folder}`);
  assert.equal(await client.pwd(), `${dir}/${f.folder}`, 'PWD\'s reply is read in the charset too');

  await client.remove(`${dir}/${f.renamed}`);
  await client.removeDir(`${dir}/${f.folder}`, { recursive: true });
  assert.deepEqual(namesOnDisk(server, f.dir), [bytesOf(f.existing, f.charset)]);
}

after(() => stopAllServers());

describe('file names in legacy charsets', function () {
  this.timeout(120_000);

  // proftpd offers UTF8 and MLSD, pure-ftpd MLSD without UTF8, vsftpd neither: the names must come
  // through LIST and MLSD alike, and a server that offers UTF8 must not talk us out of the charset set.
  for (const kind of KINDS) describe(`on ${kind}, with the charset named`, () => {
    let server: RunningServer;
    beforeEach(async () => {
      server = await startServer(kind);
      seed(server, LATIN1);
      seed(server, GBK);
    });
    afterEach(() => server?.stop());

    for (const f of [LATIN1, GBK]) {
      for (const mode of ['passive', 'active'] as const) {
        it(`${f.charset} (${mode}): lists, opens, writes, renames and deletes names as their ${f.charset} bytes`, async () => {
          await withClient(server, { encoding: f.charset, mode }, async (c, events) => {
            await roundTripThrough(server, f, c);
            // (The LIST time zone is learned at the first listing too: that is another matter.)
            assert.ok(!events.some((e) => e.type === 'warning' || (e.type === 'learned' && e.what === 'encoding')), 'nothing to warn about or learn');
            assert.deepEqual(c.nameCharset, { charset: f.charset, how: 'set in the server\'s encoding' });
            const listedWith = kind === 'vsftpd' ? /^LIST/ : /^MLSD/;
            assert.ok(events.some((e) => e.type === 'command' && listedWith.test(e.text)), `listed with ${listedWith.source}`);
            if (kind === 'proftpd') assert.ok(c.features.has('UTF8') && !events.some((e) => e.type === 'command' && /^OPTS UTF8/.test(e.text)), 'proftpd offers UTF8, and with a charset set we do not turn it on');
          });
        });
      }
    }

    it('utf8 on GBK names: they show "\uFFFD", a warning says why, and opening one is refused before anything is sent', async () => {
      await withClient(server, { encoding: 'utf8' }, async (c, events) => {
        const names = (await c.list('/gbk')).map((e) => e.name);
        const broken = names.find((n) => n.endsWith('.txt'));
        assert.ok(broken?.includes('\uFFFD'), JSON.stringify(names));
        assert.ok(events.some((e) => e.type === 'warning' && /not valid utf8/.test(e.message)), 'warned');
        const sent = events.filter((e) => e.type === 'command').length;
        assert.match((await rejectsWith(c.readFile(`/gbk/${broken}`), 'invalid-name')).message, /in utf8: .*set the server's encoding/);
        assert.equal(events.filter((e) => e.type === 'command').length, sent, 'no RETR with the wrong bytes went out');
      });
    });

    it('refuses a name the charset cannot write, and an unknown charset at connect', async () => {
      await withClient(server, { encoding: 'latin1' }, async (c) => {
        assert.match((await rejectsWith(c.upload('/latin/文件.txt', Buffer.from('x')), 'invalid-name')).message, /in latin1/);
      });
      assert.equal(namesOnDisk(server, 'latin').length, 2, 'no file was made under a "?" name');
      assert.match((await rejectsWith(FtpClient.connect(optionsFor(server, { encoding: 'klingon' })), 'unsupported')).message, /"klingon" is not a known charset/);
    });

    it('auto on a server whose names are UTF-8 stays UTF-8 and writes UTF-8', async () => {
      fs.mkdirSync(path.join(server.root, 'utf'));
      fs.writeFileSync(path.join(server.root, 'utf', 'déjà vu.txt'), 'x');
      server.giveToUser('utf');
      await withClient(server, {}, async (c, events) => {
        assert.deepEqual((await c.list('/utf')).map((e) => e.name), ['déjà vu.txt']);
        await c.upload('/utf/文件.txt', Buffer.from('y'));
        assert.ok(hasName(server, 'utf', Buffer.from('文件.txt', 'utf8')));
        assert.equal(c.nameCharset.charset, 'utf8');
        assert.ok(!events.some((e) => e.type === 'learned' && e.what === 'encoding'));
      });
    });

    it('the CLI takes --encoding, and refuses an unknown charset with exit 2', async () => {
      assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
      const ls = await cli(['ls', server.url('/gbk'), '--encoding', 'gbk', '--json'], server.password);
      assert.equal(ls.code, 0, ls.stderr);
      assert.deepEqual((JSON.parse(ls.stdout) as { name: string }[]).map((e) => e.name).sort(), [GBK.existing, GBK.folder].sort());
      const get = await cli(['get', server.url(`/latin/${LATIN1.existing}`), '--encoding', 'latin1'], server.password);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout, 'latin content\n');
      const bad = await cli(['ls', server.url('/'), '--encoding', 'klingon'], server.password);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--encoding: "klingon" is not a known charset/);
    });
  });

  // Auto remembers what it learned per server, so each case has a server of its own.
  for (const kind of KINDS) for (const [f, expected] of [[LATIN1, 'windows-1252'], [GBK, 'gbk']] as const) {
    describe(`auto, on a ${kind} whose names are ${f.charset}`, () => {
      let server: RunningServer;
      before(async () => {
        server = await startServer(kind);
        seed(server, f);
      });
      after(() => server?.stop());

      it(`learns ${expected} from the first listing that is not UTF-8, says so, and then every name works`, async () => {
        await withClient(server, {}, async (c, events) => {
          assert.equal(c.nameCharset.charset, 'utf8', 'UTF-8 until a listing shows otherwise');
          await roundTripThrough(server, { ...f, charset: expected }, c);
          const learned = events.filter((e): e is Extract<FtpEvent, { type: 'learned' }> => e.type === 'learned' && e.what === 'encoding');
          assert.equal(learned.length, 1);
          assert.equal(learned[0].what, 'encoding');
          assert.match(learned[0].detail, new RegExp(`using ${expected} from now on`));
          assert.equal(c.nameCharset.charset, expected);
        });
      });

      it('another session of the same server uses what was learned before it lists anything', async () => {
        await withClient(server, {}, async (c) => {
          assert.equal((await c.readFile(`/${f.dir}/${f.existing}`)).toString(), `${f.dir} content\n`);
        });
      });

      it('diagnose shows the charset of the names', async () => {
        const d = await diagnose(optionsFor(server, {}));
        const step = d.steps.find((s) => s.name === 'File names');
        assert.ok(step?.ok, JSON.stringify(d.steps));
        assert.match(step.detail, new RegExp(`^${expected} \\(detected: `));
      });
    });
  }

  it('diagnose says UTF-8 on a server with only ASCII names, and the configured charset when one is set', async () => {
    const server = await startServer('vsftpd');
    try {
      const auto = await diagnose(optionsFor(server, {}));
      assert.match(auto.steps.find((s) => s.name === 'File names')?.detail ?? '', /^utf8 \(the server does not offer UTF8/);
      const named = await diagnose(optionsFor(server, { encoding: 'big5' }));
      assert.equal(named.steps.find((s) => s.name === 'File names')?.detail, 'big5 (set in the server\'s encoding)');
    } finally {
      await server.stop();
    }
  });
});

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], password: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, FTP_WORKSPACE_SERVER_MEMORY: '0', FTP_PASSWORD: password }, encoding: 'buffer' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: stdout.toString('utf8'), stderr: stderr.toString() });
    });
  });
}
