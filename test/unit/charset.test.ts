import * as assert from 'node:assert/strict';
import { NameCodec, charsetProblem, detectCharset, isValidEncodingSetting, isValidUtf8 } from '../../src/ftp/charset';
import { ReplyParser } from '../../src/ftp/reply';

const bytes = (...b: number[]) => Buffer.from(b);
/** "café.txt" in Latin-1 / windows-1252. */
const CAFE_LATIN1 = Buffer.concat([Buffer.from('caf'), bytes(0xe9), Buffer.from('.txt')]);
/** "文件.txt" ("file") in GBK. */
const FILE_GBK = Buffer.concat([bytes(0xce, 0xc4, 0xbc, 0xfe), Buffer.from('.txt')]);

describe('file-name charsets', () => {
  describe('NameCodec', () => {
    it('decodes and encodes names in the charset\'s own bytes', () => {
      assert.equal(new NameCodec('latin1').decode(CAFE_LATIN1), 'café.txt');
      assert.deepEqual(new NameCodec('latin1').encode('café.txt'), CAFE_LATIN1);
      assert.equal(new NameCodec('gbk').decode(FILE_GBK), '文件.txt');
      assert.deepEqual(new NameCodec('gbk').encode('文件.txt'), FILE_GBK);
      assert.deepEqual(new NameCodec('utf8').encode('文件.txt'), Buffer.from('文件.txt', 'utf8'));
      assert.deepEqual(new NameCodec('big5').encode('中'), bytes(0xa4, 0xa4));
    });

    it('gets back every byte from latin1, whatever the bytes', () => {
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const codec = new NameCodec('latin1');
      assert.ok(codec.roundTrips(all));
      assert.deepEqual(codec.encode(codec.decode(all)), all);
    });

    it('refuses to encode what would not decode back the same: a missing character, or the "\uFFFD" of bytes that were not valid', () => {
      assert.equal(new NameCodec('latin1').encode('文件'), undefined, 'latin1 has no CJK: iconv-lite would write "??"');
      assert.equal(new NameCodec('windows-1252').encode('\u0081'), undefined, 'a byte windows-1252 leaves undefined');
      const gbk = new NameCodec('gbk');
      const broken = gbk.decode(bytes(0x61, 0xce, 0x2e));
      assert.match(broken, /\uFFFD/);
      assert.equal(gbk.roundTrips(bytes(0x61, 0xce, 0x2e)), false);
      assert.equal(gbk.encode(broken), undefined);
      assert.equal(new NameCodec('utf8').encode('a\ud800b'), undefined, 'a lone surrogate has no UTF-8');
      assert.equal(new NameCodec('utf8').encode(new NameCodec('utf8').decode(CAFE_LATIN1)), undefined, 'UTF-8 has "\uFFFD", but there it stands for lost bytes');
    });
  });

  describe('detectCharset', () => {
    const cases: [string, Buffer, string][] = [
      ['ASCII', Buffer.from('-rw-r--r-- 1 ftp ftp 3 Jan 01 12:00 index.html\r\n'), 'utf8'],
      ['UTF-8', Buffer.from('café 文件.txt\r\n', 'utf8'), 'utf8'],
      ['a Latin-1 listing', Buffer.concat([Buffer.from('-rw-r--r-- 1 ftp ftp 3 Jan 01 12:00 '), CAFE_LATIN1, Buffer.from('\r\n')]), 'windows-1252'],
      ['a GBK listing', Buffer.concat([Buffer.from('-rw-r--r-- 1 ftp ftp 3 Jan 01 12:00 '), FILE_GBK, Buffer.from('\r\n')]), 'gbk'],
      // "Größe" in Latin-1: ö ß pair up as GBK, but a single pair is not taken for Chinese.
      ['Latin-1 with two accented letters in a row', Buffer.concat([Buffer.from('Gr'), bytes(0xf6, 0xdf), Buffer.from('e.txt\r\n')]), 'windows-1252'],
      ['bytes windows-1252 leaves undefined', Buffer.concat([Buffer.from('a'), bytes(0x81), Buffer.from('.txt\r\n')]), 'latin1'],
    ];
    for (const [what, input, charset] of cases) {
      it(`${what} → ${charset}`, () => {
        const found = detectCharset(input);
        assert.equal(found.charset, charset, found.reason);
        assert.ok(new NameCodec(found.charset).roundTrips(input), 'what it detects keeps every byte');
      });
    }

    it('tells valid UTF-8 apart', () => {
      assert.ok(isValidUtf8(Buffer.from('文件', 'utf8')));
      assert.ok(!isValidUtf8(FILE_GBK));
      assert.ok(!isValidUtf8(CAFE_LATIN1));
    });
  });

  describe('which names the settings accept', () => {
    it('takes auto and the charsets iconv-lite knows that write ASCII as ASCII', () => {
      for (const name of ['auto', 'utf8', 'UTF-8', 'windows-1252', 'latin1', 'gbk', 'big5', 'shift_jis', 'euc-kr']) assert.ok(isValidEncodingSetting(name), name);
      assert.match(charsetProblem('klingon') ?? '', /not a known charset/);
      assert.match(charsetProblem('utf16le') ?? '', /does not write ASCII as ASCII/);
      assert.ok(!isValidEncodingSetting('utf-7'));
    });
  });

  describe('replies in a session\'s charset', () => {
    it('reads a 257 with a GBK path as GBK once told to', () => {
      const parser = new ReplyParser();
      const line = Buffer.concat([Buffer.from('257 "/'), FILE_GBK, Buffer.from('" is the current directory\r\n')]);
      assert.match(parser.push(line)[0].message, /\uFFFD/, 'read as UTF-8 by default');
      const codec = new NameCodec('gbk');
      parser.decode = (b) => codec.decode(b);
      assert.equal(parser.push(line)[0].message, '"/文件.txt" is the current directory');
    });
  });
});
