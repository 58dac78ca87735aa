import * as assert from 'node:assert/strict';
import { DEFAULTS, bypassesProxy, proxyAccount, resolveServer, secretKey, ServerConfigError } from '../../src/remote/serverConfig';

describe('the proxy setting of servers', () => {
  const profiles = [
    { name: 'corp', host: 'ftp.example.com', user: 'bob', proxy: 'socks5://alice@proxy.corp:1080' },
    { name: 'web', host: 'ftp.example.com', proxy: 'http://proxy.corp:3128' },
    { name: 'direct', host: 'ftp.example.com', proxy: 'none' },
    { name: 'follow', host: 'ftp.example.com', proxy: 'vscode' },
    { name: 'inside', host: 'files.intranet.corp', proxy: 'vscode' },
    { name: 'silent', host: 'ftp.example.com' },
  ];
  const withVscode = { ...DEFAULTS, vscodeProxy: { url: 'http://carol:pw@proxy.corp:8080', noProxy: ['.intranet.corp', 'localhost'] } };

  it('is none by default, for profiles and ftp:// URLs alike', () => {
    assert.equal(DEFAULTS.proxy, 'none');
    assert.equal(resolveServer('ftp', 'silent', profiles).options.proxy, undefined);
    assert.equal(resolveServer('ftp', 'bob@ftp.example.com', profiles).options.proxy, undefined);
    assert.equal(resolveServer('ftp', 'direct', profiles, { ...DEFAULTS, proxy: 'socks5://p:1080' }).options.proxy, undefined, 'a profile\'s none beats the global proxy');
  });

  it('takes a profile\'s URL, and the global one where the profile says nothing', () => {
    assert.deepEqual(resolveServer('ftp', 'corp', profiles).options.proxy, { kind: 'socks5', host: 'proxy.corp', port: 1080, user: 'alice', password: undefined });
    assert.deepEqual(resolveServer('ftp', 'web', profiles).options.proxy, { kind: 'http', host: 'proxy.corp', port: 3128, user: undefined, password: undefined });
    assert.equal(resolveServer('ftp', 'bob@h', profiles, { ...DEFAULTS, proxy: 'socks5://p:9' }).options.proxy?.port, 9);
  });

  it('follows VS Code\'s http.proxy for "vscode", except for hosts in http.noProxy', () => {
    assert.deepEqual(resolveServer('ftp', 'follow', profiles, withVscode).options.proxy, { kind: 'http', host: 'proxy.corp', port: 8080, user: 'carol', password: 'pw' });
    assert.equal(resolveServer('ftp', 'inside', profiles, withVscode).options.proxy, undefined);
    assert.equal(resolveServer('ftp', 'follow', profiles, { ...DEFAULTS, vscodeProxy: { url: '', noProxy: [] } }).options.proxy, undefined, 'VS Code has no proxy: none');
  });

  it('refuses a password in the setting, and what is no proxy, naming the profile', () => {
    assert.throws(() => resolveServer('ftp', 'p', [{ name: 'p', host: 'h', proxy: 'socks5://alice:hunter2@proxy:1080' }]),
      (e: Error) => e instanceof ServerConfigError && /Server profile "p": proxy: put no password in the setting — write socks5:\/\/alice@proxy:1080/.test(e.message) && !e.message.includes('hunter2'));
    assert.throws(() => resolveServer('ftp', 'p', [{ name: 'p', host: 'h', proxy: 'ftp://proxy' }]), /Server profile "p": proxy: Unsupported proxy type "ftp"/);
    assert.throws(() => resolveServer('ftp', 'h', [], { ...DEFAULTS, proxy: 'proxy.corp:1080' }), /ftpWorkspace\.proxy: Unsupported proxy type/);
    assert.throws(() => resolveServer('ftp', 'follow', profiles, { ...DEFAULTS, vscodeProxy: { url: 'pac://x', noProxy: [] } }), /is "vscode", but VS Code's http.proxy: Unsupported proxy type "pac"/);
  });

  it('keeps one password per proxy and user in secret storage, apart from the servers\' passwords', () => {
    const server = resolveServer('ftp', 'corp', profiles);
    const account = proxyAccount(server);
    assert.deepEqual(account, { user: 'alice', host: 'proxy.corp', port: 1080, proxy: 'socks5://alice@proxy.corp:1080', label: 'corp' });
    assert.equal(secretKey(account), 'ftpWorkspace.proxyPassword:socks5://alice@proxy.corp:1080');
    assert.equal(secretKey(server), 'ftpWorkspace.password:bob@ftp.example.com:21');
    assert.equal(proxyAccount(resolveServer('ftp', 'web', profiles)), undefined, 'a proxy without a user asks for nothing');
  });
});

describe('bypassesProxy (NO_PROXY rules)', () => {
  it('matches hosts, their subdomains, "*" and host:port entries', () => {
    assert.equal(bypassesProxy('ftp.intranet.corp', ['.intranet.corp']), true);
    assert.equal(bypassesProxy('intranet.corp', ['*.intranet.corp']), true);
    assert.equal(bypassesProxy('FTP.Example.com', ['example.com']), true);
    assert.equal(bypassesProxy('notexample.com', ['example.com']), false);
    assert.equal(bypassesProxy('10.1.2.3', ['10.1.2.3:21']), true);
    assert.equal(bypassesProxy('::1', ['[::1]']), true);
    assert.equal(bypassesProxy('2001:db8::1', ['2001:db8::1']), true);
    assert.equal(bypassesProxy('2001:db8::1', ['[2001:db8::1]:21']), true);
    assert.equal(bypassesProxy('anything', ['*']), true);
    assert.equal(bypassesProxy('ftp.example.com', ['', ' ']), false);
  });
});
