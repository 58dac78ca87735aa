/** Go to File's ranking: what Quick Open would put first. */
import * as assert from 'node:assert/strict';
import { bestMatches, scorePath } from '../../src/search/fuzzy';

const files = [
  'src/ftp/pool.ts',
  'src/ftp/poolLimits.ts',
  'test/unit/pool.test.ts',
  'docs/spool/readme.md',
  'src/remote/remoteFs.ts',
  'src/vscode/ftpFileSystem.ts',
  'src/search/fuzzy.ts',
  'public/index.html',
  'public/admin/index.html',
  'wp-content/themes/twentytwenty/functions.php',
].map((path) => ({ path }));

const ranked = (query: string, limit = 5) => bestMatches(query, files, limit).map((s) => s.item.path);

describe('Go to File ranking', () => {
  it('puts a file whose name matches before one whose folders do, and shorter paths first', () => {
    assert.deepEqual(ranked('pool', 4), ['src/ftp/pool.ts', 'test/unit/pool.test.ts', 'src/ftp/poolLimits.ts', 'docs/spool/readme.md']);
  });

  it('matches scattered letters in order, preferring word starts (camel case included)', () => {
    assert.equal(ranked('ffs')[0], 'src/vscode/ftpFileSystem.ts');
    assert.equal(ranked('rfs')[0], 'src/remote/remoteFs.ts');
    assert.deepEqual(ranked('zzz'), []);
  });

  it('takes pieces separated by spaces, each to be found (folder and name)', () => {
    assert.deepEqual(ranked('admin index'), ['public/admin/index.html']);
    assert.equal(ranked('ftp pool')[0], 'src/ftp/pool.ts');
  });

  it('matches a query with a slash against the path', () => {
    assert.deepEqual(ranked('themes/func'), ['wp-content/themes/twentytwenty/functions.php']);
  });

  it('ignores case and gives every file a score for an empty query', () => {
    assert.ok(scorePath('POOL', 'src/ftp/pool.ts') > 0);
    assert.equal(bestMatches('', files, 100).length, files.length);
  });

  it('keeps only the best `limit` of many', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ path: `dir${i % 50}/file${i}.txt` }));
    many.push({ path: 'dir1/target.txt' });
    const top = bestMatches('target', many, 10);
    assert.equal(top.length, 1);
    assert.equal(bestMatches('file', many, 10).length, 10);
    assert.equal(bestMatches('file', many, 10)[0].item.path, 'dir0/file0.txt');
  });
});
