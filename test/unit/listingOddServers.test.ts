/**
 * Listings captured from the real servers (test/fixtures/listings/README.md) for issue 17's odd
 * cases: names in Latin-1 and GBK bytes, and a server listing — and answering MDTM — in local time.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { detectCharset, NameCodec } from '../../src/ftp/charset';
import { parseList, parseMdtm, parseMlsd } from '../../src/ftp/listing';
import { detectOffset, toUtc } from '../../src/ftp/timeZone';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/listings');
const bytes = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));
/** When these were captured (2026-12-07 05:56 UTC): "Dec 07 05:10" is this year, "Mar 14  2025" shows its year. */
const CAPTURED = new Date('2026-12-07T05:56:00Z');
const RECENT = Date.UTC(2026, 11, 7, 5, 10, 30);

const LATIN1_NAMES = ['Ordner ß Übung.txt', 'café.txt'];
const GBK_NAMES = ['文件.txt', '新建 文档.txt'];

describe('listings from real servers with names that are not UTF-8 (Latin-1 and GBK bytes on disk)', () => {
  const cases: [string, (text: string) => ReturnType<typeof parseList>][] = [
    ['vsftpd-list-non-utf8.txt', (t) => parseList(t, CAPTURED)],
    ['proftpd-list-non-utf8.txt', (t) => parseList(t, CAPTURED)],
    ['pure-ftpd-list-non-utf8.txt', (t) => parseList(t, CAPTURED)],
    ['proftpd-mlsd-non-utf8.txt', parseMlsd],
    ['pure-ftpd-mlsd-non-utf8.txt', parseMlsd],
  ];
  for (const [file, parse] of cases) {
    it(`${file}: each name reads right in its charset and goes back as the very bytes listed; sizes and times intact`, () => {
      const raw = bytes(file);
      for (const [charset, names] of [['latin1', LATIN1_NAMES], ['gbk', GBK_NAMES]] as const) {
        const codec = new NameCodec(charset);
        const entries = parse(codec.decode(raw));
        const listed = new Set(entries.map((e) => e.name));
        for (const name of names) {
          assert.ok(listed.has(name), `${name} in ${charset}: ${[...listed].join(', ')}`);
          const sent = codec.encode(name);
          assert.ok(sent && raw.includes(Buffer.concat([Buffer.from(' '), sent, Buffer.from('\r\n')])), `${name} encodes to the bytes the server listed`);
        }
        assert.equal(entries.length, 5, 'no line lost to the bytes');
        const cafe = entries.find((e) => e.name === (charset === 'latin1' ? 'café.txt' : 'ascii.txt'));
        assert.equal(cafe?.type, 'file');
        assert.equal(cafe?.mtime !== undefined && Math.floor(cafe.mtime / 60_000), Math.floor(RECENT / 60_000));
      }
      // One listing holding both: not UTF-8, and the Latin-1 bytes do not pair up as GBK.
      assert.equal(detectCharset(raw).charset, 'windows-1252');
    });
  }
});

describe('a real server listing in local time whose MDTM is local time too (vsftpd, use_localtime=YES, UTC+02:00)', () => {
  it('LIST and MDTM agree (so detection finds +00:00); the zone set by the profile gives the true time', () => {
    const [recent] = parseList(bytes('vsftpd-list-localtime.txt').toString('latin1'), CAPTURED).filter((e) => e.name === 'recent.txt');
    assert.equal(recent.mtimePrecision, 'minute');
    assert.equal(recent.mtime, Date.UTC(2026, 11, 7, 7, 10), 'the wall clock, two hours ahead of UTC');
    const mdtm = parseMdtm(bytes('vsftpd-mdtm-localtime-reply.txt').toString('latin1').slice(4).trim());
    assert.equal(mdtm, Date.UTC(2026, 11, 7, 7, 10, 30), 'MDTM: local time too, against RFC 3659');
    assert.equal(detectOffset(recent.mtime!, mdtm!), 0);
    // FtpClient.mdtmOffset: the setting minus what LIST against MDTM showed.
    const setting = 120;
    assert.equal(toUtc([recent], setting)[0].mtime, Math.floor(RECENT / 60_000) * 60_000);
    assert.equal(mdtm! - (setting - detectOffset(Date.UTC(2026, 11, 7, 7, 10), mdtm!)!) * 60_000, RECENT);
    const old = parseList(bytes('vsftpd-list-localtime.txt').toString('latin1'), CAPTURED).find((e) => e.name === 'old.txt');
    assert.deepEqual([old?.mtime, old?.mtimePrecision], [Date.UTC(2025, 2, 14), 'day']);
  });
});
