/** The text-search core: queries, line matching, binary sniffing, globs and the content cache's eviction. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContentCache } from '../../src/search/contentCache';
import { enabledPatterns, expandBraces, PathFilter, splitGlobList } from '../../src/search/glob';
import { compileQuery, looksBinary, matchLines, QueryError } from '../../src/search/textQuery';

const lines = (text: string, query: Parameters<typeof compileQuery>[0]) => matchLines(text, compileQuery(query)).map((m) => [m.line, m.text, m.ranges]);

describe('text query', () => {
  it('matches literally by default, ignoring case, with every match of a line', () => {
    assert.deepEqual(lines('a.b\nA.B axb a.b\nnone', { pattern: 'a.b' }), [
      [1, 'a.b', [[0, 3]]],
      [2, 'A.B axb a.b', [[0, 3], [8, 11]]],
    ]);
  });

  it('matches case when asked', () => {
    assert.deepEqual(lines('Foo\nfoo', { pattern: 'foo', matchCase: true }), [[2, 'foo', [[0, 3]]]]);
  });

  it('matches whole words only, in any script', () => {
    assert.deepEqual(lines('cat\nconcat\ncat_x\nle cat.\nchat\nкот котик', { pattern: 'cat', wholeWord: true }).map((l) => l[0]), [1, 4]);
    assert.deepEqual(lines('кот котик', { pattern: 'кот', wholeWord: true }), [[1, 'кот котик', [[0, 3]]]]);
  });

  it('runs regular expressions, and says why one does not compile', () => {
    assert.deepEqual(lines('x = 12;\ny = z;', { pattern: '\\d+', isRegex: true }), [[1, 'x = 12;', [[4, 6]]]]);
    assert.throws(() => compileQuery({ pattern: '(unclosed', isRegex: true }), (e: unknown) => e instanceof QueryError && /\(unclosed\/ is not valid: Unterminated group/.test(e.message));
    assert.throws(() => compileQuery({ pattern: 'a*', isRegex: true }), /matches empty text/);
    assert.throws(() => compileQuery({ pattern: '' }), /empty/);
  });

  it('counts lines across \\n, \\r\\n and a last line without a break; keeps non-ASCII text', () => {
    assert.deepEqual(lines('one\r\ntwo été\r\nthree été', { pattern: 'été' }).map((l) => [l[0], l[1]]), [[2, 'two été'], [3, 'three été']]);
  });

  it('calls a file binary when a NUL is among its first 8 KiB', () => {
    assert.equal(looksBinary(Buffer.from('text\n')), false);
    assert.equal(looksBinary(Buffer.from([0x50, 0x4b, 0x03, 0x00])), true);
    const late = Buffer.alloc(9000, 0x61);
    late[8500] = 0;
    assert.equal(looksBinary(late), false);
  });
});

describe('search globs', () => {
  it('splits the Search view\'s comma lists, keeping braces whole', () => {
    assert.deepEqual(splitGlobList(' *.ts, src/**, *.{js,css} ,'), ['*.ts', 'src/**', '*.{js,css}']);
  });

  it('includes and excludes as VS Code\'s search does', () => {
    const f = new PathFilter({ include: ['*.ts', 'docs/'], exclude: ['**/node_modules', 'dist'] });
    assert.equal(f.keepsFile('src/a.ts'), true, 'a name pattern matches at any depth');
    assert.equal(f.keepsFile('docs/guide/x.md'), true, 'a folder includes what lies in it');
    assert.equal(f.keepsFile('src/a.js'), false);
    assert.equal(f.keepsFile('node_modules/p/a.ts'), false);
    assert.equal(f.entersFolder('lib/node_modules'), false);
    assert.equal(f.entersFolder('dist'), false);
    assert.equal(f.keepsFile('dist/a.ts'), false);
    assert.equal(f.entersFolder('src'), true);
    assert.equal(new PathFilter().keepsFile('.hidden/x'), true, 'dot files are files too');
  });

  it('expands braces, which gitignore rules lack', () => {
    assert.deepEqual(expandBraces('*.{js,css}'), ['*.js', '*.css']);
    assert.deepEqual(expandBraces('{src,lib}/**/*.{ts,{m,c}js}'), ['src/**/*.ts', 'src/**/*.mjs', 'src/**/*.cjs', 'lib/**/*.ts', 'lib/**/*.mjs', 'lib/**/*.cjs']);
    const f = new PathFilter({ include: ['*.{php,inc}'], exclude: ['{cache,tmp}'] });
    assert.deepEqual(['a.php', 'x/b.inc', 'c.js', 'cache/d.php', 'w/tmp/e.php'].filter((p) => f.keepsFile(p)), ['a.php', 'x/b.inc']);
  });

  it('takes the enabled patterns of files.exclude-style settings', () => {
    assert.deepEqual(enabledPatterns({ '**/.git': true, '**/off': false, '**/*.js': { when: '$(basename).ts' } }), ['**/.git']);
  });
});

describe('ContentCache', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-cache-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const bytes = (n: number, fill = 0x61) => Buffer.alloc(n, fill);

  it('answers the same path at the same size and time, and misses after a change', async () => {
    const cache = new ContentCache(dir, 1000);
    await cache.put('s:/a', 3, 100, bytes(3));
    assert.deepEqual(await cache.get('s:/a', 3, 100), bytes(3));
    assert.equal(await cache.get('s:/a', 3, 101), undefined, 'another time');
    assert.equal(await cache.get('s:/a', 4, 100), undefined, 'another size');
    assert.equal(await cache.get('s:/b', 3, 100), undefined);
    assert.equal(cache.hits, 1);
    assert.equal(cache.misses, 3);
  });

  it('never caches a file without a modification time', async () => {
    const cache = new ContentCache(dir, 1000);
    await cache.put('s:/a', 3, undefined, bytes(3));
    assert.equal(cache.count, 0);
  });

  it('evicts the least recently used first to stay under its cap', async () => {
    const cache = new ContentCache(dir, 250);
    await cache.put('a', 100, 1, bytes(100));
    await cache.put('b', 100, 1, bytes(100));
    await cache.get('a', 100, 1); // a is now more recent than b
    await cache.put('c', 100, 1, bytes(100));
    assert.equal(cache.bytes, 200);
    assert.equal(await cache.get('b', 100, 1), undefined, 'b was least recently used');
    assert.ok(await cache.get('a', 100, 1));
    assert.ok(await cache.get('c', 100, 1));
    await cache.put('huge', 300, 1, bytes(300));
    assert.equal(await cache.get('huge', 300, 1), undefined, 'a file above the cap is not cached');
  });

  it('replaces the old version of a path and keeps binary verdicts without bytes', async () => {
    const cache = new ContentCache(dir, 1000);
    await cache.put('a', 3, 1, bytes(3));
    await cache.put('a', 5, 2, bytes(5, 0x62));
    assert.equal(cache.count, 1);
    assert.equal(cache.bytes, 5);
    await cache.putBinary('img', 900, 1);
    assert.equal(await cache.get('img', 900, 1), 'binary');
    assert.equal(cache.bytes, 5);
  });

  it('survives a restart through its manifest', async () => {
    const cache = new ContentCache(dir, 1000);
    await cache.put('a', 3, 1, bytes(3));
    await cache.flush();
    const again = new ContentCache(dir, 1000);
    assert.deepEqual(await again.get('a', 3, 1), bytes(3));
    assert.equal(again.bytes, 3);
    await again.clear();
    assert.equal(await new ContentCache(dir, 1000).get('a', 3, 1), undefined);
  });
});
