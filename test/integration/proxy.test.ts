/**
 * Through real proxies (danted for SOCKS5, tinyproxy for HTTP CONNECT) to real vsftpd servers. The
 * command line runs in a network namespace that reaches nothing but the proxies (proxyLab.ts), so
 * every byte that gets through went through a proxy; the proxies' logs say which. Servers are
 * named "localhost": the proxy resolves the name, in its own namespace, where the servers listen.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FtpClient } from '../../src/ftp/client';
import { ProxyError, parseProxyUrl } from '../../src/ftp/proxy';
import type { FtpEvent, ProxySettings } from '../../src/ftp/types';
import { rejectsWith } from '../support/assertions';
import { PROXY_PASSWORD, startProxyLab, type ProxyLab } from '../support/proxyLab';
import { startServer, stopAllServers, type RunningServer } from '../support/realServers';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');

describe('through a proxy (danted, tinyproxy) from a namespace that reaches nothing else', function () {
  this.timeout(120_000);
  let lab: ProxyLab;
  let plain: RunningServer;
  let explicit: RunningServer;
  let implicit: RunningServer;
  let tmp: string;

  before(async () => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
    lab = await startProxyLab();
    [plain, explicit, implicit] = await Promise.all([
      startServer('vsftpd'),
      startServer('vsftpd', { tls: 'explicit' }),
      startServer('vsftpd', { tls: 'implicit' }),
    ]);
    for (const s of [plain, explicit, implicit]) {
      fs.writeFileSync(path.join(s.root, 'hello.txt'), `hello from ${s.port}\n`);
      s.giveToUser();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-proxy-'));
  });
  after(async () => {
    await stopAllServers();
    lab?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** The server's URL by name, for the proxy to resolve. */
  const url = (s: RunningServer, p = '/') => s.url(p).replace('@127.0.0.1:', '@localhost:');

  /** The command line in the namespace; the proxy password from the environment as documented. */
  const cli = (args: string[], server: RunningServer, proxyPassword = PROXY_PASSWORD) =>
    lab.run(process.execPath, [CLI, ...args], { FTP_PASSWORD: server.password, FTP_PROXY_PASSWORD: proxyPassword });

  const ok = (r: { code: number; stderr: string }, what: string) => assert.equal(r.code, 0, `${what} failed:\n${r.stderr}`);

  it('the namespace reaches the servers only through a proxy (the lab is right)', async () => {
    const direct = await cli(['ls', url(plain), '--timeout', '5'], plain);
    assert.equal(direct.code, 1);
    assert.match(direct.stderr, /Could not connect to localhost:\d+: nothing listens on that port/);
    const curl = await lab.run('curl', ['-sS', '--max-time', '20', '--socks5-hostname', lab.socks.url.replace(/^socks5:\/\//, '').replace(/^[^@]*@/, ''),
      '--proxy-user', `ftpwproxy:${PROXY_PASSWORD}`, '--user', `${plain.user}:${plain.password}`, url(plain, '/hello.txt').replace(/^ftp:\/\/[^@]*@/, 'ftp://')]);
    assert.equal(curl.stdout, `hello from ${plain.port}\n`, curl.stderr);
    const curlHttp = await lab.run('curl', ['-sS', '--max-time', '20', '-p', '-x', lab.http.url.replace('//ftpwproxy@', `//ftpwproxy:${PROXY_PASSWORD}@`),
      '--user', `${plain.user}:${plain.password}`, url(plain, '/hello.txt').replace(/^ftp:\/\/[^@]*@/, 'ftp://')]);
    assert.equal(curlHttp.stdout, `hello from ${plain.port}\n`, curlHttp.stderr);
  });

  for (const kind of ['socks', 'http'] as const) {
    it(`puts, lists and gets in passive mode through ${kind === 'socks' ? 'SOCKS5' : 'HTTP CONNECT'}, the hop in the log, never the proxy password`, async () => {
      const proxy = lab[kind];
      const data = randomBytes(300_000);
      const local = path.join(tmp, `up-${kind}.bin`);
      fs.writeFileSync(local, data);
      const before = proxy.log().length;
      ok(await cli(['put', local, url(plain, `/up-${kind}.bin`), '--mode', 'passive', '--proxy', proxy.url], plain), 'put');
      assert.ok(fs.readFileSync(path.join(plain.root, `up-${kind}.bin`)).equals(data));
      const ls = await cli(['ls', url(plain), '--mode', 'passive', '--json', '--proxy', proxy.url], plain);
      ok(ls, 'ls');
      assert.equal((JSON.parse(ls.stdout) as { name: string; size: number }[]).find((e) => e.name === `up-${kind}.bin`)?.size, data.length);
      const out = path.join(tmp, `down-${kind}.bin`);
      const get = await cli(['get', url(plain, `/up-${kind}.bin`), out, '--mode', 'passive', '--proxy', proxy.url, '--verbose'], plain);
      ok(get, 'get');
      assert.ok(fs.readFileSync(out).equals(data));
      assert.match(get.stderr, new RegExp(`connected to localhost:${plain.port} through the proxy ${escape(proxy.url)}`));
      assert.match(get.stderr, new RegExp(`data channel passive for EPSV (\\(in advance\\) )?RETR: local \\S+ ↔ proxy ${escape(proxy.url)} ↔ remote localhost:\\d+`));
      assert.doesNotMatch(get.stderr + get.stdout, new RegExp(PROXY_PASSWORD));
      // The proxy carried the control connection and the data connections.
      const log = proxy.log().slice(before);
      assert.ok(count(log, kind === 'socks' ? /pass\(1\): tcp\/connect \]/g : /Established connection to host "localhost"/g) >= 6, `the proxy's log shows too few connections:\n${log}`);
    });
  }

  it('with PASV only (--disable-epsv, --trust-pasv-address), passive data still goes to the server\'s name through the proxy', async () => {
    const r = await cli(['ls', url(plain), '--mode', 'passive', '--disable-epsv', '--trust-pasv-address', '--proxy', lab.http.url, '--verbose'], plain);
    ok(r, 'ls with PASV');
    assert.match(r.stdout, /hello\.txt/);
    assert.match(r.stderr, /< 227 Entering Passive Mode \(127,0,0,1,/);
    assert.match(r.stderr, /PASV offered 127\.0\.0\.1:\d+; using the control peer localhost instead\./);
    assert.match(r.stderr, new RegExp(`data channel passive for PASV LIST: local \\S+ ↔ proxy ${escape(lab.http.url)} ↔ remote localhost:\\d+`));
  });

  it('works in active mode through SOCKS5 BIND: the proxy\'s port in EPRT, the server connects to it', async () => {
    const data = randomBytes(100_000);
    const local = path.join(tmp, 'up-active.bin');
    fs.writeFileSync(local, data);
    ok(await cli(['put', local, url(plain, '/up-active.bin'), '--mode', 'active', '--proxy', lab.socks.url], plain), 'put');
    assert.ok(fs.readFileSync(path.join(plain.root, 'up-active.bin')).equals(data));
    const ls = await cli(['ls', url(plain), '--mode', 'active', '--proxy', lab.socks.url], plain);
    ok(ls, 'ls');
    assert.match(ls.stdout, /up-active\.bin/);
    const out = path.join(tmp, 'down-active.bin');
    const get = await cli(['get', url(plain, '/up-active.bin'), out, '--mode', 'active', '--proxy', lab.socks.url, '--verbose'], plain);
    ok(get, 'get');
    assert.ok(fs.readFileSync(out).equals(data));
    assert.match(get.stderr, /> EPRT \|1\|127\.0\.0\.1\|\d+\|/);
    assert.match(get.stderr, /data channel active for EPRT RETR: local \S+ ↔ proxy socks5:\/\/ftpwproxy@\S+ ↔ remote 127\.0\.0\.1:\d+/);
    assert.match(lab.socks.log(), /tcp\/bind \]/);
  });

  it('refuses active mode through an HTTP proxy, or a SOCKS5 proxy that refuses BIND, with "use passive"; auto stays passive', async () => {
    const http = await cli(['ls', url(plain), '--mode', 'active', '--proxy', lab.http.url], plain);
    assert.equal(http.code, 1);
    assert.match(http.stderr, /An HTTP proxy cannot accept the server's data connection, so active mode does not work through http:\/\/ftpwproxy@\S+ — use passive mode\./);
    const noBind = await cli(['ls', url(plain), '--mode', 'active', '--proxy', lab.socksNoBind.url], plain);
    assert.equal(noBind.code, 1);
    assert.match(noBind.stderr, /The SOCKS5 proxy \S+ refused to accept a data connection for active mode \(BIND: (not allowed by its rules|general failure)\) — use passive mode\./);
    const auto = await cli(['ls', url(plain), '--mode', 'auto', '--proxy', lab.http.url, '--verbose'], plain);
    ok(auto, 'auto through HTTP');
    assert.match(auto.stdout, /hello\.txt/);
    assert.doesNotMatch(auto.stderr, /> (EPRT|PORT)|trying active/);
  });

  it('auto mode that remembered active goes passive by itself where BIND is refused, and keeps to it', async () => {
    const events: FtpEvent[] = [];
    const proxy: ProxySettings = { ...parseProxyUrl(lab.socksNoBind.url), password: PROXY_PASSWORD };
    const client = await FtpClient.connect({
      host: 'localhost', port: plain.port, user: plain.user, password: plain.password, proxy, mode: 'auto',
      modeMemory: { get: () => 'active', set: () => undefined }, onEvent: (e) => events.push(e),
    });
    try {
      assert.ok((await client.list('/')).some((e) => e.name === 'hello.txt'));
      assert.equal(client.lastMode, 'passive');
      const fallback = events.find((e) => e.type === 'data-fallback');
      assert.ok(fallback?.type === 'data-fallback' && /BIND: /.test(fallback.reason), JSON.stringify(events.filter((e) => e.type !== 'command' && e.type !== 'reply')));
      assert.equal(client.nextMode, 'passive');
      await client.list('/');
      assert.equal(events.filter((e) => e.type === 'data-fallback').length, 1);
    } finally {
      await client.close();
    }
  });

  for (const [name, kind, mode] of [['SOCKS5, passive', 'socks', 'passive'], ['SOCKS5 BIND, active', 'socks', 'active'], ['HTTP CONNECT, passive', 'http', 'passive']] as const) {
    it(`FTPS end to end through ${name}: data connections resume the control session (vsftpd require_ssl_reuse)`, async () => {
      const data = randomBytes(200_000);
      const local = path.join(tmp, `tls-${kind}-${mode}.bin`);
      fs.writeFileSync(local, data);
      const base = ['--mode', mode, '--proxy', lab[kind].url, '--insecure', '--verbose'];
      const put = await cli(['put', local, url(explicit, `/tls-${kind}-${mode}.bin`), ...base], explicit);
      ok(put, 'put');
      assert.ok(fs.readFileSync(path.join(explicit.root, `tls-${kind}-${mode}.bin`)).equals(data));
      const out = path.join(tmp, `tls-down-${kind}-${mode}.bin`);
      const get = await cli(['get', url(explicit, `/tls-${kind}-${mode}.bin`), out, ...base], explicit);
      ok(get, 'get');
      assert.ok(fs.readFileSync(out).equals(data));
      for (const r of [put, get]) {
        assert.match(r.stderr, /TLS on control: TLSv1\.3/);
        assert.match(r.stderr, new RegExp(`data channel ${mode} for \\w+ (\\(in advance\\) )?(STOR|RETR): .* ↔ proxy ${escape(lab[kind].url)} ↔ .*, TLS \\(resumed\\)`));
      }
    });
  }

  it('implicit FTPS through SOCKS5, and the certificate is checked against the server\'s name, not the proxy\'s', async () => {
    const ls = await cli(['ls', url(implicit), '--implicit-tls', '--insecure', '--proxy', lab.socks.url], implicit);
    ok(ls, 'ls');
    assert.match(ls.stdout, /hello\.txt/);
    const strict = await cli(['ls', url(explicit), '--proxy', lab.http.url], explicit);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /The certificate of localhost is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
  });

  it('tells a wrong proxy password from a wrong server password, and never shows either', async () => {
    for (const proxy of [lab.socks, lab.http]) {
      const r = await cli(['ls', url(plain), '--proxy', proxy.url], plain, 'wrong-Proxy-Pass');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /proxy \S+ refused the user name or password for "ftpwproxy" \(?.*— check the proxy user and password\./);
      assert.doesNotMatch(r.stderr, /wrong-Proxy-Pass/);
    }
    const server = await lab.run(process.execPath, [CLI, 'ls', url(plain), '--proxy', lab.socks.url], { FTP_PASSWORD: 'wrong-Server-Pass', FTP_PROXY_PASSWORD: PROXY_PASSWORD });
    assert.equal(server.code, 1);
    assert.match(server.stderr, /Login to localhost as "ftpwtest" failed \(530 /);
  });

  it('tells the proxy down, and the proxy unable to reach the server, from the server\'s own failures', async () => {
    for (const kind of ['socks5', 'http'] as const) {
      const down = await cli(['ls', url(plain), '--proxy', `${kind}://ftpwproxy@${lab.address}:${lab.downPort}`], plain);
      assert.equal(down.code, 1);
      assert.match(down.stderr, new RegExp(`Could not reach the ${kind === 'http' ? 'HTTP' : 'SOCKS5'} proxy ${escape(lab.address)}:${lab.downPort}: nothing listens there`));
    }
    const closedPort = plain.pasvPorts[1] + 1000;
    const socks = await cli(['ls', `ftp://ftpwtest@localhost:${closedPort}/`, '--proxy', lab.socks.url], plain);
    assert.match(socks.stderr, new RegExp(`The proxy refused to connect to localhost:${closedPort}: connection refused \\(SOCKS5 `));
    const http = await cli(['ls', `ftp://ftpwtest@localhost:${closedPort}/`, '--proxy', lab.http.url], plain);
    assert.match(http.stderr, new RegExp(`The proxy refused to connect to localhost:${closedPort}: 500 `));
  });

  it('diagnose shows the proxy in the path and which modes work through it', async () => {
    const socks = await cli(['diagnose', url(plain), '--proxy', lab.socks.url, '--json'], plain);
    ok(socks, 'diagnose through SOCKS5');
    const d = JSON.parse(socks.stdout) as { proxy?: string; steps: { name: string; ok: boolean; absent?: boolean; detail: string }[]; workingModes: string[]; summary: string };
    assert.equal(d.proxy, lab.socks.url);
    assert.match(d.steps[0].detail, new RegExp(`this machine → SOCKS5 proxy ${escape(lab.socks.url)} → localhost:${plain.port}; passive mode through CONNECT, active mode through BIND`));
    assert.match(d.steps[1].detail, new RegExp(`logged in through ${escape(lab.socks.url)}`));
    assert.deepEqual(d.steps.filter((st) => /^(EPSV|PASV|EPRT|PORT) /.test(st.name)).map((st) => st.ok), [true, true, true, true]);
    assert.deepEqual(d.workingModes, ['passive', 'active']);
    assert.match(d.summary, /^Both modes work through the SOCKS5 proxy \(active through BIND\); use passive\.$/);

    const http = await cli(['diagnose', url(plain), '--proxy', lab.http.url], plain);
    ok(http, 'diagnose through HTTP');
    assert.match(http.stdout, new RegExp(`^Diagnosis of localhost:${plain.port} through the proxy ${escape(lab.http.url)}`));
    assert.match(http.stdout, /ok {3}EPSV \(passive\)/);
    assert.match(http.stdout, /none EPRT \(active\) .* An HTTP proxy cannot accept the server's data connection/);
    assert.match(http.stdout, /Passive mode works through the HTTP proxy; active mode cannot work through an HTTP proxy\. Use passive\.\nRecommended mode: passive/);
  });

  it('fails with typed ProxyErrors (kind "proxy") that say what failed', async () => {
    const connect = (proxy: ProxySettings) => FtpClient.connect({ host: 'localhost', port: plain.port, user: plain.user, password: plain.password, proxy, connectTimeoutMs: 10_000 });
    const wrong = await rejectsWith(connect({ ...parseProxyUrl(lab.socks.url), password: 'nope' }), 'proxy');
    assert.ok(wrong instanceof ProxyError && wrong.failure === 'auth');
    const none = await rejectsWith(connect(parseProxyUrl(lab.http.url.replace('ftpwproxy@', ''))), 'proxy');
    assert.ok(none instanceof ProxyError && none.failure === 'auth');
    const down = await rejectsWith(connect(parseProxyUrl(`socks5://${lab.address}:${lab.downPort}`)), 'proxy');
    assert.ok(down instanceof ProxyError && down.failure === 'unreachable');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function count(text: string, re: RegExp): number {
  return (text.match(re) ?? []).length;
}
