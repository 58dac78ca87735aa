import * as assert from 'node:assert/strict';
import { IgnoreMatcher } from '../../src/sync/ignore';

describe('sync ignore patterns', () => {
  it('ignores .git/ and node_modules/ at any depth by default, with everything inside', () => {
    const m = new IgnoreMatcher();
    assert.equal(m.ignores('.git', true), true);
    assert.equal(m.ignores('.git/config'), true);
    assert.equal(m.ignores('packages/web/node_modules', true), true);
    assert.equal(m.ignores('packages/web/node_modules/lib/index.js'), true);
    assert.equal(m.ignores('src/index.js'), false);
  });

  it('ignores the temporary files of an interrupted safe save', () => {
    const m = new IgnoreMatcher();
    assert.equal(m.ignores('www/.index.html.ftpw-1a2b3c4d5e6f.tmp'), true);
    assert.equal(m.ignores('www/index.html'), false);
  });

  it('can leave the defaults out', () => {
    assert.equal(new IgnoreMatcher([], false).ignores('.git/config'), false);
  });

  it('matches a folder-only pattern against folders, not files of that name', () => {
    const m = new IgnoreMatcher(['build/'], false);
    assert.equal(m.ignores('build', true), true);
    assert.equal(m.ignores('build', false), false);
    assert.equal(m.ignores('app/build/out.js'), true);
  });

  it('matches a bare name at any depth and an anchored pattern only from the root', () => {
    const m = new IgnoreMatcher(['*.log', '/dist', 'docs/*.pdf'], false);
    assert.equal(m.ignores('error.log'), true);
    assert.equal(m.ignores('a/b/debug.log'), true);
    assert.equal(m.ignores('dist', true), true);
    assert.equal(m.ignores('dist/app.js'), true);
    assert.equal(m.ignores('src/dist/app.js'), false);
    assert.equal(m.ignores('docs/manual.pdf'), true);
    assert.equal(m.ignores('docs/old/manual.pdf'), false);
    assert.equal(m.ignores('other/docs/manual.pdf'), false);
  });

  it('keeps * and ? within one folder and lets ** cross folders', () => {
    const m = new IgnoreMatcher(['cache/**/*.tmp', 'img?.png'], false);
    assert.equal(m.ignores('cache/a.tmp'), true);
    assert.equal(m.ignores('cache/x/y/a.tmp'), true);
    assert.equal(m.ignores('other/a.tmp'), false);
    assert.equal(m.ignores('img1.png'), true);
    assert.equal(m.ignores('img10.png'), false);
  });

  it('takes a file back with !, but nothing inside an ignored folder', () => {
    const m = new IgnoreMatcher(['*.env', '!example.env', 'secret/', '!secret/keep.txt'], false);
    assert.equal(m.ignores('prod.env'), true);
    assert.equal(m.ignores('example.env'), false);
    assert.equal(m.ignores('secret/keep.txt'), true);
  });

  it('skips blank lines and comments and escapes regex characters in names', () => {
    const m = new IgnoreMatcher(['', '  ', '# a comment', 'a+b(1).txt'], false);
    assert.equal(m.ignores('# a comment'), false);
    assert.equal(m.ignores('a+b(1).txt'), true);
    assert.equal(m.ignores('aab1.txt'), false);
  });

  describe('the rest of .gitignore', () => {
    it('takes back a file that a wider pattern ignored, and a folder with everything in it', () => {
      const m = new IgnoreMatcher(['*.log', '!keep.log', '/*', '!/src/', '!/index.html'], false);
      assert.equal(m.ignores('debug.log'), true);
      assert.equal(m.ignores('keep.log'), true, 'ignored again by /* (the last pattern that matches decides)');
      assert.equal(m.ignores('src/keep.log'), false);
      assert.equal(m.ignores('src/debug.log'), true);
      assert.equal(m.ignores('src', true), false);
      assert.equal(m.ignores('src/app/main.js'), false);
      assert.equal(m.ignores('index.html'), false);
      assert.equal(m.ignores('README.md'), true);
    });

    it('takes back a folder only as a folder: !dir/ leaves a file named dir ignored', () => {
      const m = new IgnoreMatcher(['cache*', '!cache/'], false);
      assert.equal(m.ignores('cache', true), false);
      assert.equal(m.ignores('cache/page.html'), false);
      assert.equal(m.ignores('cache', false), true);
      assert.equal(m.ignores('cache.db'), true);
    });

    it('matches a trailing-slash pattern against folders at any depth, or only from the root when it has another slash', () => {
      const m = new IgnoreMatcher(['logs/', 'doc/frotz/'], false);
      assert.equal(m.ignores('logs', false), false, 'a file named logs');
      assert.equal(m.ignores('a/b/logs', true), true);
      assert.equal(m.ignores('a/b/logs/today.txt'), true);
      assert.equal(m.ignores('doc/frotz', true), true);
      assert.equal(m.ignores('a/doc/frotz', true), false);
    });

    it('lets ** cross folders only as a whole segment: **/name, name/**, a/**/b', () => {
      const m = new IgnoreMatcher(['**/tmp/cache', 'build/**', 'src/**/gen', 'a**z'], false);
      assert.equal(m.ignores('tmp/cache', true), true);
      assert.equal(m.ignores('x/y/tmp/cache', true), true);
      assert.equal(m.ignores('build', true), false, 'build/** is what is inside build, not build');
      assert.equal(m.ignores('build/out/app.js'), true);
      assert.equal(m.ignores('src/gen', true), true);
      assert.equal(m.ignores('src/a/b/gen', true), true);
      assert.equal(m.ignores('abcz'), true);
      assert.equal(m.ignores('a/b/z'), false, 'a**z is a*z: two stars inside a name are one');
    });

    it('matches character classes, ranges and negated classes within one name', () => {
      const m = new IgnoreMatcher(['[Tt]humbs.db', 'backup-[0-9][0-9].zip', 'draft[!s].md'], false);
      assert.equal(m.ignores('Thumbs.db'), true);
      assert.equal(m.ignores('img/thumbs.db'), true);
      assert.equal(m.ignores('backup-07.zip'), true);
      assert.equal(m.ignores('backup-7.zip'), false);
      assert.equal(m.ignores('draft1.md'), true);
      assert.equal(m.ignores('drafts.md'), false);
    });

    it('escapes with a backslash: \\# and \\! for names starting so, "\\ " for a trailing space', () => {
      const m = new IgnoreMatcher(['\\#notes.txt', '\\!important.txt', 'odd\\ ', 'trimmed.txt   '], false);
      assert.equal(m.ignores('#notes.txt'), true);
      assert.equal(m.ignores('!important.txt'), true);
      assert.equal(m.ignores('important.txt'), false);
      assert.equal(m.ignores('odd '), true);
      assert.equal(m.ignores('odd'), false);
      assert.equal(m.ignores('trimmed.txt'), true, 'unescaped trailing spaces are dropped');
    });

    it('is case-sensitive, as most FTP servers are', () => {
      const m = new IgnoreMatcher(['*.LOG'], false);
      assert.equal(m.ignores('server.LOG'), true);
      assert.equal(m.ignores('server.log'), false);
    });

    it('reads one pattern from one setting entry, whatever it holds', () => {
      const m = new IgnoreMatcher(['a.txt\nb.txt'], false);
      assert.equal(m.ignores('b.txt'), false);
    });

    it('answers only for paths inside the link: a path leaving it is never ignored, none throws', () => {
      const m = new IgnoreMatcher(['*.log', '*'], false);
      assert.equal(m.ignores('../other/error.log'), false);
      assert.equal(m.ignores('a/../../error.log'), false);
      assert.equal(m.ignores(''), false);
      assert.equal(m.ignores('.', true), false);
      assert.equal(m.ignores('./error.log'), true);
      assert.equal(m.ignores('/error.log'), true, 'a leading slash is the link root');
    });
  });
});
