import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  isSafeEntryName,
  parseList,
  parseMdtm,
  parseMlsd,
  parseMlsdLine,
  parseMlstReply,
  parseSize,
  parseUnixPermissions,
} from '../../src/ftp/listing';
import type { FileEntry } from '../../src/ftp/types';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/listings');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const t = (iso: string): number => Date.parse(iso);
const byName = (entries: FileEntry[]): FileEntry[] => [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** When the fixtures were captured: "Nov 24 09:15" means 2026, "Dec 31  2025" is old enough to show a year. */
const CAPTURED = new Date('2026-11-24T10:21:00Z');

/**
 * The tree served by every real server in the fixtures (see test/fixtures/listings/README.md),
 * as a Unix LIST shows it: minute precision for recent files, day precision for old ones.
 */
function unixListTree(unicodeName = 'ünïcödé файл.txt'): FileEntry[] {
  const recent = t('2026-11-24T09:15:00Z');
  const june = t('2026-06-30T23:59:00Z');
  return withPrecision([
    { name: '  leading.txt', type: 'file', size: 4, mtime: recent, permissions: 0o644 },
    { name: 'abs-link', type: 'symlink', size: 11, mtime: recent, permissions: 0o777, target: '/etc/passwd' },
    { name: 'big.bin', type: 'file', size: 1048576, mtime: t('2019-02-03T00:00:00Z'), permissions: 0o644 },
    { name: 'file.txt', type: 'file', size: 123, mtime: recent, permissions: 0o644 },
    { name: 'link', type: 'symlink', size: 8, mtime: recent, permissions: 0o777, target: 'file.txt' },
    { name: 'name with spaces.txt', type: 'file', size: 5, mtime: recent, permissions: 0o644 },
    { name: 'old.txt', type: 'file', size: 3, mtime: t('2019-02-03T00:00:00Z'), permissions: 0o644 },
    { name: 'semi;colon=eq.txt', type: 'file', size: 1, mtime: june, permissions: 0o644 },
    { name: 'setgid-noexec', type: 'file', size: 1, mtime: june, permissions: 0o2644 },
    { name: 'setuid.sh', type: 'file', size: 10, mtime: june, permissions: 0o4755 },
    { name: 'sticky', type: 'directory', size: 4096, mtime: t('2025-12-31T00:00:00Z'), permissions: 0o1777 },
    { name: 'sub dir', type: 'directory', size: 4096, mtime: t('2025-12-31T00:00:00Z'), permissions: 0o755 },
    { name: unicodeName, type: 'file', size: 8, mtime: june, permissions: 0o644 },
  ]);
}

/** What `ls -l` shows of a time: dates older than six months (midnight here) to the day, others to the minute. */
function withPrecision(entries: FileEntry[]): FileEntry[] {
  return entries.map((e) => ({ ...e, mtimePrecision: e.mtime! % 86_400_000 === 0 ? 'day' : 'minute' }));
}

/** The same tree with the exact times an ISO `ls --time-style` shows. */
function isoListTree(seconds: boolean): FileEntry[] {
  const old = t(seconds ? '2019-02-03T04:05:06Z' : '2019-02-03T04:05:00Z');
  // long-iso has no zone: local time to the minute; full-iso gives seconds and the zone: exact.
  return unixListTree().map(({ mtimePrecision: _, ...e }) => {
    const precision = seconds ? {} : { mtimePrecision: 'minute' as const };
    if (e.name === 'big.bin' || e.name === 'old.txt') return { ...e, mtime: old, ...precision };
    if (e.type === 'directory') return { ...e, mtime: t('2025-12-31T12:00:00Z'), ...precision };
    return { ...e, ...precision };
  });
}

describe('parseList', () => {
  describe('real server output', () => {
    it('reads vsftpd 3.0.3 LIST (numeric ids, zero-padded days)', () => {
      assert.deepEqual(parseList(fixture('vsftpd-list.txt'), CAPTURED), unixListTree());
    });

    it('drops the . and .. entries of vsftpd LIST -a', () => {
      assert.deepEqual(parseList(fixture('vsftpd-list-a.txt'), CAPTURED), unixListTree());
    });

    it('reads proftpd 1.3.8 LIST (owner names, space-padded days)', () => {
      assert.deepEqual(parseList(fixture('proftpd-list.txt'), CAPTURED), unixListTree());
    });

    it('reads pure-ftpd 1.0.50 LIST (wide id columns)', () => {
      assert.deepEqual(parseList(fixture('pure-ftpd-list.txt'), CAPTURED), unixListTree());
    });

    it('reads busybox ls -lAn as busybox ftpd sends it, skipping the total line', () => {
      assert.deepEqual(parseList(fixture('busybox-list.txt'), CAPTURED), unixListTree('ünïcödé ????.txt'));
    });

    it('finds the size when the listing has no group column', () => {
      assert.deepEqual(parseList(fixture('busybox-list-nogroup.txt'), CAPTURED), unixListTree('ünïcödé ????.txt'));
    });

    it('reads GNU ls --time-style=long-iso', () => {
      assert.deepEqual(parseList(fixture('ls-long-iso.txt'), CAPTURED), isoListTree(false));
    });

    it('reads GNU ls --time-style=full-iso and applies its zone offset', () => {
      // Captured with TZ=Europe/Berlin: +0100 in winter, +0200 in summer.
      assert.deepEqual(parseList(fixture('ls-full-iso.txt'), CAPTURED), isoListTree(true));
    });
  });

  describe('other server styles', () => {
    it('reads FileZilla Server LIST', () => {
      assert.deepEqual(parseList(fixture('filezilla-server-list.txt'), CAPTURED), [
        { name: 'sub dir', type: 'directory', size: 0, mtime: t('2025-12-31T00:00:00Z'), mtimePrecision: 'day', permissions: 0o755 },
        { name: 'file.txt', type: 'file', size: 123, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute', permissions: 0o644 },
        { name: '  leading.txt', type: 'file', size: 4, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute', permissions: 0o644 },
        { name: 'big.bin', type: 'file', size: 1048576, mtime: t('2019-02-03T00:00:00Z'), mtimePrecision: 'day', permissions: 0o644 },
        { name: 'ünïcödé файл.txt', type: 'file', size: 8, mtime: t('2026-06-30T23:59:00Z'), mtimePrecision: 'minute', permissions: 0o644 },
        { name: 'semi;colon=eq.txt', type: 'file', size: 1, mtime: t('2026-06-30T23:59:00Z'), mtimePrecision: 'minute', permissions: 0o644 },
      ]);
    });

    it('reads a Windows server\'s Unix-like listing with numeric owner and unpadded hours', () => {
      assert.deepEqual(parseList(fixture('windows-unix-numeric.txt'), CAPTURED), [
        { name: 'Archive', type: 'directory', size: 0, mtime: t('2025-12-31T00:00:00Z'), mtimePrecision: 'day', permissions: 0o777 },
        { name: 'Report 2026.xlsx', type: 'file', size: 12345, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute', permissions: 0o666 },
        { name: '  leading.txt', type: 'file', size: 4, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute', permissions: 0o666 },
        { name: 'read only.txt', type: 'file', size: 512, mtime: t('2026-01-01T00:00:00Z'), mtimePrecision: 'minute', permissions: 0o444 },
      ]);
    });

    it('reads IIS DOS-style listings with 2-digit years and AM/PM', () => {
      assert.deepEqual(parseList(fixture('iis-dos.txt'), CAPTURED), [
        { name: 'aspnet_client', type: 'directory', size: -1, mtime: t('2024-02-05T15:04:00Z'), mtimePrecision: 'minute' },
        { name: 'file.txt', type: 'file', size: 123, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute' },
        { name: 'midnight.txt', type: 'file', size: 0, mtime: t('2026-11-24T00:00:00Z'), mtimePrecision: 'minute' },
        { name: 'half past noon.log', type: 'file', size: 4096, mtime: t('2026-11-24T12:30:00Z'), mtimePrecision: 'minute' },
        { name: 'name with spaces.bin', type: 'file', size: 1048576, mtime: t('2026-06-30T23:59:00Z'), mtimePrecision: 'minute' },
        { name: 'old dir', type: 'directory', size: -1, mtime: t('1999-12-31T11:59:00Z'), mtimePrecision: 'minute' },
        { name: 'y2k.txt', type: 'file', size: 42, mtime: t('2000-01-01T01:00:00Z'), mtimePrecision: 'minute' },
        { name: '  leading dir', type: 'directory', size: -1, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute' },
        { name: '  leading.txt', type: 'file', size: 4, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute' },
        { name: 'ünïcödé файл.txt', type: 'file', size: 8, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute' },
      ]);
    });

    it('reads DOS-style listings with 4-digit years and 24-hour times', () => {
      assert.deepEqual(parseList(fixture('iis-dos-4digit-24h.txt'), CAPTURED), [
        { name: 'Projects', type: 'directory', size: -1, mtime: t('2026-11-24T21:15:00Z'), mtimePrecision: 'minute' },
        { name: 'report 2026.xlsx', type: 'file', size: 12345, mtime: t('2026-11-24T09:05:00Z'), mtimePrecision: 'minute' },
        { name: 'leap.txt', type: 'file', size: 7, mtime: t('2024-02-29T00:00:00Z'), mtimePrecision: 'minute' },
        { name: 'last of the century.txt', type: 'file', size: 1, mtime: t('1999-12-31T23:59:00Z'), mtimePrecision: 'minute' },
      ]);
    });

    it('reads DOS-style variants: narrow padding, separate am/pm, grouped digits', () => {
      assert.deepEqual(parseList(fixture('dos-misc.txt'), CAPTURED), [
        { name: 'name', type: 'directory', size: -1, mtime: t('2024-02-05T15:04:00Z'), mtimePrecision: 'minute' },
        { name: 'notes.txt', type: 'file', size: 1234, mtime: t('2023-12-31T11:59:00Z'), mtimePrecision: 'minute' },
        { name: 'lower case am.txt', type: 'file', size: 99, mtime: t('2023-12-31T11:59:00Z'), mtimePrecision: 'minute' },
        { name: 'grouped digits.iso', type: 'file', size: 1234567, mtime: t('2025-07-04T17:06:00Z'), mtimePrecision: 'minute' },
      ]);
    });

    it('reads NetWare-style listings (type only, no Unix permissions)', () => {
      assert.deepEqual(parseList(fixture('netware.txt'), CAPTURED), [
        { name: 'PUBLIC', type: 'directory', size: 512, mtime: t('2025-12-31T00:00:00Z'), mtimePrecision: 'day' },
        { name: 'login.exe', type: 'file', size: 12345, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute' },
        { name: 'readme file.txt', type: 'file', size: 100, mtime: t('2019-02-03T00:00:00Z'), mtimePrecision: 'day' },
      ]);
    });
  });

  describe('names', () => {
    const line = (name: string, mode = '-rw-r--r--'): string => `${mode}    1 0        0               5 Nov 24 09:15 ${name}`;

    it('keeps leading and trailing spaces: the name starts after the one space behind the time', () => {
      assert.deepEqual(parseList(line('   three leading, two trailing  '), CAPTURED).map((e) => e.name), ['   three leading, two trailing  ']);
    });

    it('keeps leading spaces after a year column too', () => {
      const entries = parseList('-rw-r--r--   1 root     root            3 Feb  3  2019  old.txt', CAPTURED);
      assert.deepEqual(entries.map((e) => e.name), [' old.txt']);
    });

    it('finds the date, not a date-like part of the name', () => {
      const entries = parseList(line('Jan 12 2020 notes -> nowhere.txt'), CAPTURED);
      assert.deepEqual(entries, [
        { name: 'Jan 12 2020 notes -> nowhere.txt', type: 'file', size: 5, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute', permissions: 0o644 },
      ]);
    });

    it('splits a symlink at the first arrow, and leaves a link without one alone', () => {
      assert.deepEqual(parseList(line('a -> b -> c', 'lrwxrwxrwx'), CAPTURED).map((e) => [e.name, e.target]), [['a', 'b -> c']]);
      assert.deepEqual(parseList(line('bare-link', 'lrwxrwxrwx'), CAPTURED).map((e) => [e.name, e.target]), [['bare-link', undefined]]);
    });

    it('keeps a tab inside a name', () => {
      assert.deepEqual(parseList(line('tab\there'), CAPTURED).map((e) => e.name), ['tab\there']);
    });

    it('drops names that could leave the folder or reach the control connection', () => {
      assert.deepEqual(parseList(fixture('hostile.txt'), CAPTURED), [
        { name: 'ok.txt', type: 'file', size: 2, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute', permissions: 0o644 },
      ]);
    });
  });

  describe('columns', () => {
    it('accepts owner names with spaces and a missing link count', () => {
      assert.deepEqual(parseList('-rw-r--r-- 1 Domain Users   Domain Users   77 Nov 24 09:15 a.txt\r\n-rw-r--r-- owner 9 Nov 24 09:15 b.txt', CAPTURED), [
        { name: 'a.txt', type: 'file', size: 77, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute', permissions: 0o644 },
        { name: 'b.txt', type: 'file', size: 9, mtime: t('2026-11-24T09:15:00Z'), mtimePrecision: 'minute', permissions: 0o644 },
      ]);
    });

    it('does not take a numeric owner or group for the size', () => {
      assert.deepEqual(parseList('-rw-r--r--    1 1000     1000            0 Nov 24 09:15 empty', CAPTURED).map((e) => e.size), [0]);
    });

    it('skips an inode number and block count in front of the mode (ls -is)', () => {
      assert.deepEqual(parseList(' 1835019    4 -rw-r--r--   1 root root 123 Nov 24 09:15 file.txt', CAPTURED).map((e) => [e.name, e.size]), [['file.txt', 123]]);
    });

    it('accepts ACL and xattr markers after the mode', () => {
      const text = 'drwxr-xr-x+  11 patrick  staff    374 Dec 11  2025 lib\n-rw-r--r--@   1 patrick  staff   1057 Dec 11  2025 LICENSE.txt\n-rw-r--r--.   1 root root 1 Dec 11  2025 selinux';
      assert.deepEqual(parseList(text, CAPTURED).map((e) => [e.name, e.type, e.permissions]), [
        ['lib', 'directory', 0o755],
        ['LICENSE.txt', 'file', 0o644],
        ['selinux', 'file', 0o644],
      ]);
    });

    it('lists devices, fifos and sockets as unknown', () => {
      const text = [
        'crw-rw-rw-   1 root root 1, 3 Nov 24 09:15 null',
        'brw-rw----   1 root disk 8, 0 Nov 24 09:15 sda',
        'prw-r--r--   1 root root    0 Nov 24 09:15 fifo',
        'srwxrwxrwx   1 root root    0 Nov 24 09:15 socket',
      ].join('\n');
      assert.deepEqual(parseList(text, CAPTURED).map((e) => [e.name, e.type]), [
        ['null', 'unknown'], ['sda', 'unknown'], ['fifo', 'unknown'], ['socket', 'unknown'],
      ]);
    });

    it('reads BSD ls -T full times', () => {
      assert.deepEqual(parseList('-rw-r--r--  1 user  staff  42 Mar  5 14:07:09 2024 bsd.txt', CAPTURED).map((e) => [e.name, e.mtime]), [
        ['bsd.txt', t('2024-03-05T14:07:09Z')],
      ]);
    });

    it('reads month names in any case', () => {
      assert.deepEqual(parseList('-rw-r--r-- 1 0 0 1 NOV 24 09:15 upper\n-rw-r--r-- 1 0 0 1 nov 24 09:15 lower', CAPTURED).map((e) => e.mtime), [
        t('2026-11-24T09:15:00Z'), t('2026-11-24T09:15:00Z'),
      ]);
    });
  });

  describe('the year of a "Mon DD HH:MM" date', () => {
    const mtimeAt = (date: string, now: string): number | undefined =>
      parseList(`-rw-r--r-- 1 0 0 1 ${date} f`, new Date(now))[0]?.mtime;

    it('is this year for a date earlier this year', () => {
      assert.equal(mtimeAt('Nov 24 09:15', '2026-11-24T10:21:00Z'), t('2026-11-24T09:15:00Z'));
      assert.equal(mtimeAt('Jan  1 00:00', '2026-11-24T10:21:00Z'), t('2026-01-01T00:00:00Z'));
    });

    it('tolerates up to a day in the future (server clock or zone ahead)', () => {
      assert.equal(mtimeAt('Nov 25 10:00', '2026-11-24T10:21:00Z'), t('2026-11-25T10:00:00Z'));
    });

    it('is last year for a date more than a day ahead', () => {
      assert.equal(mtimeAt('Nov 26 10:00', '2026-11-24T10:21:00Z'), t('2025-11-26T10:00:00Z'));
      assert.equal(mtimeAt('Dec 31 23:59', '2027-01-01T00:10:00Z'), t('2026-12-31T23:59:00Z'));
    });

    it('is next year just before New Year when the server is ahead', () => {
      assert.equal(mtimeAt('Jan  1 00:30', '2026-12-31T23:45:00Z'), t('2027-01-01T00:30:00Z'));
    });

    it('is the latest leap year for Feb 29', () => {
      assert.equal(mtimeAt('Feb 29 12:00', '2026-11-24T10:21:00Z'), t('2024-02-29T12:00:00Z'));
    });

    it('rejects impossible dates and times', () => {
      assert.deepEqual(parseList('-rw-r--r-- 1 0 0 1 Feb 30  2024 f\n-rw-r--r-- 1 0 0 1 Nov 24 24:00 g\n-rw-r--r-- 1 0 0 1 Nov 32 09:15 h', CAPTURED), []);
    });
  });

  describe('robustness', () => {
    it('skips total lines, blank lines, banners and MLSD lines', () => {
      const text = 'total 8\r\n\r\n\r\nHello from the server\ntype=file;size=1; x\n12-31-2023\n-rw-r--r--\n';
      assert.deepEqual(parseList(text, CAPTURED), []);
    });

    it('refuses a name with a CR in the middle of a line', () => {
      assert.deepEqual(parseList('-rw-r--r-- 1 0 0 1 Nov 24 09:15 a\rb\r\n', CAPTURED), []);
    });

    it('uses the current time when no "now" is given', () => {
      const [entry] = parseList('-rw-r--r-- 1 0 0 1 Jan  1 00:00 f');
      assert.equal(new Date(entry.mtime ?? 0).getUTCFullYear(), new Date().getUTCFullYear());
    });
  });
});

describe('parseUnixPermissions', () => {
  const cases: [string, number | undefined][] = [
    ['rwxr-xr-x', 0o755],
    ['rw-r--r--', 0o644],
    ['---------', 0o000],
    ['-rw-------', 0o600],
    ['drwxrwxrwt', 0o1777],
    ['drwxrwxrwT', 0o1776],
    ['-rwsr-xr-x', 0o4755],
    ['-rwSr--r--', 0o4644],
    ['-rwxr-sr-x', 0o2755],
    ['-rw-r-Sr--', 0o2644],
    ['-rwsrwsrwt', 0o7777],
    ['drwxr-xr-x+', 0o755],
    ['-rw-r--r--@', 0o644],
    ['rwxr-xr-', undefined],
    ['rwxq-xr-x', undefined],
    ['rwtr-xr-x', undefined],
    ['-rw-r--r--x', undefined],
    ['', undefined],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${expected === undefined ? 'undefined' : '0o' + expected.toString(8)}`, () => {
      assert.equal(parseUnixPermissions(input), expected);
    });
  }
});

describe('parseMlsd', () => {
  it('reads proftpd 1.3.8 MLSD, skipping cdir and pdir', () => {
    const recent = t('2026-11-24T09:15:00Z');
    const june = t('2026-06-30T23:59:00Z');
    const old = t('2019-02-03T04:05:06Z');
    assert.deepEqual(byName(parseMlsd(fixture('proftpd-mlsd.txt'))), [
      { name: '  leading.txt', type: 'file', size: 4, mtime: recent, permissions: 0o644 },
      { name: 'big.bin', type: 'file', size: 1048576, mtime: old, permissions: 0o644 },
      { name: 'file.txt', type: 'file', size: 123, mtime: recent, permissions: 0o644 },
      { name: 'link', type: 'symlink', size: 8, mtime: recent, permissions: 0o777 },
      { name: 'name with spaces.txt', type: 'file', size: 5, mtime: recent, permissions: 0o644 },
      { name: 'old.txt', type: 'file', size: 3, mtime: old, permissions: 0o644 },
      { name: 'semi;colon=eq.txt', type: 'file', size: 1, mtime: june, permissions: 0o644 },
      { name: 'setgid-noexec', type: 'file', size: 1, mtime: june, permissions: 0o2644 },
      { name: 'setuid.sh', type: 'file', size: 10, mtime: june, permissions: 0o4755 },
      { name: 'sticky', type: 'directory', size: -1, mtime: t('2025-12-31T12:00:00Z'), permissions: 0o1777 },
      { name: 'sub dir', type: 'directory', size: -1, mtime: t('2025-12-31T12:00:00Z'), permissions: 0o755 },
      { name: 'ünïcödé файл.txt', type: 'file', size: 8, mtime: june, permissions: 0o644 },
    ]);
  });

  it('reads pure-ftpd 1.0.50 MLSD (sizd for folders, empty slink targets)', () => {
    const recent = t('2026-11-24T09:15:00Z');
    const june = t('2026-06-30T23:59:00Z');
    const old = t('2019-02-03T04:05:06Z');
    assert.deepEqual(byName(parseMlsd(fixture('pure-ftpd-mlsd.txt'))), [
      { name: '  leading.txt', type: 'file', size: 4, mtime: recent, permissions: 0o644 },
      { name: 'abs-link', type: 'symlink', size: 11, mtime: recent, permissions: 0o777 },
      { name: 'big.bin', type: 'file', size: 1048576, mtime: old, permissions: 0o644 },
      { name: 'file.txt', type: 'file', size: 123, mtime: recent, permissions: 0o644 },
      { name: 'link', type: 'symlink', size: 8, mtime: recent, permissions: 0o777 },
      { name: 'name with spaces.txt', type: 'file', size: 5, mtime: recent, permissions: 0o644 },
      { name: 'old.txt', type: 'file', size: 3, mtime: old, permissions: 0o644 },
      { name: 'semi;colon=eq.txt', type: 'file', size: 1, mtime: june, permissions: 0o644 },
      { name: 'setgid-noexec', type: 'file', size: 1, mtime: june, permissions: 0o2644 },
      { name: 'setuid.sh', type: 'file', size: 10, mtime: june, permissions: 0o4755 },
      { name: 'sticky', type: 'directory', size: 4096, mtime: t('2025-12-31T12:00:00Z'), permissions: 0o1777 },
      { name: 'sub dir', type: 'directory', size: 4096, mtime: t('2025-12-31T12:00:00Z'), permissions: 0o755 },
      { name: 'ünïcödé файл.txt', type: 'file', size: 8, mtime: june, permissions: 0o644 },
    ]);
  });

  it('reads FileZilla Server MLSD with fractional seconds', () => {
    assert.deepEqual(parseMlsd(fixture('filezilla-server-mlsd.txt')), [
      { name: 'sub dir', type: 'directory', size: -1, mtime: t('2025-12-31T12:00:00Z') },
      { name: 'file.txt', type: 'file', size: 123, mtime: t('2026-11-24T09:15:00.123Z') },
      { name: '  leading.txt', type: 'file', size: 4, mtime: t('2026-11-24T09:15:00Z') },
      { name: 'big.bin', type: 'file', size: 1048576, mtime: t('2019-02-03T04:05:06Z') },
      { name: 'ünïcödé файл.txt', type: 'file', size: 8, mtime: t('2026-06-30T23:59:00Z') },
      { name: 'semi;colon=eq.txt', type: 'file', size: 1, mtime: t('2026-06-30T23:59:00Z') },
    ]);
  });

  it('drops hostile names and malformed lines', () => {
    assert.deepEqual(parseMlsd(fixture('hostile-mlsd.txt')), [
      { name: 'ok.txt', type: 'file', size: 2, mtime: t('2026-11-24T09:15:00Z') },
    ]);
  });

  describe('parseMlsdLine', () => {
    it('reads fact names and type values in any case', () => {
      assert.deepEqual(parseMlsdLine('TYPE=FILE;Size=3;MODIFY=20240102030405;unix.MODE=0640; x'), {
        name: 'x', type: 'file', size: 3, mtime: t('2024-01-02T03:04:05Z'), permissions: 0o640,
      });
    });

    it('reads a symlink target from OS.unix=slink', () => {
      assert.deepEqual(parseMlsdLine('type=OS.unix=slink:/Etc/Passwd;size=11; pw'), {
        name: 'pw', type: 'symlink', size: 11, target: '/Etc/Passwd',
      });
      assert.deepEqual(parseMlsdLine('type=OS.unix=symlink;size=3; l'), { name: 'l', type: 'symlink', size: 3 });
    });

    it('takes everything after the facts as the name: spaces, semicolons, equals signs', () => {
      assert.equal(parseMlsdLine('type=file;size=1;   a; b=c;d.txt ')?.name, '  a; b=c;d.txt ');
    });

    it('tolerates a missing last semicolon before the name', () => {
      assert.deepEqual(parseMlsdLine('type=file;size=1 name with space'), { name: 'name with space', type: 'file', size: 1 });
    });

    it('reads a line without facts as an entry of unknown type', () => {
      assert.deepEqual(parseMlsdLine(' just a name'), { name: 'just a name', type: 'unknown', size: -1 });
    });

    it('reads other OS types as unknown and ignores facts it cannot read', () => {
      assert.deepEqual(parseMlsdLine('type=OS.unix=chr-3/1;size=zero;modify=2024;UNIX.mode=rwx; null'), {
        name: 'null', type: 'unknown', size: -1,
      });
    });

    it('prefers size over sizd and masks the file type out of UNIX.mode', () => {
      assert.deepEqual(parseMlsdLine('type=dir;sizd=4096;size=10;UNIX.mode=040755; d'), {
        name: 'd', type: 'directory', size: 10, permissions: 0o755,
      });
    });

    it('skips cdir, pdir, facts without "=" and lines without a name', () => {
      for (const line of ['type=cdir;modify=20240101000000; /home', 'type=pdir; ..', 'type;size=1; x', 'type=file;size=1;', '']) {
        assert.equal(parseMlsdLine(line), undefined, JSON.stringify(line));
      }
    });

    it('rejects impossible modify times but keeps the entry', () => {
      assert.deepEqual(parseMlsdLine('type=file;modify=20241301000000; x'), { name: 'x', type: 'file', size: -1 });
      assert.deepEqual(parseMlsdLine('type=file;modify=20230229000000; x'), { name: 'x', type: 'file', size: -1 });
    });
  });
});

describe('parseMlstReply', () => {
  it('reads proftpd\'s reply, whose entry names the absolute path', () => {
    assert.deepEqual(parseMlstReply(fixture('proftpd-mlst-file.txt')), {
      name: 'file.txt', type: 'file', size: 123, mtime: t('2026-11-24T09:15:00Z'), permissions: 0o644,
    });
    assert.deepEqual(parseMlstReply(fixture('proftpd-mlst-dir.txt')), {
      name: 'sub dir', type: 'directory', size: -1, mtime: t('2025-12-31T12:00:00Z'), permissions: 0o755,
    });
  });

  it('reads pure-ftpd\'s reply, whose entry names the path as asked', () => {
    assert.deepEqual(parseMlstReply(fixture('pure-ftpd-mlst-file.txt')), {
      name: 'file.txt', type: 'file', size: 123, mtime: t('2026-11-24T09:15:00Z'), permissions: 0o644,
    });
    assert.deepEqual(parseMlstReply(fixture('pure-ftpd-mlst-dir.txt')), {
      name: 'sub dir', type: 'directory', size: 4096, mtime: t('2025-12-31T12:00:00Z'), permissions: 0o755,
    });
    assert.deepEqual(parseMlstReply(fixture('pure-ftpd-mlst-link.txt')), {
      name: 'link', type: 'symlink', size: 8, mtime: t('2026-11-24T09:15:00Z'), permissions: 0o777,
    });
  });

  it('gives undefined for the root, which has no name', () => {
    assert.equal(parseMlstReply(fixture('proftpd-mlst-root.txt')), undefined);
  });

  it('reads cdir as a folder, ignores a trailing slash and keeps leading spaces of the name', () => {
    assert.deepEqual(parseMlstReply('250-Listing /a/b/\r\n type=cdir;modify=20240101000000; /a/b/\r\n250 End'), {
      name: 'b', type: 'directory', size: -1, mtime: t('2024-01-01T00:00:00Z'),
    });
    assert.equal(parseMlstReply('250-x\n type=file;size=1; /dir/  spaced\n250 End')?.name, '  spaced');
  });

  it('accepts an entry line that lacks the leading space', () => {
    assert.equal(parseMlstReply('250-Listing\ntype=file;size=1; /x/y.txt\n250 End')?.name, 'y.txt');
  });

  it('gives undefined for error replies and hostile names', () => {
    for (const reply of ['550 No such file or directory', '', '250-x\n type=file; /a/..\n250 End', '250-x\n type=file; /\n250 End']) {
      assert.equal(parseMlstReply(reply), undefined, JSON.stringify(reply));
    }
  });
});

describe('parseMdtm', () => {
  it('reads vsftpd\'s reply as a UTC timestamp', () => {
    assert.equal(parseMdtm(fixture('vsftpd-mdtm-reply.txt')), t('2026-11-24T09:15:00Z'));
  });

  it('reads fractional seconds to the millisecond', () => {
    assert.equal(parseMdtm('213 20240102030405.5'), t('2024-01-02T03:04:05.500Z'));
    assert.equal(parseMdtm('213 20240102030405.123456'), t('2024-01-02T03:04:05.123Z'));
  });

  it('accepts the text without the code', () => {
    assert.equal(parseMdtm('20240102030405'), t('2024-01-02T03:04:05Z'));
  });

  it('gives undefined for errors and impossible dates', () => {
    for (const reply of ['550 file.txt: No such file', '213 2024010203040', '213 20241302030405', '213 20240230030405', '213 20240102250405', '213 191240102030405']) {
      assert.equal(parseMdtm(reply), undefined, reply);
    }
  });
});

describe('parseSize', () => {
  it('reads a size', () => {
    assert.equal(parseSize(fixture('vsftpd-size-reply.txt')), 1048576);
    assert.equal(parseSize('213 0\r\n'), 0);
    assert.equal(parseSize('213 9007199254740991'), 9007199254740991);
  });

  it('gives undefined for errors and non-numbers', () => {
    for (const reply of ['550 Could not get file size.', '213 12a', '213 -1', '213 ', '']) {
      assert.equal(parseSize(reply), undefined, reply);
    }
  });
});

describe('isSafeEntryName', () => {
  it('accepts plain, spaced, dotted and non-ASCII names', () => {
    for (const name of ['a', ' ', '  leading.txt', '...', '.hidden', 'ünïcödé файл.txt', 'back\\slash']) {
      assert.equal(isSafeEntryName(name), true, JSON.stringify(name));
    }
  });

  it('refuses empty, dot names, slashes and control-connection breakers', () => {
    for (const name of ['', '.', '..', 'a/b', '/', 'nul\0', 'cr\r', 'lf\n']) {
      assert.equal(isSafeEntryName(name), false, JSON.stringify(name));
    }
  });
});

describe('parsing cost', () => {
  // A quadratic or backtracking parser takes seconds on 100 KB; a linear one, a few milliseconds.
  const LIMIT_MS = 250;
  const garbage: [string, string][] = [
    ['spaces', ' '.repeat(100_000)],
    ['digits', '7'.repeat(100_000)],
    ['month-like tokens', 'Jan 1 '.repeat(17_000)],
    ['a mode followed by numbers', '-rw-r--r-- ' + '1 '.repeat(50_000)],
    ['dates without a size before them', '-rw-r--r-- x ' + 'Nov 24 09:15 '.repeat(8_000)],
    ['a DOS line with a huge grouped size', '01-01-24  01:00AM ' + '1,000'.repeat(20_000) + 'x name'],
    ['semicolons', ';'.repeat(100_000)],
    ['facts', 'a=b;'.repeat(25_000) + 'x'],
    ['equals and spaces', '= '.repeat(50_000)],
    ['MLST-like', ' ' + 'type=file;'.repeat(10_000) + '/'.repeat(1000)],
    ['pseudo-random bytes', Array.from({ length: 100_000 }, (_, i) => String.fromCharCode((i * 7919 + 13) % 0x250)).join('')],
  ];
  for (const [label, text] of garbage) {
    it(`handles a 100 KB line of ${label} quickly, giving only safe names`, () => {
      const start = process.hrtime.bigint();
      const results = [parseList(text, CAPTURED), parseMlsd(text), [parseMlstReply(text)], [parseMdtm(text)], [parseSize(text)]];
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      assert.ok(ms < LIMIT_MS, `took ${ms.toFixed(1)} ms`);
      for (const list of results.slice(0, 2)) {
        for (const e of list as FileEntry[]) assert.ok(isSafeEntryName(e.name));
      }
    });
  }

  it('parses 20,000 lines quickly', () => {
    const text = '-rw-r--r--    1 0        0             123 Nov 24 09:15 file.txt\r\n'.repeat(20_000);
    const start = process.hrtime.bigint();
    assert.equal(parseList(text, CAPTURED).length, 20_000);
    assert.ok(Number(process.hrtime.bigint() - start) / 1e6 < 1000);
  });
});
