import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { parseList, parseMdtm, parseMlsd, parseMlsdLine, parseMlstReply, parseSize } from '../../src/ftp/listing';
import type { FileEntry } from '../../src/ftp/types';

/** The name rule, stated independently of the code under test. */
function nameIsSafe(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\0\r\n]/.test(name);
}

function assertAllSafe(entries: (FileEntry | undefined)[]): void {
  for (const e of entries) {
    if (e === undefined) continue;
    assert.ok(nameIsSafe(e.name), `unsafe name ${JSON.stringify(e.name)}`);
  }
}

const RUNS = { numRuns: 300 };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86_400_000;
const pad2 = (n: number): string => String(n).padStart(2, '0');

// ---------------------------------------------------------------------------------------------
// Names: spaces (leading, trailing, runs), separators of other formats, non-ASCII, anything.

const nameUnit = fc.oneof(
  fc.constantFrom(' ', '  ', ';', '=', '.', '-', '>', '->', 'é', 'ф', '😀', '\t', ',', 'Nov', '24', '09:15', '<DIR>'),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const anyName = fc.string({ unit: nameUnit, minLength: 1, maxLength: 12 });
const safeName = anyName.filter(nameIsSafe);
/** Listings are line-based: a name with CR or LF cannot even be written into one. */
const nameWithoutBreaks = anyName.filter((n) => !/[\r\n]/.test(n));

// ---------------------------------------------------------------------------------------------
// Unix LIST lines

function modeString(typeChar: string, bits: number): string {
  let s = typeChar;
  const specials = [0o4000, 0o2000, 0o1000];
  for (let who = 0; who < 3; who++) {
    const shift = 6 - who * 3;
    s += bits & (4 << shift) ? 'r' : '-';
    s += bits & (2 << shift) ? 'w' : '-';
    const x = (bits & (1 << shift)) !== 0;
    const special = (bits & specials[who]) !== 0;
    const letter = who === 2 ? 't' : 's';
    s += special ? (x ? letter : letter.toUpperCase()) : x ? 'x' : '-';
  }
  return s;
}

/** A column with the padding `ls` and servers put in front of it. */
const column = (values: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(values, fc.integer({ min: 1, max: 4 })).map(([v, spaces]) => ' '.repeat(spaces) + v);

// Owner and group names that look like months are a real ambiguity ("jan 12 2048" could be
// owner, numeric group and size); leftmost date wins, so they are left out here.
const ownerOrGroup = fc.oneof(
  fc.stringMatching(/^[a-z_][a-z0-9_-]{0,9}$/).filter((s) => !MONTHS.some((m) => m.toLowerCase() === s)),
  fc.nat(65535).map(String),
);

interface DateCase { text: string; mtime: number; precision: 'minute' | 'day' }

/** A date `ls` would print for `now`: recent ones without a year, old ones without a time. */
function dateColumn(now: number): fc.Arbitrary<DateCase> {
  const recent = fc
    .tuple(fc.integer({ min: -(DAY_MS - 60_000), max: 360 * DAY_MS }), fc.boolean())
    .map(([ago, zeroPadDay]) => {
      const d = new Date(Math.floor((now - ago) / 60_000) * 60_000);
      const day = zeroPadDay ? pad2(d.getUTCDate()) : String(d.getUTCDate()).padStart(2, ' ');
      return { text: `${MONTHS[d.getUTCMonth()]} ${day} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`, mtime: d.getTime(), precision: 'minute' as const };
    });
  const old = fc
    .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
    .map((date) => {
      const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
      return { text: `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')}  ${d.getUTCFullYear()}`, mtime: d.getTime(), precision: 'day' as const };
    });
  const iso = fc
    .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
    .map((date) => {
      const d = new Date(Math.floor(date.getTime() / 60_000) * 60_000);
      const text = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
      return { text, mtime: d.getTime(), precision: 'minute' as const };
    });
  return fc.oneof(recent, old, iso);
}

const TYPE_CHARS = { file: '-', directory: 'd', symlink: 'l' } as const;

interface UnixCase { line: string; now: Date; expected: FileEntry }

/** A Unix LIST line as a server would print it at `now`, and the entry it stands for. */
function unixLineAt(now: Date, name: fc.Arbitrary<string>): fc.Arbitrary<UnixCase> {
  return fc
    .record({
      type: fc.constantFrom('file', 'directory', 'symlink') as fc.Arbitrary<keyof typeof TYPE_CHARS>,
      bits: fc.integer({ min: 0, max: 0o7777 }),
      links: column(fc.integer({ min: 1, max: 99999 }).map(String)),
      owner: column(ownerOrGroup),
      group: fc.option(column(ownerOrGroup), { nil: undefined }),
      size: fc.tuple(fc.maxSafeNat(), fc.integer({ min: 1, max: 8 })),
      date: fc.tuple(dateColumn(now.getTime()), fc.integer({ min: 1, max: 3 })),
      name,
      target: fc.option(safeName, { nil: undefined }),
    })
    .map((c) => {
      const linkPart = c.type === 'symlink' && c.target !== undefined ? ` -> ${c.target}` : '';
      const [size, sizePad] = c.size;
      const [date, datePad] = c.date;
      const line = modeString(TYPE_CHARS[c.type], c.bits) + c.links + c.owner + (c.group ?? '') +
        ' '.repeat(sizePad) + size + ' '.repeat(datePad) + date.text + ' ' + c.name + linkPart;
      const expected: FileEntry = { name: c.name, type: c.type, size, mtime: date.mtime, mtimePrecision: date.precision, permissions: c.bits };
      if (linkPart) expected.target = c.target;
      return { line, now, expected, arrowOk: c.type !== 'symlink' || (c.name + linkPart).indexOf(' -> ') === (linkPart ? c.name.length : -1) };
    })
    // A symlink's name is split at its first " -> ", so a name holding one cannot round-trip.
    .filter((c) => c.arrowOk)
    .map(({ line, expected }) => ({ line, now, expected }));
}

const someNow = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true });
const unixLine = (name: fc.Arbitrary<string>): fc.Arbitrary<UnixCase> => someNow.chain((now) => unixLineAt(now, name));

// ---------------------------------------------------------------------------------------------
// DOS LIST lines, IIS layout

interface DosCase { line: string; expected: FileEntry }

function dosLine(name: fc.Arbitrary<string>): fc.Arbitrary<DosCase> {
  return fc
    .record({
      date: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2069-12-31T23:59:00Z'), noInvalidDate: true }),
      fourDigitYear: fc.boolean(),
      twelveHour: fc.boolean(),
      size: fc.option(fc.maxSafeNat(), { nil: undefined }),
      name,
    })
    .map((c) => {
      const d = new Date(Math.floor(c.date.getTime() / 60_000) * 60_000);
      const year = c.fourDigitYear ? String(d.getUTCFullYear()) : pad2(d.getUTCFullYear() % 100);
      const h = d.getUTCHours();
      const time = c.twelveHour
        ? `${pad2(h % 12 === 0 ? 12 : h % 12)}:${pad2(d.getUTCMinutes())}${h < 12 ? 'AM' : 'PM'}`
        : `${pad2(h)}:${pad2(d.getUTCMinutes())}`;
      const column = c.size === undefined ? '       <DIR>          ' : String(c.size).padStart(20, ' ') + ' ';
      const line = `${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}-${year}  ${time}${column}${c.name}`;
      const expected: FileEntry = c.size === undefined
        ? { name: c.name, type: 'directory', size: -1, mtime: d.getTime(), mtimePrecision: 'minute' }
        : { name: c.name, type: 'file', size: c.size, mtime: d.getTime(), mtimePrecision: 'minute' };
      return { line, expected };
    });
}

// ---------------------------------------------------------------------------------------------
// MLSD lines

const anyCase = (key: string): fc.Arbitrary<string> => fc.constantFrom(key, key.toLowerCase(), key.toUpperCase());

function time14(d: Date): string {
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}` +
    `${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}`;
}

interface MlsdCase { line: string; expected: FileEntry }

function mlsdLine(name: fc.Arbitrary<string>): fc.Arbitrary<MlsdCase> {
  const target = fc.string({ unit: nameUnit, maxLength: 12 }).filter((s) => !/[;\r\n]/.test(s));
  return fc
    .record({
      kind: fc.constantFrom('file', 'dir', 'symlink', 'slink'),
      typeKey: anyCase('type'),
      target,
      size: fc.option(fc.tuple(anyCase('size'), anyCase('sizd'), fc.maxSafeNat()), { nil: undefined }),
      modify: fc.option(
        fc.tuple(
          anyCase('modify'),
          fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
          fc.constantFrom('', '.ms', '.us'),
        ),
        { nil: undefined },
      ),
      mode: fc.option(fc.tuple(anyCase('UNIX.mode'), fc.integer({ min: 0, max: 0o7777 })), { nil: undefined }),
      extras: fc.subarray(['perm=adfrw', 'unique=fe00g20c259', 'UNIX.uid=0', 'UNIX.gid=0', 'UNIX.ownername=ftp', 'lang=en']),
      order: fc.nat(),
      name,
    })
    .map((c) => {
      const facts: string[] = [...c.extras];
      let type: FileEntry['type'];
      let typeValue: string;
      let linkTarget: string | undefined;
      switch (c.kind) {
        case 'file': type = 'file'; typeValue = 'file'; break;
        case 'dir': type = 'directory'; typeValue = 'dir'; break;
        case 'symlink': type = 'symlink'; typeValue = 'OS.unix=symlink'; break;
        default:
          type = 'symlink';
          typeValue = `OS.unix=slink:${c.target}`;
          linkTarget = c.target === '' ? undefined : c.target;
      }
      facts.push(`${c.typeKey}=${typeValue}`);
      const expected: FileEntry = { name: c.name, type, size: -1 };
      if (c.size) {
        // Folders carry their size as sizd (RFC 3659 §7.5.7).
        const [sizeKey, sizdKey, size] = c.size;
        facts.push(`${c.kind === 'dir' ? sizdKey : sizeKey}=${size}`);
        expected.size = size;
      }
      if (c.modify) {
        const [key, date, precision] = c.modify;
        const ms = String(date.getUTCMilliseconds()).padStart(3, '0');
        const frac = precision === '' ? '' : '.' + ms + (precision === '.us' ? '000' : '');
        facts.push(`${key}=${time14(date)}${frac}`);
        expected.mtime = precision === '' ? date.getTime() - date.getUTCMilliseconds() : date.getTime();
      }
      if (c.mode) {
        facts.push(`${c.mode[0]}=0${c.mode[1].toString(8)}`);
        expected.permissions = c.mode[1];
      }
      if (linkTarget !== undefined) expected.target = linkTarget;
      // Rotate the facts: servers order them differently.
      const k = c.order % facts.length;
      const ordered = [...facts.slice(k), ...facts.slice(0, k)];
      return { line: ordered.map((f) => f + ';').join('') + ' ' + c.name, expected };
    });
}

// ---------------------------------------------------------------------------------------------
// Hostile input: any text, and valid lines cut and spliced with anything.

const garbageLine = fc.string({ unit: 'binary', maxLength: 200 });
const validLine = fc.oneof(
  unixLine(anyName).map((c) => c.line),
  dosLine(anyName).map((c) => c.line),
  mlsdLine(anyName).map((c) => c.line),
);
const mutatedLine = fc
  .tuple(validLine, fc.nat(), fc.nat(), garbageLine)
  .map(([line, a, b, insert]) => {
    const i = a % (line.length + 1);
    const j = i + (b % (line.length - i + 1));
    return line.slice(0, i) + insert + line.slice(j);
  });
const anyLines = fc
  .tuple(fc.array(fc.oneof(garbageLine, validLine, mutatedLine), { maxLength: 20 }), fc.constantFrom('\n', '\r\n', '\r'))
  .map(([lines, sep]) => lines.join(sep));

describe('listing parsers (properties)', () => {
  describe('never throw and never return an unsafe name', () => {
    it('for arbitrary strings', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 500 }), fc.date({ noInvalidDate: true }), (text, now) => {
          assertAllSafe(parseList(text, now));
          assertAllSafe(parseMlsd(text));
          assertAllSafe([parseMlsdLine(text), parseMlstReply(text)]);
          parseMdtm(text);
          parseSize(text);
        }),
        { numRuns: 1000 },
      );
    });

    it('for arrays of valid, broken and arbitrary lines', () => {
      fc.assert(
        fc.property(anyLines, (text) => {
          assertAllSafe(parseList(text, new Date('2026-11-24T10:21:00Z')));
          assertAllSafe(parseMlsd(text));
          assertAllSafe([parseMlstReply(text), parseMlstReply(`250-Listing\r\n ${text}\r\n250 End`)]);
        }),
        RUNS,
      );
    });

    it('for well-formed lines with arbitrary names, dropping exactly the unsafe ones', () => {
      fc.assert(
        fc.property(unixLine(nameWithoutBreaks), mlsdLine(nameWithoutBreaks), (unix, mlsd) => {
          const list = parseList(unix.line, unix.now);
          assert.equal(list.length, nameIsSafe(unix.expected.name) ? 1 : 0);
          const entries = parseMlsd(mlsd.line);
          assert.equal(entries.length, nameIsSafe(mlsd.expected.name) ? 1 : 0);
        }),
        RUNS,
      );
    });
  });

  describe('round-trip well-formed lines', () => {
    it('Unix LIST lines', () => {
      fc.assert(
        fc.property(unixLine(safeName), (c) => {
          assert.deepEqual(parseList(c.line, c.now), [c.expected], c.line);
        }),
        RUNS,
      );
    });

    it('Unix LIST lines, many at once with CRLF', () => {
      fc.assert(
        fc.property(
          someNow.chain((now) => fc.tuple(fc.constant(now), fc.array(unixLineAt(now, safeName), { minLength: 1, maxLength: 10 }))),
          ([now, cases]) => {
            assert.deepEqual(parseList(cases.map((c) => c.line).join('\r\n') + '\r\n', now), cases.map((c) => c.expected));
          },
        ),
        { numRuns: 100 },
      );
    });

    it('DOS LIST lines', () => {
      fc.assert(
        fc.property(dosLine(safeName), (c) => {
          assert.deepEqual(parseList(c.line, new Date('2026-11-24T10:21:00Z')), [c.expected], c.line);
        }),
        RUNS,
      );
    });

    it('MLSD lines', () => {
      fc.assert(
        fc.property(mlsdLine(safeName), (c) => {
          assert.deepEqual(parseMlsdLine(c.line), c.expected, c.line);
          assert.deepEqual(parseMlsd(c.line + '\r\n'), [c.expected]);
        }),
        RUNS,
      );
    });

    it('MLST replies naming a full path', () => {
      fc.assert(
        fc.property(mlsdLine(safeName), fc.array(safeName, { maxLength: 3 }), (c, dirs) => {
          const facts = c.line.slice(0, c.line.length - c.expected.name.length - 1);
          const entry = facts + ' /' + [...dirs, c.expected.name].join('/');
          assert.deepEqual(parseMlstReply(`250-Listing\r\n ${entry}\r\n250 End`), c.expected, entry);
        }),
        RUNS,
      );
    });

    it('MDTM and SIZE replies', () => {
      fc.assert(
        fc.property(
          fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
          fc.maxSafeNat(),
          (date, size) => {
            assert.equal(parseMdtm(`213 ${time14(date)}\r\n`), date.getTime() - date.getUTCMilliseconds());
            assert.equal(parseSize(`213 ${size}\r\n`), size);
          },
        ),
        RUNS,
      );
    });
  });
});
