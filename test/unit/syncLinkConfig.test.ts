import * as assert from 'node:assert/strict';
import { findLink, parseLinkSetting } from '../../src/sync/linkConfig';

describe('link settings', () => {
  it('resolves a relative local folder against the workspace folder and reads the location', () => {
    const r = parseLinkSetting({ local: 'public/', remote: 'ftp://My-Site/var/www%20root/', ignore: ['*.map', 3] }, '/home/me/project');
    assert.deepEqual(r, {
      ok: true,
      link: { localRoot: '/home/me/project/public', scheme: 'ftp', authority: 'My-Site', remotePath: '/var/www root', ignore: ['*.map'], uploadOnSave: true, uploadOnChange: false, deleteOnServer: 'ask', renameOnServer: 'ask', compareChecksums: false, symlinks: 'skip' },
    });
  });

  it('takes an absolute folder as it is, the server root when no path is given, and upload on save off when asked', () => {
    const r = parseLinkSetting({ local: '/srv/site', remote: 'ftps://prod', uploadOnSave: false }, undefined);
    assert.ok(r.ok);
    assert.equal(r.link.localRoot, '/srv/site');
    assert.equal(r.link.scheme, 'ftps');
    assert.equal(r.link.remotePath, '/');
    assert.equal(r.link.uploadOnSave, false);
  });

  it('uploads on changes by other programs only when asked to', () => {
    const on = parseLinkSetting({ local: '/srv/site', remote: 'ftp://prod', uploadOnChange: true }, undefined);
    assert.ok(on.ok && on.link.uploadOnChange && on.link.uploadOnSave);
    const off = parseLinkSetting({ local: '/srv/site', remote: 'ftp://prod', uploadOnChange: 'yes' }, undefined);
    assert.ok(off.ok && !off.link.uploadOnChange, 'only true turns it on');
  });

  it('deletes and renames on the server: ask unless set; always or never as set; anything else is a clear error', () => {
    const plain = parseLinkSetting({ local: '/srv/site', remote: 'ftp://prod' }, undefined);
    assert.ok(plain.ok && plain.link.deleteOnServer === 'ask' && plain.link.renameOnServer === 'ask');
    const set = parseLinkSetting({ local: '/srv/site', remote: 'ftp://prod', deleteOnServer: 'never', renameOnServer: 'always' }, undefined);
    assert.ok(set.ok && set.link.deleteOnServer === 'never' && set.link.renameOnServer === 'always');
    const bad = parseLinkSetting({ local: '/srv/site', remote: 'ftp://prod', deleteOnServer: true }, undefined);
    assert.ok(!bad.ok && /"deleteOnServer".*"ask", "always" or "never"/.test(bad.error), !bad.ok ? bad.error : '');
  });

  it('compares by checksum only when asked to', () => {
    const on = parseLinkSetting({ local: '/srv/site', remote: 'ftp://prod', compareChecksums: true }, undefined);
    assert.ok(on.ok && on.link.compareChecksums);
    const off = parseLinkSetting({ local: '/srv/site', remote: 'ftp://prod', compareChecksums: 1 }, undefined);
    assert.ok(off.ok && !off.link.compareChecksums, 'only true turns it on');
  });

  it('skips symbolic links unless told to follow them, and refuses another value', () => {
    const plain = parseLinkSetting({ local: '/srv/site', remote: 'ftp://prod' }, undefined);
    assert.ok(plain.ok && plain.link.symlinks === 'skip');
    const follow = parseLinkSetting({ local: '/srv/site', remote: 'ftp://prod', symlinks: 'follow' }, undefined);
    assert.ok(follow.ok && follow.link.symlinks === 'follow');
    const bad = parseLinkSetting({ local: '/srv/site', remote: 'ftp://prod', symlinks: 'dereference' }, undefined);
    assert.ok(!bad.ok && /"symlinks".*"follow" or "skip"/.test(bad.error), !bad.ok ? bad.error : '');
  });

  it('refuses a password in the location, without repeating it', () => {
    const r = parseLinkSetting({ local: '.', remote: 'ftp://bob:hunter2@example.com/www' }, '/p');
    assert.equal(r.ok, false);
    assert.ok(!r.ok && /password/.test(r.error) && !r.error.includes('hunter2'), !r.ok ? r.error : '');
  });

  it('refuses what is not an FTP location or has no folder to resolve against', () => {
    assert.equal(parseLinkSetting({ local: '.', remote: 'https://example.com' }, '/p').ok, false);
    assert.equal(parseLinkSetting({ local: 'site', remote: 'ftp://x/' }, undefined).ok, false);
    assert.equal(parseLinkSetting({ remote: 'ftp://x/' }, '/p').ok, false);
    assert.equal(parseLinkSetting('ftp://x/', '/p').ok, false);
  });

  it('finds the innermost link of a file', () => {
    const links = [{ localRoot: '/p' }, { localRoot: '/p/public' }, { localRoot: '/other' }];
    assert.equal(findLink(links, '/p/public/index.html')?.localRoot, '/p/public');
    assert.equal(findLink(links, '/p/src/a.ts')?.localRoot, '/p');
    assert.equal(findLink(links, '/p')?.localRoot, '/p');
    assert.equal(findLink(links, '/pub/a.txt'), undefined);
  });
});
