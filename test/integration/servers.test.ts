/**
 * Proves the real-server harness (test/support/realServers.ts) with independent clients, curl
 * and lftp, so that a failure in our own client's tests can be blamed on the client, not on the
 * servers it runs against.
 */
import * as assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { RunningServer, ServerKind, ServerOptions, startServer, stopAllServers } from '../support/realServers';
import { eventually } from '../support/assertions';

const KINDS: ServerKind[] = ['vsftpd', 'proftpd', 'pure-ftpd'];

describe('real FTP servers for tests', function () {
  this.timeout(60_000);
  let scratch: string;

  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-servers-test-'));
  });
  after(async () => {
    await stopAllServers();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  for (const kind of KINDS) {
    describe(kind, () => {
      let server: RunningServer;
      before(async () => {
        server = await startServer(kind);
        fs.writeFileSync(path.join(server.root, 'hello.txt'), 'hello\n');
      });
      after(() => server?.stop());

      it('lists / in passive mode, with EPSV and with PASV', async () => {
        for (const extra of [[], ['--disable-epsv']]) {
          const listing = await curlOk(server, [...extra, server.url('/')]);
          assert.match(listing, /hello\.txt/, `curl ${extra.join(' ')}`);
        }
      });

      it('lists / in active mode, with EPRT and with PORT', async () => {
        for (const extra of [[], ['--disable-eprt']]) {
          const listing = await curlOk(server, ['--ftp-port', '127.0.0.1', ...extra, server.url('/')]);
          assert.match(listing, /hello\.txt/, `curl --ftp-port ${extra.join(' ')}`);
        }
      });

      it('stores an upload byte for byte in root and serves it back', async () => {
        const bytes = randomBytes(300_000);
        const local = path.join(scratch, `${kind}-up.bin`);
        fs.writeFileSync(local, bytes);
        await curlOk(server, ['-T', local, server.url('/up.bin')]);
        assert.ok(fs.readFileSync(path.join(server.root, 'up.bin')).equals(bytes), 'file on disk differs');

        const back = path.join(scratch, `${kind}-down.bin`);
        await curlOk(server, ['--ftp-port', '127.0.0.1', '-o', back, server.url('/up.bin')]);
        assert.ok(fs.readFileSync(back).equals(bytes), 'downloaded file differs');
      });

      it('serves lftp in active mode too (upload, listing)', async () => {
        const local = path.join(scratch, `${kind}-lftp.txt`);
        fs.writeFileSync(local, 'from lftp\n');
        const out = await lftp(server, ['set ftp:passive-mode off', `put ${local} -o lftp.txt`, 'cls -1']);
        assert.match(out, /^lftp\.txt$/m);
        assert.equal(fs.readFileSync(path.join(server.root, 'lftp.txt'), 'utf8'), 'from lftp\n');
      });

      it('gives files written by the test to the FTP user on request', async () => {
        fs.mkdirSync(path.join(server.root, 'made-by-test'));
        server.giveToUser('made-by-test');
        const local = path.join(scratch, `${kind}-sub.txt`);
        fs.writeFileSync(local, 'in a sub folder\n');
        await curlOk(server, ['-T', local, server.url('/made-by-test/sub.txt')]);
        assert.equal(fs.readFileSync(path.join(server.root, 'made-by-test/sub.txt'), 'utf8'), 'in a sub folder\n');
      });

      it('listens on ::1 with ipv6: true (passive and active)', async () => {
        await assertLoopbackIpv6();
        const v6 = await startServer(kind, { ipv6: true });
        try {
          assert.equal(v6.host, '::1');
          assert.match(v6.url('/x'), /^ftp:\/\/ftpwtest@\[::1\]:\d+\/x$/);
          fs.writeFileSync(path.join(v6.root, 'six.txt'), '6');
          assert.match(await curlOk(v6, [v6.url('/')]), /six\.txt/);
          assert.match(await curlOk(v6, ['--ftp-port', '::1', v6.url('/')]), /six\.txt/);
        } finally {
          await v6.stop();
        }
      });
    });
  }

  describe('vsftpd with explicit TLS', () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer('vsftpd', { tls: 'explicit' });
      fs.writeFileSync(path.join(server.root, 'secret.txt'), 'over TLS\n');
    });
    after(() => server?.stop());

    it('describes its certificate', () => {
      assert.equal(server.tls, 'explicit');
      assert.match(server.url(), /^ftps:\/\//);
      assert.match(server.certPem ?? '', /BEGIN CERTIFICATE/);
      assert.match(server.certFingerprint256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    });

    it('refuses a login without TLS', async () => {
      const ftp = await RawFtp.connect(server.host, server.port);
      try {
        const reply = await ftp.send(`USER ${server.user}`);
        assert.equal(reply.code, 530, reply.text);
        assert.match(reply.text, /encryption/i);
      } finally {
        ftp.close();
      }
    });

    it('presents the certificate it describes after AUTH TLS, valid for 127.0.0.1 with certPem as CA', async () => {
      const ftp = await RawFtp.connect(server.host, server.port);
      try {
        assert.equal((await ftp.send('AUTH TLS')).code, 234);
        const secure = await ftp.upgrade({ host: server.host, ca: server.certPem });
        assert.ok(secure.authorized, String(secure.authorizationError));
        assert.equal(secure.getPeerCertificate().fingerprint256, server.certFingerprint256);
      } finally {
        ftp.close();
      }
    });

    it('lists and downloads with curl, reusing the TLS session on the data connection', async () => {
      const verbose = await curlOk(server, ['--ssl-reqd', '-k', '-v', server.url('/').replace(/^ftps:/, 'ftp:')], true);
      assert.match(verbose, /secret\.txt/);
      assert.match(verbose, /> AUTH (TLS|SSL)/);
      assert.match(verbose, /> PROT P/);
      const body = await curlOk(server, ['--ssl-reqd', '-k', server.url('/secret.txt').replace(/^ftps:/, 'ftp:')]);
      assert.equal(body, 'over TLS\n');
    });

    it('refuses a data connection whose TLS session is not resumed (require_ssl_reuse)', async () => {
      const result = await curl(server, ['--ssl-reqd', '-k', '-v', '--no-sessionid', server.url('/').replace(/^ftps:/, 'ftp:')]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /522|session reuse/i);
    });
  });

  describe('vsftpd with implicit TLS', () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer('vsftpd', { tls: 'implicit' });
      fs.writeFileSync(path.join(server.root, 'implicit.txt'), 'implicit\n');
    });
    after(() => server?.stop());

    it('speaks TLS from the first byte with the described certificate', async () => {
      const socket = tls.connect({ host: server.host, port: server.port, ca: server.certPem });
      try {
        await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
        assert.equal(socket.getPeerCertificate().fingerprint256, server.certFingerprint256);
        const greeting = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
        assert.match(greeting, /^220 /);
      } finally {
        socket.destroy();
      }
    });

    it('lists and downloads with curl over ftps://', async () => {
      assert.match(server.url('/'), /^ftps:\/\//);
      assert.match(await curlOk(server, ['-k', server.url('/')]), /implicit\.txt/);
      assert.equal(await curlOk(server, ['-k', server.url('/implicit.txt')]), 'implicit\n');
    });
  });

  describe('TLS on the other servers', () => {
    const cases: Array<[ServerKind, ServerOptions['tls']]> = [['proftpd', 'explicit'], ['proftpd', 'implicit'], ['pure-ftpd', 'explicit']];
    for (const [kind, mode] of cases) {
      it(`${kind} with ${mode} TLS lists and downloads with curl`, async () => {
        const server = await startServer(kind, { tls: mode });
        try {
          fs.writeFileSync(path.join(server.root, 'tls.txt'), `${kind} ${mode}\n`);
          const url = (p: string) => (mode === 'explicit' ? server.url(p).replace(/^ftps:/, 'ftp:') : server.url(p));
          assert.match(await curlOk(server, ['--ssl-reqd', '-k', url('/')]), /tls\.txt/);
          assert.equal(await curlOk(server, ['--ssl-reqd', '-k', url('/tls.txt')]), `${kind} ${mode}\n`);
        } finally {
          await server.stop();
        }
      });
    }

    it('pure-ftpd refuses implicit TLS with a clear error', async () => {
      await assert.rejects(startServer('pure-ftpd', { tls: 'implicit' }), /implicit/);
    });
  });

  describe('a server with a wrong PASV address', () => {
    for (const kind of KINDS) {
      it(`${kind} advertises 127.0.0.77 in its PASV reply but serves EPSV normally`, async () => {
        const server = await startServer(kind, { wrongPasvAddress: '127.0.0.77' });
        try {
          const ftp = await RawFtp.connect(server.host, server.port);
          try {
            await ftp.login(server.user, server.password);
            const reply = await ftp.send('PASV');
            assert.equal(reply.code, 227, reply.text);
            assert.match(reply.text, /\(127,0,0,77,\d+,\d+\)/);
          } finally {
            ftp.close();
          }
          fs.writeFileSync(path.join(server.root, 'x.txt'), 'x');
          assert.match(await curlOk(server, [server.url('/')]), /x\.txt/);
        } finally {
          await server.stop();
        }
      });
    }
  });

  describe('a server limiting connections per address', () => {
    // Each refuses the third connection in place of its greeting; proftpd says 530, not 421.
    const refusals: Record<ServerKind, number> = { vsftpd: 421, proftpd: 530, 'pure-ftpd': 421 };
    for (const kind of KINDS) {
      it(`${kind} with maxPerIp 2 refuses a third simultaneous connection with ${refusals[kind]}`, async () => {
        const server = await startServer(kind, { maxPerIp: 2 });
        const open: RawFtp[] = [];
        try {
          open.push(await RawFtp.connect(server.host, server.port));
          open.push(await RawFtp.connect(server.host, server.port));
          for (const ftp of open) await ftp.login(server.user, server.password);
          const third = await RawFtp.connect(server.host, server.port, { acceptRefusal: true });
          open.push(third);
          assert.equal(third.greeting.code, refusals[kind], third.greeting.text);
          // Once one leaves, a new connection is welcome again.
          open[0].close();
          await eventually(async () => {
            const again = await RawFtp.connect(server.host, server.port, { acceptRefusal: true });
            again.close();
            return again.greeting.code === 220;
          }, 'a connection accepted after one of the two left', { intervalMs: 100 });
        } finally {
          for (const ftp of open) ftp.close();
          await server.stop();
        }
      });
    }
  });

  describe('housekeeping', () => {
    it('runs several servers at once on disjoint port blocks', async () => {
      const servers = await Promise.all([startServer('vsftpd'), startServer('vsftpd'), startServer('proftpd'), startServer('pure-ftpd')]);
      try {
        const blocks = servers.map((s) => [s.port - 1, s.pasvPorts[1]]).sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < blocks.length; i++) assert.ok(blocks[i][0] > blocks[i - 1][1], `overlap: ${JSON.stringify(blocks)}`);
        for (const s of servers) assert.ok(s.pasvPorts[0] > s.port && s.pasvPorts[1] >= s.pasvPorts[0]);
        await Promise.all(servers.map(async (s) => assert.equal(await curlOk(s, ['-I', s.url('/')]), '')));
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    });

    it('runs a server inside a network namespace', async () => {
      const ns = `ftpw-harness-${process.pid}`;
      execFileSync('ip', ['netns', 'add', ns]);
      try {
        execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        const server = await startServer('vsftpd', { netns: ns });
        try {
          fs.writeFileSync(path.join(server.root, 'ns.txt'), 'inside\n');
          assert.equal(await curlOk(server, [server.url('/ns.txt')], false, ns), 'inside\n');
          assert.match(await curlOk(server, ['--ftp-port', '127.0.0.1', server.url('/')], false, ns), /ns\.txt/);
          const fromOutside = await curl(server, ['--max-time', '3', server.url('/ns.txt')]);
          assert.notEqual(fromOutside.stdout, 'inside\n', 'the namespace server answered from the host namespace');
        } finally {
          await server.stop();
        }
      } finally {
        execFileSync('ip', ['netns', 'del', ns]);
      }
    });

    it('stop() ends the server and removes its folder', async () => {
      const server = await startServer('proftpd');
      await server.stop();
      assert.equal(isAlive(server.pid), false);
      assert.equal(fs.existsSync(server.root), false);
      await assert.rejects(RawFtp.connect(server.host, server.port));
    });

    it('a test process killed by SIGTERM takes its servers with it', async () => {
      const child = await startInChildProcess('vsftpd');
      child.process.kill('SIGTERM');
      await child.exited;
      await eventually(() => !isAlive(child.serverPid), 'the server to end after its owner got SIGTERM');
    });

    it('ends servers left behind by a crashed (SIGKILLed) test process', async () => {
      const crashed = await startInChildProcess('pure-ftpd');
      crashed.process.kill('SIGKILL');
      await crashed.exited;
      assert.equal(isAlive(crashed.serverPid), true, 'the orphan should outlive its SIGKILLed owner');
      const next = await startInChildProcess('vsftpd');
      try {
        await eventually(() => !isAlive(crashed.serverPid), 'the next run to end the orphaned server');
      } finally {
        next.process.kill('SIGTERM');
        await next.exited;
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Clients

interface Result { code: number; stdout: string; stderr: string }

function curl(server: RunningServer, args: string[], netns?: string): Promise<Result> {
  const curlArgs = ['-sS', '--max-time', '30', '--user', `${server.user}:${server.password}`, ...args];
  const [command, all] = netns ? ['ip', ['netns', 'exec', netns, 'curl', ...curlArgs]] : ['curl', curlArgs];
  return new Promise((resolve) => {
    execFile(command, all, { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** curl's output (with its stderr appended when `withVerbose`), failing with the server's log. */
async function curlOk(server: RunningServer, args: string[], withVerbose = false, netns?: string): Promise<string> {
  const result = await curl(server, args, netns);
  if (result.code !== 0) {
    assert.fail(`curl ${args.join(' ')} exited ${result.code}\n${result.stderr}\n${server.readLogs()}`);
  }
  return withVerbose ? result.stdout + result.stderr : result.stdout;
}

function lftp(server: RunningServer, commands: string[]): Promise<string> {
  const host = net.isIPv6(server.host) ? `[${server.host}]` : server.host;
  const script = [
    'set ftp:ssl-allow no', // pure-ftpd offers AUTH TLS even without a certificate
    'set net:max-retries 1',
    'set net:timeout 15',
    `open -u ${server.user},${server.password} -p ${server.port} ftp://${host}`,
    ...commands,
  ].join('; ');
  return new Promise((resolve, reject) => {
    execFile('lftp', ['-c', script], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`lftp failed: ${error.message}\n${stderr}\n${server.readLogs()}`));
      else resolve(stdout);
    });
  });
}

interface Reply { code: number; text: string }

/** Just enough of an FTP control connection to look at raw replies. */
class RawFtp {
  private buffer = '';
  private waiting: ((reply: Reply) => void) | undefined;
  private failed: ((error: Error) => void) | undefined;
  private readonly queued: Reply[] = [];
  lastReply: Reply = { code: 0, text: '' };
  greeting: Reply = { code: 0, text: '' };

  private constructor(private socket: net.Socket) {
    this.listen(socket);
  }

  static async connect(host: string, port: number, opts: { acceptRefusal?: boolean } = {}): Promise<RawFtp> {
    const socket = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const ftp = new RawFtp(socket);
    ftp.greeting = await ftp.read();
    if (ftp.greeting.code !== 220 && !opts.acceptRefusal) throw new Error(`greeting: ${ftp.greeting.text}`);
    return ftp;
  }

  async login(user: string, password: string): Promise<void> {
    const userReply = await this.send(`USER ${user}`);
    if (userReply.code === 230) return;
    const passReply = await this.send(`PASS ${password}`);
    if (passReply.code !== 230) throw new Error(`login refused: ${passReply.text}`);
  }

  send(line: string): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.read();
  }

  /** Replaces the control socket by a TLS one (after `AUTH TLS` was accepted). */
  async upgrade(options: { host: string; ca?: string }): Promise<tls.TLSSocket> {
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, servername: 'localhost', ca: options.ca, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.listen(secure);
    return secure;
  }

  close(): void {
    this.socket.destroy();
  }

  private listen(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      // A reply ends with a line "ddd text" (multi-line replies start with "ddd-").
      for (;;) {
        const end = /(?:^|\r?\n)(\d{3}) [^\n]*\r?\n/.exec(this.buffer);
        if (!end) break;
        const text = this.buffer.slice(0, end.index + end[0].length);
        this.buffer = this.buffer.slice(text.length);
        this.deliver({ code: Number(end[1]), text: text.trim() });
      }
    });
    socket.on('error', (e) => this.failed?.(e));
    socket.on('close', () => this.failed?.(new Error(`connection closed; last reply: ${this.lastReply.text}`)));
  }

  private deliver(reply: Reply): void {
    this.lastReply = reply;
    const waiter = this.waiting;
    this.waiting = undefined;
    if (waiter) waiter(reply);
    else this.queued.push(reply);
  }

  private read(): Promise<Reply> {
    const next = this.queued.shift();
    if (next) return Promise.resolve(next);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply within 10 s')), 10_000);
      this.waiting = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.failed = (error) => {
        clearTimeout(timer);
        this.waiting = undefined;
        reject(error);
      };
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Starts a server from a separate Node process, as another test run would. */
async function startInChildProcess(kind: ServerKind): Promise<{ process: ReturnType<typeof spawn>; serverPid: number; exited: Promise<void> }> {
  const helper = require.resolve('../support/realServers');
  const code = `require(${JSON.stringify(helper)}).startServer(${JSON.stringify(kind)}).then((s) => { console.log('PID ' + s.pid); setInterval(() => {}, 1000); }, (e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const serverPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PID (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`child exited before starting ${kind}: ${out}`)));
  });
  return { process: child, serverPid, exited };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for our purposes; its parent just has not reaped it yet.
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  return !/^\d+ \(.*\) Z/.test(stat);
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The IPv6 test must fail, not skip, on a machine without ::1. */
async function assertLoopbackIpv6(): Promise<void> {
  const out = await new Promise<string>((resolve) => execFile('ip', ['-6', 'addr', 'show', 'dev', 'lo'], (_e, stdout) => resolve(stdout ?? '')));
  assert.match(out, /inet6 ::1\/128/, 'this machine has no ::1 on lo; the IPv6 tests need it');
}
