import * as assert from 'node:assert/strict';
import type { FileEntry } from '../../src/ftp/types';
import { ListingCache } from '../../src/remote/listingCache';

const file = (name: string): FileEntry => ({ name, type: 'file', size: 1 });
const dir = (name: string): FileEntry => ({ name, type: 'directory', size: 0 });

describe('ListingCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1000));

  it('answers from a fresh listing: present, absent, or unknown', () => {
    const cache = new ListingCache(5000, clock);
    cache.set('/site', [file('index.html'), dir('img')]);
    assert.equal(cache.lookup('/site/index.html').kind, 'entry');
    assert.equal(cache.lookup('/site/.vscode').kind, 'absent');
    assert.equal(cache.lookup('/other/x').kind, 'unknown');
    assert.equal(cache.lookup('/').kind, 'unknown');
  });

  it("remembers a file as the server described it: our own save's result answers for the TTL, any stat within a given age", () => {
    const cache = new ListingCache(5000, clock);
    cache.rememberFile('/site/a.txt', { ...file('a.txt'), size: 7, mtime: 123 }, true);
    cache.rememberFile('/site/b.txt', file('b.txt'), false);
    assert.equal(cache.recentFile('/site/a.txt', { ownOnly: true })?.size, 7);
    cache.rememberFile('/site/once.txt', file('once.txt'), true);
    assert.ok(cache.recentFile('/site/once.txt', { ownOnly: true, once: true }));
    assert.equal(cache.recentFile('/site/once.txt', { ownOnly: true }), undefined, 'asked for once: gone after it answered');
    assert.equal(cache.recentFile('/site/b.txt', { ownOnly: true }), undefined, 'a stat is not our own save');
    now += 2500;
    assert.ok(cache.recentFile('/site/b.txt'));
    assert.equal(cache.recentFile('/site/b.txt', { maxAgeMs: 2000 }), undefined, 'older than asked for');
    now += 2500;
    assert.equal(cache.recentFile('/site/a.txt', { ownOnly: true }), undefined, 'gone with the TTL');
  });

  it('forgets a remembered file when it or a folder above it changes, or the server says it is gone', () => {
    const cache = new ListingCache(5000, clock);
    cache.rememberFile('/site/a.txt', file('a.txt'), true);
    cache.rememberFile('/site/sub/b.txt', file('b.txt'), true);
    cache.rememberFile('/other/c.txt', file('c.txt'), true);
    cache.invalidate('/site');
    assert.equal(cache.recentFile('/site/a.txt'), undefined);
    assert.equal(cache.recentFile('/site/sub/b.txt'), undefined);
    assert.ok(cache.recentFile('/other/c.txt'));
    cache.setAbsent('/other/c.txt');
    assert.equal(cache.recentFile('/other/c.txt'), undefined);
    const off = new ListingCache(0, clock);
    off.rememberFile('/x', file('x'), true);
    assert.equal(off.recentFile('/x'), undefined, 'nothing with the cache off');
  });

  it('tells a listing asked for before one of our own changes in or below its folder, which must not be kept', () => {
    const cache = new ListingCache(5000, clock);
    const asked = cache.mark();
    assert.equal(cache.changedSince('/site', asked), false);
    cache.invalidate('/site/new.php');
    assert.equal(cache.changedSince('/site', asked), true, 'a file made in it');
    assert.equal(cache.changedSince('/other', asked), false);
    const later = cache.mark();
    assert.equal(cache.changedSince('/site', later), false, 'asked for after the change');
    cache.invalidate('/a');
    assert.equal(cache.changedSince('/a/b/c', later), true, 'a folder above it renamed or deleted');
    assert.equal(cache.changedSince('/ab', later), false);
    assert.equal(cache.changedSince('/', later), true, 'the folder that holds it');
  });

  it('does not speak for names beginning with a dot when the server hid them from the listing', () => {
    const cache = new ListingCache(5000, clock);
    cache.set('/site', [file('index.html')], { hidesDotFiles: true });
    assert.equal(cache.lookup('/site/.well-known').kind, 'unknown');
    assert.equal(cache.lookup('/site/missing.html').kind, 'absent');
    cache.set('/shown', [file('index.html')]);
    assert.equal(cache.lookup('/shown/.vscode').kind, 'absent');
  });

  it('expires listings after the TTL', () => {
    const cache = new ListingCache(5000, clock);
    cache.set('/site', [file('a')]);
    now += 4999;
    assert.ok(cache.get('/site'));
    now += 1;
    assert.equal(cache.get('/site'), undefined);
    assert.equal(cache.lookup('/site/a').kind, 'unknown');
  });

  it('forgets the parent folder and everything below a changed path', () => {
    const cache = new ListingCache(5000, clock);
    cache.set('/', [dir('site')]);
    cache.set('/site', [dir('img')]);
    cache.set('/site/img', [file('logo.png')]);
    cache.set('/other', [file('b')]);
    cache.invalidate('/site');
    assert.equal(cache.get('/'), undefined);
    assert.equal(cache.get('/site'), undefined);
    assert.equal(cache.get('/site/img'), undefined);
    assert.ok(cache.get('/other'));
  });

  it('speaks for a listing\'s own entries only, until one was looked up and found missing: then for what is below it too', () => {
    const cache = new ListingCache(5000, clock);
    cache.set('/', [dir('site'), file('notes.txt')]);
    assert.equal(cache.lookup('/new/file.txt').kind, 'unknown', 'a folder made since the listing must not look missing');
    assert.equal(cache.lookup('/site/index.html').kind, 'unknown');
    now += 1000;
    assert.equal(cache.lookup('/.vscode').kind, 'absent');
    assert.equal(cache.lookup('/.vscode/settings.json').kind, 'absent', 'VS Code asks for its files next');
    assert.equal(cache.lookup('/.vscode/a/b/c.json').kind, 'absent');
    now += 4000;
    assert.equal(cache.lookup('/.vscode/settings.json').kind, 'unknown', 'no longer than the listing that showed it missing is fresh');
  });

  it('remembers a path the server said is missing, as long as a listing, and forgets it when something is made there', () => {
    const cache = new ListingCache(5000, clock);
    cache.setAbsent('/site/.vscode');
    assert.equal(cache.lookup('/site/.vscode').kind, 'absent');
    assert.equal(cache.lookup('/site/.vscode/tasks.json').kind, 'absent');
    cache.invalidate('/site/.vscode/settings.json');
    assert.equal(cache.lookup('/site/.vscode').kind, 'unknown', 'a file made below it: the folder exists now');
    cache.setAbsent('/a.txt');
    cache.invalidate('/a.txt');
    assert.equal(cache.lookup('/a.txt').kind, 'unknown');
    cache.setAbsent('/gone');
    cache.setAbsent('/gone/x');
    cache.invalidate('/');
    assert.equal(cache.lookup('/gone/x').kind, 'unknown', 'a change at the root forgets everything below');
    cache.setAbsent('/b.txt');
    now += 5000;
    assert.equal(cache.lookup('/b.txt').kind, 'unknown');
  });

  it('drops a listing above a path the server has just shown to exist, when it says otherwise', () => {
    const cache = new ListingCache(5000, clock);
    cache.set('/', [dir('site')]);
    cache.set('/site', [file('index.html')]);
    cache.setAbsent('/new/deep');
    cache.confirmExists('/new/deep/file.txt');
    assert.equal(cache.lookup('/new/deep/file.txt').kind, 'unknown', 'someone else made /new: the root listing is out of date');
    assert.equal(cache.get('/'), undefined);
    assert.ok(cache.get('/site'), 'listings that agree stay');
    cache.confirmExists('/site/index.html');
    assert.ok(cache.get('/site'));
  });

  it('keeps at most a thousand missing paths, the newest', () => {
    const cache = new ListingCache(5000, clock);
    for (let i = 0; i < 1500; i++) cache.setAbsent(`/missing-${i}`);
    assert.equal(cache.lookup('/missing-1499').kind, 'absent');
    assert.equal(cache.lookup('/missing-500').kind, 'absent');
    assert.equal(cache.lookup('/missing-499').kind, 'unknown', 'the oldest went first');
  });

  it('caches nothing with a TTL of 0', () => {
    const cache = new ListingCache(0, clock);
    cache.set('/site', [file('a')]);
    assert.equal(cache.get('/site'), undefined);
    cache.setAbsent('/b');
    assert.equal(cache.lookup('/b').kind, 'unknown');
  });
});
