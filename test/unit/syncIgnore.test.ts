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
});
