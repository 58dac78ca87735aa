import * as assert from 'node:assert/strict';
import { FtpError, isFtpError } from '../../src/ftp/errors';
import { assertSafePath, basename, dirname, join, normalize, tempNameFor } from '../../src/ftp/remotePath';

describe('remotePath', () => {
  describe('normalize', () => {
    const cases: [string, string][] = [
      ['', '/'],
      ['/', '/'],
      ['//', '/'],
      ['a', '/a'],
      ['a/b', '/a/b'],
      ['/a//b///c', '/a/b/c'],
      ['/a/b/', '/a/b'],
      ['/a/./b/.', '/a/b'],
      ['/a/b/../c', '/a/c'],
      ['/..', '/'],
      ['/../../etc/passwd', '/etc/passwd'],
      ['a/../../b', '/b'],
      ['/a/.../b', '/a/.../b'],
      ['/ spaced /  name ', '/ spaced /  name '],
      ['/ünïcödé/файл', '/ünïcödé/файл'],
      ['/back\\slash', '/back\\slash'],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
        assert.equal(normalize(input), expected);
      });
    }
  });

  describe('join', () => {
    it('joins folder and name', () => {
      assert.equal(join('/dir', 'file.txt'), '/dir/file.txt');
      assert.equal(join('/', 'file.txt'), '/file.txt');
      assert.equal(join('/a/', '/b/', 'c'), '/a/b/c');
    });

    it('resolves dots without going above the root', () => {
      assert.equal(join('/a/b', '..', 'c'), '/a/c');
      assert.equal(join('/a', '../../..', 'x'), '/x');
    });

    it('gives the root for nothing', () => {
      assert.equal(join(), '/');
      assert.equal(join(''), '/');
    });
  });

  describe('dirname and basename', () => {
    const cases: [string, string, string][] = [
      ['/', '/', ''],
      ['/a', '/', 'a'],
      ['/a/b', '/a', 'b'],
      ['/a/b/', '/a', 'b'],
      ['a/b c/  d.txt', '/a/b c', '  d.txt'],
      ['/a/b/..', '/', 'a'],
    ];
    for (const [input, dir, base] of cases) {
      it(`${JSON.stringify(input)} → ${JSON.stringify(dir)} + ${JSON.stringify(base)}`, () => {
        assert.equal(dirname(input), dir);
        assert.equal(basename(input), base);
      });
    }
  });

  describe('assertSafePath', () => {
    it('returns a path without CR, LF or NUL unchanged', () => {
      for (const p of ['/a/b.txt', '/ spaced/ünïcödé файл', '/tab\there', '/']) assert.equal(assertSafePath(p), p);
    });

    it('refuses a line feed with a message that shows it', () => {
      assert.throws(() => assertSafePath('a\nb'), (e: unknown) => {
        assert.ok(e instanceof FtpError);
        assert.equal(e.kind, 'invalid-name');
        assert.equal(e.message, 'File names containing line breaks cannot be used over FTP: "a\\nb"');
        return true;
      });
    });

    it('refuses a carriage return (command injection: "x\\r\\nDELE y")', () => {
      assert.throws(() => assertSafePath('/x\r\nDELE /y'), (e: unknown) => {
        assert.ok(isFtpError(e, 'invalid-name'));
        assert.equal(e.message, 'File names containing line breaks cannot be used over FTP: "/x\\r\\nDELE /y"');
        return true;
      });
    });

    it('refuses NUL, and shows other control characters escaped', () => {
      assert.throws(() => assertSafePath('/a\0b\x07'), (e: unknown) => {
        assert.ok(isFtpError(e, 'invalid-name'));
        assert.equal(e.message, 'File names containing NUL characters cannot be used over FTP: "/a\\0b\\x07"');
        return true;
      });
    });
  });

  describe('tempNameFor', () => {
    it('is a hidden sibling with a random part', () => {
      const temp = tempNameFor('/dir/name.txt');
      assert.match(temp, /^\/dir\/\.name\.txt\.ftpw-[0-9a-f]{12}\.tmp$/);
    });

    it('works in the root and keeps spaces and non-ASCII', () => {
      assert.match(tempNameFor('/ ünïcödé файл.txt'), /^\/\. ünïcödé файл\.txt\.ftpw-[0-9a-f]{12}\.tmp$/);
    });

    it('differs on every call', () => {
      const names = new Set(Array.from({ length: 100 }, () => tempNameFor('/a/b')));
      assert.equal(names.size, 100);
    });

    it('shortens long names to fit in 255 bytes without splitting a character', () => {
      const temp = tempNameFor('/d/' + 'é'.repeat(200));
      const name = basename(temp);
      assert.ok(Buffer.byteLength(name) <= 255, `${Buffer.byteLength(name)} bytes`);
      assert.match(name, /^\.é+\.ftpw-[0-9a-f]{12}\.tmp$/);
      assert.equal(dirname(temp), '/d');
    });

    it('refuses the root, which has no name', () => {
      assert.throws(() => tempNameFor('/'), (e: unknown) => isFtpError(e, 'invalid-name'));
    });
  });
});
