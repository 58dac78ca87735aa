import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { isBogusPasvAddress, parseEpsv, parsePasv } from '../../src/ftp/dataChannel';

describe('parseEpsv (RFC 2428: "229 … (|||port|)")', () => {
  const cases: [string, number | undefined][] = [
    ['Entering Extended Passive Mode (|||6446|)', 6446],
    ['(|||6446|)', 6446],
    ['Entering Extended Passive Mode (|||6446|). Have a nice day', 6446],
    ['Extended Passive mode OK (|||1|)', 1],
    ['(|||65535|)', 65535],
    ['(|||06446|)', 6446],
    // The delimiter is whatever character follows "(" (RFC 2428 allows ASCII 33-126).
    ['Entering Extended Passive Mode (!!!6446!)', 6446],
    ['(###6446#)', 6446],
    ['(%%%50000%)', 50000],
    // Malformed: the connection would go to a wrong port, so nothing is better.
    ['(|||6446!)', undefined], // delimiters differ
    ['(||6446|)', undefined], // one delimiter short
    ['(|1|192.0.2.1|6446|)', undefined], // EPSV carries no address: the fields must be empty
    ['|||6446|', undefined], // no parentheses
    ['(|||6446|', undefined],
    ['(|||0|)', undefined], // port 0
    ['(|||65536|)', undefined],
    ['(|||99999|)', undefined],
    ['(|||123456|)', undefined],
    ['(|||-1|)', undefined],
    ['(||||)', undefined],
    ['(|||port|)', undefined],
    ['Entering Extended Passive Mode', undefined],
    ['', undefined],
  ];
  for (const [message, port] of cases) {
    it(`${JSON.stringify(message)} → ${port ?? 'malformed'}`, () => {
      assert.equal(parseEpsv(message), port);
    });
  }

  it('gives back every port 1-65535 with any delimiter of ASCII 33-126', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 65535 }),
      fc.integer({ min: 33, max: 126 }).filter((c) => !/[\d)]/.test(String.fromCharCode(c))),
      (port, code) => {
        const d = String.fromCharCode(code);
        assert.equal(parseEpsv(`Entering Extended Passive Mode (${d}${d}${d}${port}${d})`), port);
      },
    ));
  });
});

describe('parsePasv ("227 … (h1,h2,h3,h4,p1,p2)")', () => {
  const cases: [string, { host: string; port: number } | undefined][] = [
    ['Entering Passive Mode (192,168,1,10,195,80)', { host: '192.168.1.10', port: 50000 }],
    ['Entering Passive Mode (127,0,0,1,4,1).', { host: '127.0.0.1', port: 1025 }],
    ['Entering Passive Mode (0,0,0,0,195,80)', { host: '0.0.0.0', port: 50000 }],
    ['Entering Passive Mode (255,255,255,255,255,255)', { host: '255.255.255.255', port: 65535 }],
    ['Entering Passive Mode (10,0,0,1,0,1)', { host: '10.0.0.1', port: 1 }],
    // Parentheses are optional in practice, and some servers put spaces or "=" around the numbers.
    ['Entering Passive Mode 192,168,1,10,195,80', { host: '192.168.1.10', port: 50000 }],
    ['Entering Passive Mode=192,168,1,10,195,80', { host: '192.168.1.10', port: 50000 }],
    ['Entering Passive Mode (192, 168, 1, 10, 195, 80)', { host: '192.168.1.10', port: 50000 }],
    ['Entering Passive Mode (010,000,000,001,004,001)', { host: '10.0.0.1', port: 1025 }],
    ['Entering Passive Mode (192,168,1,10,195,80). Transfer starts 2,3', { host: '192.168.1.10', port: 50000 }],
    // Malformed or out of range: refuse rather than connect somewhere else.
    ['Entering Passive Mode (192,168,1,300,195,80)', undefined],
    ['Entering Passive Mode (192,168,1,10,256,80)', undefined],
    ['Entering Passive Mode (192,168,1,10,195,800)', undefined],
    ['Entering Passive Mode (192,168,1,10,195,2000)', undefined], // not "195,200"
    ['Entering Passive Mode (1192,168,1,10,195,80)', undefined], // not "192,…"
    ['Entering Passive Mode (192,168,1,10,0,0)', undefined], // port 0
    ['Entering Passive Mode (192,168,1,10,195)', undefined],
    ['Entering Passive Mode (192,168,1,10,195,)', undefined],
    ['Entering Passive Mode (192;168;1;10;195;80)', undefined],
    ['Entering Passive Mode', undefined],
    ['', undefined],
  ];
  for (const [message, expected] of cases) {
    it(`${JSON.stringify(message)} → ${expected ? `${expected.host}:${expected.port}` : 'malformed'}`, () => {
      assert.deepEqual(parsePasv(message), expected);
    });
  }

  it('gives back every address and port it is sent', () => {
    const byte = fc.integer({ min: 0, max: 255 });
    fc.assert(fc.property(fc.tuple(byte, byte, byte, byte), fc.integer({ min: 1, max: 65535 }), (a, port) => {
      const message = `Entering Passive Mode (${a.join(',')},${port >> 8},${port & 255})`;
      assert.deepEqual(parsePasv(message), { host: a.join('.'), port });
    }));
  });
});

describe('isBogusPasvAddress (lftp\'s rule: use the control peer instead)', () => {
  describe('a server reached on a public address', () => {
    const peer = '203.0.113.7';
    const bogus = [
      '0.0.0.0', '0.1.2.3',
      '10.0.0.1', '10.255.255.255',
      '127.0.0.1', '127.0.0.77', '127.255.255.254',
      '172.16.0.0', '172.16.5.4', '172.31.255.255',
      '192.168.0.1', '192.168.255.255',
      '169.254.0.1', '169.254.255.254',
      '100.64.0.0', '100.100.1.1', '100.127.255.255',
      '224.0.0.1', '239.255.255.255', '240.0.0.1', '255.255.255.255',
    ];
    const fine = [
      '203.0.113.7', '198.51.100.9', '8.8.8.8', '1.0.0.1', '11.0.0.1', '9.255.255.255',
      '172.15.255.255', '172.32.0.0',
      '100.63.255.255', '100.128.0.0',
      '169.253.255.255', '169.255.0.1',
      '192.167.255.255', '192.169.0.0',
      '126.255.255.255', '128.0.0.1', '223.255.255.255',
    ];
    for (const pasv of bogus) it(`${pasv} is bogus`, () => assert.equal(isBogusPasvAddress(pasv, peer), true));
    for (const pasv of fine) it(`${pasv} is taken`, () => assert.equal(isBogusPasvAddress(pasv, peer), false));
  });

  describe('a server reached on a private address (the same LAN: its private addresses are real)', () => {
    for (const peer of ['192.168.1.5', '10.1.2.3', '172.20.0.2', '100.64.0.9', '169.254.7.7']) {
      it(`from ${peer}: private addresses and public ones are taken`, () => {
        for (const pasv of ['192.168.1.10', '10.0.0.1', '172.16.0.1', '172.31.0.1', '100.127.0.1', '169.254.1.1', '203.0.113.7']) {
          assert.equal(isBogusPasvAddress(pasv, peer), false, pasv);
        }
      });
      it(`from ${peer}: loopback, 0.0.0.0, multicast and reserved addresses are bogus`, () => {
        for (const pasv of ['127.0.0.1', '127.1.2.3', '0.0.0.0', '0.0.0.1', '224.0.0.251', '240.0.0.1', '255.255.255.255']) {
          assert.equal(isBogusPasvAddress(pasv, peer), true, pasv);
        }
      });
    }
  });

  describe('a server on this machine (loopback)', () => {
    it('takes loopback and private addresses', () => {
      for (const pasv of ['127.0.0.1', '127.0.0.77', '192.168.1.10', '10.0.0.1', '203.0.113.7']) {
        assert.equal(isBogusPasvAddress(pasv, '127.0.0.1'), false, pasv);
      }
    });
    it('refuses 0.0.0.0', () => assert.equal(isBogusPasvAddress('0.0.0.0', '127.0.0.1'), true));
  });

  describe('a server reached over IPv6 (PASV is not sent there today, but the rule still holds)', () => {
    it('treats an IPv4-mapped peer as the IPv4 address it is', () => {
      assert.equal(isBogusPasvAddress('10.0.0.1', '::ffff:203.0.113.7'), true);
      assert.equal(isBogusPasvAddress('10.0.0.1', '::ffff:192.168.1.5'), false);
      assert.equal(isBogusPasvAddress('127.0.0.1', '::FFFF:127.0.0.1'), false);
    });
    it('from a public IPv6 peer, private and loopback IPv4 addresses are bogus, public ones taken', () => {
      for (const pasv of ['10.0.0.1', '192.168.1.10', '127.0.0.1', '0.0.0.0']) assert.equal(isBogusPasvAddress(pasv, '2001:db8::1'), true, pasv);
      assert.equal(isBogusPasvAddress('198.51.100.9', '2001:db8::1'), false);
    });
    it('from ::1, a unique-local or a link-local IPv6 peer, private addresses are taken', () => {
      for (const peer of ['::1', 'fd00::5', 'fc12:3456::1', 'fe80::1%eth0', 'FEBF::1']) {
        assert.equal(isBogusPasvAddress('192.168.1.10', peer), false, peer);
      }
      assert.equal(isBogusPasvAddress('127.0.0.1', '::1'), false);
      assert.equal(isBogusPasvAddress('127.0.0.1', 'fd00::5'), true);
    });
  });
});
