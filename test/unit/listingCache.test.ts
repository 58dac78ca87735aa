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

  it('caches nothing with a TTL of 0', () => {
    const cache = new ListingCache(0, clock);
    cache.set('/site', [file('a')]);
    assert.equal(cache.get('/site'), undefined);
  });
});
