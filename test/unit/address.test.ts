import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { isIPAddress, isIPv6Address } from '../../src/ftp/address';

describe('address kinds', () => {
  const cases: [string, boolean, boolean][] = [
    // host, IPv6, an IP address at all
    ['127.0.0.1', false, true],
    ['198.18.0.1', false, true],
    ['::1', true, true],
    ['fe80::1%eth0', true, true],
    ['::ffff:192.0.2.7', true, true],
    ['2001:db8::42', true, true],
    ['ftp.example.com', false, false],
    ['localhost', false, false],
    ['1.2.3.4.example', false, false],
  ];
  for (const [host, v6, ip] of cases) {
    it(`${host}: ${v6 ? 'IPv6' : ip ? 'IPv4' : 'a host name'}, as Node's own checks say`, () => {
      assert.equal(isIPv6Address(host), v6);
      assert.equal(isIPAddress(host), ip);
      assert.equal(isIPv6Address(host), net.isIPv6(host));
      assert.equal(isIPAddress(host), net.isIP(host) !== 0);
    });
  }
});
