/** The `ftp-workspace` command line (dist/cli.js, built by `npm run build`) against real servers. */
import * as assert from 'node:assert/strict';
import { execFile, type ExecFileException } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FaultServer } from '../support/faultServer';
import { startServer, stopAllServers, type RunningServer } from '../support/realServers';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');

interface Run { code: number; stdout: string; stderr: string }

/** A child's exit status as a shell reports it: 0 without an error, else its code (1 when it has none, e.g. a signal). */
function exitStatus(err: ExecFileException | null): number {
  return err ? (typeof err.code === 'number' ? err.code : 1) : 0;
}

/** Runs the command line with FTP_PASSWORD set to `password` ('' without one; null: not set at all). */
function cli(args: string[], password?: string | null): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, FTP_WORKSPACE_SERVER_MEMORY: '0', FTP_PASSWORD: password ?? '' };
  if (password === null) delete env.FTP_PASSWORD;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: exitStatus(err), stdout: stdout.toString('latin1'), stderr: stderr.toString() });
    });
  });
}

/** A bash command line, with FTP_PASSWORD and a file for stderr in ERR. */
function shell(command: string, password: string): Promise<Run> {
  const err = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-sh-')), 'stderr');
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { env: { ...process.env, FTP_WORKSPACE_SERVER_MEMORY: '0', FTP_PASSWORD: password, ERR: err } }, (e, stdout, stderr) => {
      resolve({ code: exitStatus(e), stdout, stderr });
    });
  });
}

describe('ftp-workspace command line', function () {
  this.timeout(120_000);
  let server: RunningServer;
  let tmp: string;
  before(async () => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
    server = await startServer('pure-ftpd');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-cli-'));
  });
  after(async () => { await stopAllServers(); fs.rmSync(tmp, { recursive: true, force: true }); });

  for (const mode of ['passive', 'active'] as const) {
    it(`puts, lists, gets and removes files in ${mode} mode`, async () => {
      const data = randomBytes(200_000);
      const local = path.join(tmp, `up-${mode}.bin`);
      fs.writeFileSync(local, data);
      const put = await cli(['put', local, server.url(`/up-${mode}.bin`), '--mode', mode], server.password);
      assert.equal(put.code, 0, put.stderr);
      assert.ok(fs.readFileSync(path.join(server.root, `up-${mode}.bin`)).equals(data));

      const ls = await cli(['ls', server.url('/'), '--mode', mode, '--json'], server.password);
      assert.equal(ls.code, 0, ls.stderr);
      const entries = JSON.parse(ls.stdout) as { name: string; size: number }[];
      assert.equal(entries.find((e) => e.name === `up-${mode}.bin`)?.size, data.length);

      const out = path.join(tmp, `down-${mode}.bin`);
      const get = await cli(['get', server.url(`/up-${mode}.bin`), out, '--mode', mode], server.password);
      assert.equal(get.code, 0, get.stderr);
      assert.ok(fs.readFileSync(out).equals(data));

      const rm = await cli(['rm', server.url(`/up-${mode}.bin`), '--mode', mode], server.password);
      assert.equal(rm.code, 0, rm.stderr);
      assert.equal(fs.existsSync(path.join(server.root, `up-${mode}.bin`)), false);
    });
  }

  it('writes a download to stdout and logs the protocol with the password masked', async () => {
    fs.writeFileSync(path.join(server.root, 'hello.txt'), 'hello from the server\n');
    const r = await cli(['get', server.url('/hello.txt'), '--verbose'], server.password);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from the server\n');
    assert.match(r.stderr, /> PASS \*\*\*\*/);
    assert.match(r.stderr, /> RETR \/hello.txt/);
    // The launcher connected before the command line proper had loaded, and the session used it.
    assert.match(r.stderr, /connected to .* \(connection started with the process\)/);
    assert.ok(!r.stderr.includes(server.password));
  });

  it('uses PASV and PORT only with --disable-epsv and --disable-eprt', async () => {
    fs.writeFileSync(path.join(server.root, 'old.txt'), 'old server\n');
    const passive = await cli(['get', server.url('/old.txt'), '--mode', 'passive', '--disable-epsv', '--verbose'], server.password);
    assert.equal(passive.code, 0, passive.stderr);
    assert.equal(passive.stdout, 'old server\n');
    assert.match(passive.stderr, /> PASV\n/);
    assert.doesNotMatch(passive.stderr, /> EPSV/);
    const active = await cli(['get', server.url('/old.txt'), '--mode', 'active', '--disable-eprt', '--verbose'], server.password);
    assert.equal(active.code, 0, active.stderr);
    assert.match(active.stderr, /> PORT \d+,\d+,\d+,\d+,\d+,\d+\n/);
    assert.doesNotMatch(active.stderr, /> EPRT/);
  });

  it('stops quietly when the reader of its output goes away (| head)', async () => {
    // Each output is well over a pipe's 64 KiB buffer, so head has exited while the CLI still writes.
    fs.mkdirSync(path.join(server.root, 'many'));
    for (let i = 0; i < 2000; i++) fs.writeFileSync(path.join(server.root, 'many', `file-${String(i).padStart(5, '0')}.txt`), '');
    fs.writeFileSync(path.join(server.root, 'big.bin'), randomBytes(2_000_000));
    server.giveToUser();
    for (const command of [`ls ${server.url('/many')}`, `get ${server.url('/big.bin')}`]) {
      const r = await shell(`node ${CLI} ${command} 2>"$ERR" | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"; cat "$ERR"`, server.password);
      assert.equal(r.stdout, '0\n', `${command}: exit status, then its stderr: ${r.stdout}`);
    }
  });

  it('connects at start-up, before the command line proper has loaded, only for a command line the parser takes (fault server)', async () => {
    const fault = await FaultServer.start({ files: { '/a.txt': 'a\n' } });
    try {
      const url = `ftp://${fault.user}@127.0.0.1:${fault.port}/a.txt`;
      // A mistake in the command line: the usage, and no connection at all.
      const typo = await cli(['get', url, '--mdoe', 'active'], fault.password);
      assert.equal(typo.code, 2);
      // No password to be had without asking (no terminal here): no connection either.
      const noPassword = await cli(['get', url], null);
      assert.equal(noPassword.code, 2, noPassword.stderr);
      assert.equal(fault.sessions.length, 0, 'nothing connected');
      const get = await cli(['get', url, '--verbose'], fault.password);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout, 'a\n');
      assert.match(get.stderr, /\(connection started with the process\)/);
      assert.equal(fault.sessions.length, 1, 'one connection: the early one carried the session');
    } finally { await fault.stop(); }
  });

  it('prepares no data connection after the one transfer of ls, get or put (fault server)', async () => {
    const fault = await FaultServer.start({ files: { '/a.txt': 'a\n' } });
    try {
      const url = (p: string) => `ftp://${fault.user}@127.0.0.1:${fault.port}${p}`;
      const local = path.join(tmp, 'one-shot.txt');
      fs.writeFileSync(local, 'put\n');
      for (const args of [['ls', url('/')], ['get', url('/a.txt')], ['put', local, url('/b.txt')]]) {
        const before = fault.count('EPSV');
        const r = await cli(args, fault.password);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(fault.count('EPSV') - before, 1, `${args[0]}: one EPSV, for its transfer`);
      }
      assert.equal(fault.files.get('/b.txt')?.toString(), 'put\n');
    } finally { await fault.stop(); }
  });

  it('a one-shot get opens its data connection with the login and exits once the 226 is in, not waiting for QUIT\'s reply (fault server)', async () => {
    const fault = await FaultServer.start({ files: { '/a.txt': 'a\n' } });
    // A server that never answers QUIT and keeps its side open after our FIN: the process must not wait for it.
    let quitAt = 0;
    fault.handle('QUIT', (ctx) => { quitAt = Date.now(); ctx.session.socket.allowHalfOpen = true; });
    try {
      const r = await cli(['get', `ftp://${fault.user}@127.0.0.1:${fault.port}/a.txt`, '--verbose'], fault.password);
      const exitedAt = Date.now();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'a\n');
      const lines = r.stderr.split('\n');
      const firstReply = lines.findIndex((l) => / < 331 /.test(l));
      const epsv = lines.findIndex((l) => / > EPSV$/.test(l));
      assert.ok(epsv >= 0 && epsv < firstReply, `EPSV went out with the login:\n${r.stderr}`);
      assert.ok(quitAt > 0, 'QUIT was sent');
      // Before, the process lived on until the socket's 2 s close timer.
      assert.ok(exitedAt - quitAt < 1000, `exited ${exitedAt - quitAt} ms after QUIT`);
    } finally { await fault.stop(); }
  });

  it('rm and mkdir open no data connection (fault server)', async () => {
    const fault = await FaultServer.start({ files: { '/a.txt': 'a\n' } });
    try {
      const url = (p: string) => `ftp://${fault.user}@127.0.0.1:${fault.port}${p}`;
      for (const args of [['rm', url('/a.txt')], ['mkdir', url('/d/e')]]) {
        const r = await cli(args, fault.password);
        assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
      }
      assert.equal(fault.count('EPSV') + fault.count('PASV'), 0);
      assert.equal(fault.files.has('/a.txt'), false);
    } finally { await fault.stop(); }
  });

  it('makes nested folders', async () => {
    const r = await cli(['mkdir', server.url('/a/b/c')], server.password);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.statSync(path.join(server.root, 'a/b/c')).isDirectory());
  });

  it('chmod sets a file\'s mode, and a folder\'s contents with --recursive (links left alone)', async () => {
    const root = (p: string) => path.join(server.root, p);
    fs.mkdirSync(root('perm/sub'), { recursive: true });
    fs.writeFileSync(root('perm/a.sh'), 'a');
    fs.writeFileSync(root('perm/sub/b.txt'), 'b');
    fs.writeFileSync(root('target.txt'), 't');
    fs.symlinkSync('../target.txt', root('perm/link'));
    server.giveToUser();
    fs.chmodSync(root('target.txt'), 0o644);
    const mode = (p: string) => fs.lstatSync(root(p)).mode & 0o7777;

    const one = await cli(['chmod', '750', server.url('/perm/a.sh')], server.password);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(mode('perm/a.sh'), 0o750);

    const tree = await cli(['chmod', 'rwx------', server.url('/perm'), '--recursive', '--parallel', '3', '--json'], server.password);
    assert.equal(tree.code, 0, tree.stderr);
    assert.deepEqual(JSON.parse(tree.stdout), { changed: 4, failed: [], skippedLinks: 1 });
    for (const p of ['perm', 'perm/sub', 'perm/a.sh', 'perm/sub/b.txt']) assert.equal(mode(p), 0o700, p);
    assert.equal(mode('target.txt'), 0o644);

    const missing = await cli(['chmod', '644', server.url('/perm/none.txt')], server.password);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^ftp-workspace: SITE: /);
    const bad = await cli(['chmod', '9', server.url('/perm/a.sh')], server.password);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^ftp-workspace: chmod: "9" is not a permission mode/);
  });

  it('get --resume and put --resume go on from a partial copy, byte-identical', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    fs.writeFileSync(path.join(server.root, 'iso.bin'), data);
    const partial = path.join(tmp, 'iso.bin');
    fs.writeFileSync(partial, data.subarray(0, 1_500_000));
    const get = await cli(['get', server.url('/iso.bin'), partial, '--resume', '--json', '--verbose'], server.password);
    assert.equal(get.code, 0, get.stderr);
    assert.ok(fs.readFileSync(partial).equals(data));
    assert.match(get.stderr, /\* resuming at byte 1500000 \(prefix checked by overlap\)/);
    assert.match(get.stderr, /> REST 1434464/);

    fs.writeFileSync(path.join(server.root, 'up.iso'), data.subarray(0, 2_000_000));
    server.giveToUser();
    const put = await cli(['put', partial, server.url('/up.iso'), '--resume', '--json'], server.password);
    assert.equal(put.code, 0, put.stderr);
    assert.ok(fs.readFileSync(path.join(server.root, 'up.iso')).equals(data));
    assert.deepEqual(JSON.parse(put.stdout).resumedAt, [2_000_000]);
  });

  it('fails with a one-line error naming the cause', async () => {
    const wrong = await cli(['ls', server.url('/')], 'not-the-password');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^ftp-workspace: Login to .* failed .*check the user name and password\.\n$/);
    assert.ok(!wrong.stderr.includes('not-the-password'));

    const missing = await cli(['get', server.url('/no-such-file.txt'), path.join(tmp, 'x')], server.password);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found/);

    const closedPort = await cli(['ls', 'ftp://u@127.0.0.1:1/'], 'x');
    assert.equal(closedPort.code, 1);
    assert.match(closedPort.stderr, /nothing listens on that port/);

    const usage = await cli(['frobnicate']);
    assert.equal(usage.code, 2);
  });

  it('refuses an unknown option or a bad value with its usage and exit code 2, without connecting', async () => {
    const local = path.join(tmp, 'typo.txt');
    const typo = await cli(['get', server.url('/hello.txt'), local, '--mdoe', 'active', '--verbose'], server.password);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^ftp-workspace: get: unknown option --mdoe\n/);
    assert.match(typo.stderr, /\nUsage: ftp-workspace get <url> \[local-file\] \[options\]\n/);
    assert.doesNotMatch(typo.stderr, /connected to/);
    assert.equal(typo.stdout, '');
    assert.equal(fs.existsSync(local), false);

    const sideways = await cli(['ls', server.url('/'), '--mode', 'sideways'], server.password);
    assert.equal(sideways.code, 2);
    assert.match(sideways.stderr, /--mode must be passive, active or auto, not "sideways"/);
    assert.match(sideways.stderr, /Usage: ftp-workspace ls <url> \[options\]/);

    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: ftp-workspace <command> \[options\]/);
  });

  it('diagnose reports both modes working and recommends passive', async () => {
    const r = await cli(['diagnose', server.url('/'), '--json'], server.password);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as { workingModes: string[]; recommendation: string; steps: { name: string; ok: boolean }[] };
    assert.deepEqual(d.workingModes, ['passive', 'active']);
    assert.equal(d.recommendation, 'passive');
    for (const variant of ['EPSV', 'PASV', 'EPRT', 'PORT']) {
      assert.ok(d.steps.find((s) => s.name.startsWith(variant))?.ok, `${variant} works`);
    }
  });

  for (const kind of ['vsftpd', 'proftpd'] as const) {
    it(`diagnose reports both modes working on ${kind}`, async () => {
      const other = await startServer(kind);
      const r = await cli(['diagnose', other.url('/'), '--json'], other.password);
      assert.equal(r.code, 0, r.stderr);
      const d = JSON.parse(r.stdout) as { workingModes: string[]; recommendation: string; steps: { name: string; ok: boolean; absent?: boolean; untried?: boolean }[] };
      assert.deepEqual(d.workingModes, ['passive', 'active']);
      // Nothing fails; what the server lacks is reported as missing, not as broken.
      assert.deepEqual(d.steps.filter((s) => !s.ok && !s.absent && !s.untried), [], JSON.stringify(d.steps));
      const listing = (name: string) => d.steps.find((s) => s.name.startsWith(name));
      assert.equal(listing('LIST')?.ok, true);
      if (kind === 'vsftpd') assert.equal(listing('MLSD')?.absent, true, 'vsftpd has no MLSD');
      else assert.equal(listing('MLSD')?.ok, true, 'proftpd has MLSD');
    });
  }

  it('diagnose finds that only passive works when the server cannot connect back', async () => {
    const r = await cli(['diagnose', server.url('/'), '--active-address', '127.0.0.99'], server.password);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /FAIL EPRT/);
    assert.match(r.stdout, /FAIL PORT/);
    assert.match(r.stdout, /Recommended mode: passive/);
  });

  it('remembers what a server offered and its time zone for the next run: no MDTM the second time, the same listing', async () => {
    const vsftpd = await startServer('vsftpd');
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-memory-'));
    fs.chmodSync(cache, 0o700);
    try {
      fs.writeFileSync(path.join(vsftpd.root, 'note.txt'), 'x');
      const ls = () => new Promise<Run>((resolve) => {
        execFile(process.execPath, [CLI, 'ls', vsftpd.url('/'), '--verbose'], { env: { ...process.env, XDG_CACHE_HOME: cache, FTP_PASSWORD: vsftpd.password } }, (err, stdout, stderr) => {
          resolve({ code: exitStatus(err), stdout, stderr });
        });
      });
      const first = await ls();
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /> MDTM \/note\.txt/, 'the first run finds vsftpd\'s zone');
      const file = path.join(cache, 'ftp-workspace', 'servers.json');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const kept = fs.readFileSync(file, 'utf8');
      assert.ok(!kept.includes(vsftpd.user) && !kept.includes(vsftpd.password), 'no user name or password in the file');
      const second = await ls();
      assert.equal(second.code, 0, second.stderr);
      assert.doesNotMatch(second.stderr, /> MDTM/, 'the zone came from the first run');
      assert.match(second.stderr, /> FEAT/, 'FEAT is still asked (its answer corrects the memory)');
      assert.equal(second.stdout, first.stdout);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
      await vsftpd.stop();
    }
  });
});
