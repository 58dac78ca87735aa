import * as assert from 'node:assert/strict';
import { formatAge, formatBytes, formatRate } from '../../src/ftp/format';

describe('formatBytes', () => {
  it('gives bytes as they are below 1 KB', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1), '1 B');
    assert.equal(formatBytes(1023), '1023 B');
  });

  it('gives one decimal below 10 of a unit, whole numbers above', () => {
    assert.equal(formatBytes(1024), '1.0 KB');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(10 * 1024), '10 KB');
    assert.equal(formatBytes(512 * 1024), '512 KB');
    assert.equal(formatBytes(1.5 * 1024 * 1024), '1.5 MB');
    assert.equal(formatBytes(120 * 1024 * 1024), '120 MB');
    assert.equal(formatBytes(2.25 * 1024 ** 3), '2.3 GB');
    assert.equal(formatBytes(3 * 1024 ** 4), '3.0 TB');
  });

  it('steps up a unit instead of writing 1024 or 10.0', () => {
    assert.equal(formatBytes(1023.6), '1.0 KB');
    assert.equal(formatBytes(1024 * 1024 - 1), '1.0 MB');
    assert.equal(formatBytes(9.97 * 1024), '10 KB');
  });

  it('stays in TB for anything larger', () => {
    assert.equal(formatBytes(2048 * 1024 ** 4), '2048 TB');
  });
});

describe('formatRate', () => {
  it('gives bytes per second in the units of formatBytes', () => {
    assert.equal(formatRate(9_500, 1000), '9.3 KB/s');
    assert.equal(formatRate(100 * 1024 * 1024, 2000), '50 MB/s');
    assert.equal(formatRate(300, 1000), '300 B/s');
    assert.equal(formatRate(1, 3), '333 B/s');
  });

  it('does not divide by zero', () => {
    assert.equal(formatRate(1000, 0), '∞');
  });
});

describe('formatAge', () => {
  it('says how long ago in the largest unit that is at least one', () => {
    assert.equal(formatAge(59_999), 'just now');
    assert.equal(formatAge(4 * 60_000 + 5000), '4 min ago');
    assert.equal(formatAge(2 * 3600_000), '2 h ago');
    assert.equal(formatAge(47 * 3600_000), '47 h ago');
    assert.equal(formatAge(3 * 86_400_000), '3 days ago');
  });
});
