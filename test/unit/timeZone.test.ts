import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseList, parseMdtm } from '../../src/ftp/listing';
import { detectOffset, detectionCandidate, formatTimeZoneOffset, mdtmOffsetAgainst, parseTimeZoneOffset, toUtc } from '../../src/ftp/timeZone';
import type { FileEntry } from '../../src/ftp/types';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/listings');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const MIN = 60_000;

describe('server time zone', () => {
  describe('parseTimeZoneOffset', () => {
    it('reads minutes and the usual spellings of an offset', () => {
      assert.equal(parseTimeZoneOffset(120), 120);
      assert.equal(parseTimeZoneOffset('+02:00'), 120);
      assert.equal(parseTimeZoneOffset('-0530'), -330);
      assert.equal(parseTimeZoneOffset('+5:45'), 345);
      assert.equal(parseTimeZoneOffset('-5'), -300);
      assert.equal(parseTimeZoneOffset('UTC+01:00'), 60);
      assert.equal(parseTimeZoneOffset('gmt-03:00'), -180);
      assert.equal(parseTimeZoneOffset('UTC'), 0);
      assert.equal(parseTimeZoneOffset('Z'), 0);
    });

    it('leaves an empty setting to detection', () => {
      assert.equal(parseTimeZoneOffset(undefined), undefined);
      assert.equal(parseTimeZoneOffset(''), undefined);
      assert.equal(parseTimeZoneOffset(null), undefined);
    });

    it('refuses what is no offset, or none in use on Earth', () => {
      for (const bad of ['Europe/Berlin', '2', '+02:0', '+25:00', '-13:00', 15 * 60, 1.5]) {
        assert.throws(() => parseTimeZoneOffset(bad), RangeError, String(bad));
      }
    });

    it('formats minutes back', () => {
      assert.deepEqual([120, -330, 0, 345].map(formatTimeZoneOffset), ['+02:00', '-05:30', '+00:00', '+05:45']);
    });
  });

  describe('detectOffset (one file\'s LIST time, read as UTC, against its MDTM)', () => {
    const utc = Date.UTC(2026, 10, 24, 9, 15, 42);
    const listed = (offset: number) => Math.floor((utc + offset * MIN) / MIN) * MIN; // what LIST shows: cut to the minute

    it('finds whole-hour, half-hour and quarter-hour zones on both sides of UTC despite the lost seconds', () => {
      for (const offset of [0, 60, 120, -300, -210, 330, 345, 765, -720, 840]) {
        assert.equal(detectOffset(listed(offset), utc), offset, `UTC${formatTimeZoneOffset(offset)}`);
      }
    });

    it('gives 0, never -0, for a server in UTC', () => {
      assert.ok(Object.is(detectOffset(listed(0), utc), 0));
    });

    it('rounds a few minutes of clock difference away', () => {
      assert.equal(detectOffset(listed(120) + 4 * MIN, utc), 120);
      assert.equal(detectOffset(listed(120) - 6 * MIN, utc), 120);
    });

    it('refuses a difference no zone explains', () => {
      assert.equal(detectOffset(utc + 15 * 60 * MIN, utc), undefined);
      assert.equal(detectOffset(utc - 13 * 60 * MIN, utc), undefined);
    });
  });

  describe('detectionCandidate', () => {
    it('takes the newest file with a time of day, never a folder, a link or a date-only line', () => {
      const entries = parseList(fixture('vsftpd-list.txt'), new Date('2026-11-24T10:21:00Z'));
      assert.equal(detectionCandidate(entries)?.name, '  leading.txt');
      assert.equal(detectionCandidate(entries.filter((e) => e.mtimePrecision === 'day' || e.type !== 'file')), undefined);
    });

    it('has nothing to offer in an MLSD listing (exact UTC times)', () => {
      const entries: FileEntry[] = [{ name: 'a', type: 'file', size: 1, mtime: 1 }];
      assert.equal(detectionCandidate(entries), undefined);
    });
  });

  describe('toUtc', () => {
    it('moves LIST times by the offset and leaves exact ones alone', () => {
      const t = Date.UTC(2026, 10, 24, 11, 15);
      const entries: FileEntry[] = [
        { name: 'list', type: 'file', size: 1, mtime: t, mtimePrecision: 'minute' },
        { name: 'old', type: 'file', size: 1, mtime: Date.UTC(2019, 1, 3), mtimePrecision: 'day' },
        { name: 'exact', type: 'file', size: 1, mtime: t },
        { name: 'none', type: 'directory', size: -1 },
      ];
      toUtc(entries, 120);
      assert.deepEqual(entries.map((e) => e.mtime), [t - 120 * MIN, Date.UTC(2019, 1, 2, 22), t, undefined]);
    });
  });

  it('a real vsftpd listing and MDTM reply give UTC+00:00 (vsftpd lists in UTC by default)', () => {
    const entries = parseList(fixture('vsftpd-list.txt'), new Date('2026-11-24T10:21:00Z'));
    const file = entries.find((e) => e.name === 'file.txt')!;
    assert.equal(detectOffset(file.mtime!, parseMdtm(fixture('vsftpd-mdtm-reply.txt'))!), 0);
  });

  it("MDTM's own zone against an exact MLSD time: whole quarter hours within two seconds, else none", () => {
    const t = Date.UTC(2026, 11, 7, 5, 10, 30);
    assert.equal(mdtmOffsetAgainst(t, t), 0);
    assert.equal(mdtmOffsetAgainst(t, t + 2 * 3_600_000), 120);
    assert.equal(mdtmOffsetAgainst(t, t - 5.75 * 3_600_000 + 1_000), -345);
    assert.equal(mdtmOffsetAgainst(t, t + 2 * 3_600_000 + 40_000), undefined, 'not a zone: another clock, or a change in between');
    assert.equal(mdtmOffsetAgainst(t, t + 20 * 3_600_000), undefined, 'beyond any zone');
  });
});
