import * as assert from 'node:assert/strict';
import { describeProxy, parseProxyUrl, ProxyError } from '../../src/ftp/proxy';

describe('parseProxyUrl', () => {
  it('reads SOCKS5 and HTTP proxies with their default ports', () => {
    assert.deepEqual(parseProxyUrl('socks5://proxy.example.com'), { kind: 'socks5', host: 'proxy.example.com', port: 1080, user: undefined, password: undefined });
    assert.deepEqual(parseProxyUrl('http://10.0.0.1'), { kind: 'http', host: '10.0.0.1', port: 8080, user: undefined, password: undefined });
    // socks5h (name resolved by the proxy) is what we always do; socks:// means SOCKS5 here.
    assert.equal(parseProxyUrl('socks5h://p:9050').kind, 'socks5');
    assert.equal(parseProxyUrl(' SOCKS://p:9050 ').kind, 'socks5');
  });

  it('reads a user and a password in percent-encoding (VS Code\'s http.proxy may carry one)', () => {
    const p = parseProxyUrl('http://do%40main:p%3Ass@[2001:db8::1]:3128');
    assert.deepEqual(p, { kind: 'http', host: '2001:db8::1', port: 3128, user: 'do@main', password: 'p:ss' });
  });

  it('describes a proxy without its password', () => {
    const p = parseProxyUrl('socks5://alice:secret@[::1]:1080');
    assert.equal(describeProxy(p), 'socks5://alice@[::1]:1080');
    assert.doesNotMatch(describeProxy(p), /secret/);
  });

  it('refuses what is not a proxy URL with a hint, and never shows the password', () => {
    const refused = (text: string, message: RegExp) => {
      const e = (() => { try { parseProxyUrl(text); } catch (err) { return err; } assert.fail(`${text} was taken`); })();
      assert.ok(e instanceof ProxyError, String(e));
      assert.equal(e.kind, 'proxy');
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /hunter2/);
    };
    refused('https://p:443', /Unsupported proxy type "https" \(a proxy reached over TLS is not supported/);
    refused('socks4a://p', /SOCKS4 has no authentication/);
    refused('ftp://p:21', /Unsupported proxy type "ftp" — write socks5:\/\/\[user@\]host:port or http:\/\/\[user@\]host:port/);
    refused('http://u:hunter2@p:3128/x?y', /must be only scheme, \[user@\]host and port/);
    refused('not a url :hunter2@', /Not a proxy URL/);
  });
});
