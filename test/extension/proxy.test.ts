/**
 * A server profile with `proxy` (issue 18), in the real extension host: vsftpd reached through a
 * real SOCKS5 proxy (danted) that takes a user and password. The proxy's password is given the way
 * a provisioning tool does (`setProxyPassword`, kept in secret storage), never in settings; the
 * proxy's own log proves every connection went through it; the protocol log shows the hop and
 * never the password; Test Connection shows the proxy in the path and both modes working through it.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { extensionApi, prepareServers, protocolLog, realServer, unique, waitForLog } from './helpers';

function env(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run the extension tests through test/vscode/runExtensionTests.ts with test/extension/setup.ts`);
  return value;
}

/** The proxy's log: danted writes one line per relayed connection. */
function proxyLog(): string {
  return fs.readFileSync(env('FTPW_TEST_PROXY_LOG'), 'utf8');
}

/** Connections the proxy relayed for our user to vsftpd's control port ("… -> 127.0.0.1.PORT"). */
function controlConnectionsRelayed(port: number): number {
  return proxyLog().split('\n').filter((l) => / tcp\/connect \[: username%ftpwproxy@/.test(l) && l.endsWith(` 127.0.0.1.${port}`)).length;
}

describe('a server reached through a SOCKS5 proxy (profile "proxied", danted)', function () {
  this.timeout(60_000);
  const vsftpd = realServer('vsftpd');
  const proxied = (relative: string) => vscode.Uri.from({ scheme: 'ftp', authority: 'proxied', path: `/${relative}` });

  before(async function () {
    this.timeout(90_000);
    await prepareServers();
    const api = await extensionApi();
    await api.setPassword('proxied', vsftpd.password);
    // A wrong one first: the first connect is refused by the proxy and asks again (see below).
    await api.setProxyPassword('proxied', 'wrong-Proxy-Pass');
  });

  after(async () => {
    await vscode.commands.executeCommand('ftpWorkspace.switchMode', 'auto', 'proxied');
  });

  it('refuses a proxy password for a server without a proxy', async () => {
    const api = await extensionApi();
    await assert.rejects(api.setProxyPassword('vsftpd', 'x'), /is not reached through a proxy that takes a user name and password/);
  });

  it('asks again when the proxy refuses its password, then reads and saves files through it: the proxy relayed them, the log shows the hop and no password', async () => {
    const api = await extensionApi();
    const before = controlConnectionsRelayed(vsftpd.port);
    const dir = unique('proxy');
    vsftpd.disk.put(`${dir}/hello.txt`, 'hello through the proxy\n');
    const listing = Promise.resolve(vscode.workspace.fs.readDirectory(proxied(dir)));
    // The refusal, in the log; then the right password answers the prompt that opens (given until
    // it has: the prompt opens a moment after the warning, and only an open one takes the answer).
    await waitForLog((text) => /refused the user name or password for "ftpwproxy" — check the proxy user and password\. Asking for the proxy's password again\./.test(text), 'the proxy\'s refusal in the protocol log');
    let listed = false;
    void listing.finally(() => { listed = true; });
    for (const deadline = Date.now() + 20_000; !listed && Date.now() < deadline;) {
      await api.setProxyPassword('proxied', env('FTPW_TEST_PROXY_PASSWORD'), { remember: true });
      await Promise.race([listing.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 200))]);
    }
    assert.deepEqual(await listing, [['hello.txt', vscode.FileType.File]]);
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(proxied(`${dir}/hello.txt`))).toString(), 'hello through the proxy\n');
    await vscode.workspace.fs.writeFile(proxied(`${dir}/saved.txt`), new TextEncoder().encode('saved through the proxy\n'));
    assert.equal(vsftpd.disk.text(`${dir}/saved.txt`), 'saved through the proxy\n');

    assert.ok(controlConnectionsRelayed(vsftpd.port) > before, `danted relayed no new connection to 127.0.0.1.${vsftpd.port}:\n${proxyLog().slice(-2000)}`);
    const url = env('FTPW_TEST_PROXY_URL');
    const log = await waitForLog((text) => text.includes(`through the proxy ${url}`), 'a connect through the proxy in the protocol log');
    assert.match(log, new RegExp(`connected to localhost:${vsftpd.port} through the proxy ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    // Data connections too (the RETR may take the one opened in advance after the listing).
    const dataThroughProxy = /data channel passive for EPSV (\(in advance\) )?(LIST|RETR): local \S+ ↔ proxy socks5:\/\/ftpwproxy@\S+ ↔ remote localhost:\d+/;
    await waitForLog((text) => dataThroughProxy.test(text), 'a passive data connection through the proxy in the protocol log');
    assert.equal((await protocolLog()).includes(env('FTPW_TEST_PROXY_PASSWORD')), false, 'the protocol log holds the proxy password');
  });

  it('works in active mode through the proxy (SOCKS5 BIND) after "FTP: Switch Data Mode"', async () => {
    await vscode.commands.executeCommand('ftpWorkspace.switchMode', 'active', 'proxied');
    const file = `${unique('proxy-active')}/a.txt`;
    vsftpd.disk.put(file, 'active through BIND\n');
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(proxied(file))).toString(), 'active through BIND\n');
    const log = await waitForLog((text) => text.includes(`> RETR /${file}`), `RETR /${file} in the protocol log`);
    assert.match(log, new RegExp(`> EPRT \\|1\\|127\\.0\\.0\\.1\\|\\d+\\|[^]*> RETR /${file}`));
    assert.match(proxyLog(), /tcp\/bindreply \[: /);
  });

  it('Test Connection shows the proxy in the path and both modes working through it', async () => {
    await vscode.commands.executeCommand('ftpWorkspace.switchMode', 'passive', 'proxied');
    await vscode.commands.executeCommand('ftpWorkspace.testConnection', 'proxied');
    // The report the command showed, as the extension serves it.
    const report = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'ftp-workspace-report', path: '/Connection test proxied.md' }));
    const text = report.getText();
    const url = env('FTPW_TEST_PROXY_URL');
    assert.ok(text.includes(`through the proxy \`${url}\``), text);
    assert.ok(text.includes(`this machine → SOCKS5 proxy ${url} → localhost:${vsftpd.port}; passive mode through CONNECT, active mode through BIND`), text);
    assert.match(text, /\| EPSV \(passive\) \| ✅ ok \|/);
    assert.match(text, /\| EPRT \(active\) \| ✅ ok \|/);
    assert.match(text, /Both modes work through the SOCKS5 proxy \(active through BIND\); use passive\./);
  });
});
