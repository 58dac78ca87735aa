import * as assert from 'node:assert/strict';
import { parseAuthority, passwordKey, remotePathFor, resolveServer, ServerConfigError, type ServerProfile } from '../../src/remote/serverConfig';

const profiles: ServerProfile[] = [
  { name: 'web', host: 'ftp.example.com', user: 'bob', security: 'explicit', mode: 'active', remoteRoot: '/var/www/', poolSize: 4, activePortRange: '50000-50010' },
  { name: 'Plain', host: '10.0.0.5', port: 2121 },
];

describe('server configuration', () => {
  it('resolves a profile by its name, case-insensitively', () => {
    const s = resolveServer('ftp', 'WEB', profiles);
    assert.equal(s.profileName, 'web');
    assert.equal(s.host, 'ftp.example.com');
    assert.equal(s.port, 21);
    assert.equal(s.user, 'bob');
    assert.equal(s.security, 'explicit');
    assert.equal(s.mode, 'active');
    assert.equal(s.poolSize, 4);
    assert.deepEqual(s.options.activePortRange, [50000, 50010]);
    assert.equal(s.remoteRoot, '/var/www');
  });

  it('treats a profile without user as anonymous and upgrades it to TLS under ftps:', () => {
    const s = resolveServer('ftps', 'plain', profiles);
    assert.equal(s.user, 'anonymous');
    assert.equal(s.security, 'explicit');
    assert.equal(s.port, 2121);
    assert.notEqual(s.key, resolveServer('ftp', 'plain', profiles).key, 'TLS and plain sessions need separate pools');
  });

  it('resolves an ad-hoc user@host:port authority', () => {
    const s = resolveServer('ftp', 'alice@files.example.org:2121', profiles);
    assert.equal(s.profileName, undefined);
    assert.equal(s.host, 'files.example.org');
    assert.equal(s.port, 2121);
    assert.equal(s.user, 'alice');
    assert.equal(s.security, 'none');
    assert.equal(s.remoteRoot, '/');
  });

  it('uses explicit TLS for ftps: and implicit TLS for ftps: on port 990', () => {
    assert.equal(resolveServer('ftps', 'host', []).security, 'explicit');
    assert.equal(resolveServer('ftps', 'host', []).port, 21);
    assert.equal(resolveServer('ftps', 'host:990', []).security, 'implicit');
  });

  it('resolves a profile\'s timeZoneOffset to minutes, leaves it unset for detection, refuses a bad one', () => {
    const zone = (timeZoneOffset: ServerProfile['timeZoneOffset']) => resolveServer('ftp', 'p', [{ name: 'p', host: 'h', timeZoneOffset }]).options.timeZoneOffsetMinutes;
    assert.equal(zone('+02:00'), 120);
    assert.equal(zone('-0530'), -330);
    assert.equal(zone(-300), -300);
    assert.equal(zone(undefined), undefined);
    assert.equal(zone(''), undefined);
    assert.equal(resolveServer('ftp', 'host', []).options.timeZoneOffsetMinutes, undefined, 'ad-hoc servers: detected');
    assert.throws(() => zone('Europe/Berlin'), ServerConfigError);
    assert.throws(() => zone(900), ServerConfigError);
  });

  it('applies defaults and a run-time mode override', () => {
    const s = resolveServer('ftp', 'host', [], { mode: 'passive', poolSize: 3, activeAddress: '203.0.113.9', activePortRange: '', trustPasvAddress: false, connectTimeout: 5, replyTimeout: 6, dataTimeout: 7, transferIdleTimeout: 8, passiveInAdvance: false, proxy: 'none' });
    assert.equal(s.mode, 'passive');
    assert.equal(s.options.passiveInAdvance, false, 'the data connection in advance turned off by the setting');
    assert.equal(resolveServer('ftp', 'host', []).options.passiveInAdvance, true, 'on by default');
    assert.equal(resolveServer('ftp', 'p', [{ name: 'p', host: 'h', passiveInAdvance: false }]).options.passiveInAdvance, false, 'a profile turns it off');
    assert.equal(s.poolSize, 3);
    assert.equal(s.options.activeAddress, '203.0.113.9');
    assert.equal(s.options.connectTimeoutMs, 5000);
    assert.equal(s.options.dataIdleTimeoutMs, 8000);
    const overridden = resolveServer('ftp', 'host', [], undefined, (key) => (key === s.key ? 'active' : undefined));
    assert.equal(overridden.mode, 'active');
  });

  it('never takes a password from the URI', () => {
    const a = parseAuthority('bob:secret@host');
    assert.equal(a.user, 'bob');
    assert.ok(!JSON.stringify(resolveServer('ftp', 'bob:secret@host', [])).includes('secret'));
  });

  it('parses IPv6 authorities in brackets', () => {
    assert.deepEqual(parseAuthority('[::1]:2121'), { user: undefined, host: '::1', port: 2121 });
    assert.deepEqual(parseAuthority('u@[fe80::1]'), { user: 'u', host: 'fe80::1', port: undefined });
  });

  it('takes the active port range of a profile, and refuses a bad one as a configuration error', () => {
    const profile = (activePortRange: string): ServerProfile[] => [{ name: 'p', host: 'h', activePortRange }];
    assert.deepEqual(resolveServer('ftp', 'p', profile(' 50000 - 50100 ')).options.activePortRange, [50000, 50100]);
    assert.equal(resolveServer('ftp', 'p', profile('')).options.activePortRange, undefined);
    assert.throws(() => resolveServer('ftp', 'p', profile('50100-50000')), ServerConfigError);
    assert.throws(() => resolveServer('ftp', 'p', profile('a-b')), ServerConfigError);
  });

  it('takes a profile\'s file-name charset, leaves auto to the core, and refuses an unknown one', () => {
    const profile = (encoding: string): ServerProfile[] => [{ name: 'p', host: 'h', encoding }];
    assert.equal(resolveServer('ftp', 'p', profile('gbk')).options.encoding, 'gbk');
    assert.equal(resolveServer('ftp', 'p', profile(' windows-1252 ')).options.encoding, 'windows-1252');
    assert.equal(resolveServer('ftp', 'p', profile('auto')).options.encoding, undefined);
    assert.equal(resolveServer('ftp', 'p', profile('')).options.encoding, undefined);
    assert.equal(resolveServer('ftp', 'p', [{ name: 'p', host: 'h' }]).options.encoding, undefined);
    assert.throws(() => resolveServer('ftp', 'p', profile('klingon-1')), (e: unknown) => e instanceof ServerConfigError && /Server profile "p": encoding "klingon-1" is not a known charset/.test(e.message));
    assert.throws(() => resolveServer('ftp', 'p', profile('utf16le')), ServerConfigError);
  });

  it('maps URI paths below remoteRoot and never above it', () => {
    const s = { remoteRoot: '/var/www' };
    assert.equal(remotePathFor(s, '/'), '/var/www');
    assert.equal(remotePathFor(s, '/a/b.txt'), '/var/www/a/b.txt');
    assert.equal(remotePathFor(s, '/../../etc/passwd'), '/var/www/etc/passwd');
    assert.equal(remotePathFor({ remoteRoot: '/' }, '/x/'), '/x');
  });

  it('keys passwords by user, host and port', () => {
    assert.equal(passwordKey(resolveServer('ftp', 'web', profiles)), 'ftpWorkspace.password:bob@ftp.example.com:21');
  });
});
