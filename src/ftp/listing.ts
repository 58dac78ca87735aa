/**
 * Directory listings → entries: MLSD/MLST facts (RFC 3659) and LIST output in Unix `ls -l` and
 * DOS/IIS styles. Pure functions from text to data.
 *
 * A listing comes from the server, which we do not trust: nothing here throws, every line is
 * parsed in linear time (tokens found by scanning, no backtracking regexes over a whole line),
 * and an entry whose name could address anything but a direct child of the folder is dropped.
 */
import type { EntryType, FileEntry } from './types';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * True when `name` can only mean a direct child of the listed folder: non-empty, not `.` or `..`,
 * and free of `/` (path separator), NUL, CR and LF (which would reach the control connection).
 */
export function isSafeEntryName(name: string): boolean {
  if (name.length === 0 || name === '.' || name === '..') return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f || c === 0 || c === 0x0d || c === 0x0a) return false;
  }
  return true;
}

function safe(entry: FileEntry | undefined): FileEntry | undefined {
  return entry !== undefined && isSafeEntryName(entry.name) ? entry : undefined;
}

/** Splits on LF and drops the CR of a CRLF; a CR anywhere else stays, so its line is refused. */
function lines(text: string): string[] {
  const out = text.split('\n');
  for (let i = 0; i < out.length; i++) {
    const l = out[i];
    if (l.endsWith('\r')) out[i] = l.slice(0, -1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Dates

/**
 * Milliseconds for a UTC calendar date and time, or undefined when it does not exist (Feb 30,
 * 25:00). Plain arithmetic on the proleptic Gregorian calendar (years 0–99 stay themselves, which
 * Date.UTC would map to 1900–1999): a listing calls this once or twice per line, and a Date object
 * each time was most of a cold 1,000-line parse.
 */
function utc(year: number, month0: number, day: number, h = 0, min = 0, s = 0, ms = 0): number | undefined {
  if (month0 < 0 || month0 > 11 || day < 1 || day > daysInMonth(year, month0)) return undefined;
  if (h > 23 || min > 59 || s > 60) return undefined; // 60: a leap second is legal in RFC 3659 times
  return daysFromCivil(year, month0 + 1, day) * DAY_MS + ((h * 60 + min) * 60 + s) * 1000 + ms;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month0: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month0 === 1 && leap ? 29 : MONTH_DAYS[month0];
}

/** Days from 1970-01-01 to a Gregorian date (month 1–12): Howard Hinnant's days_from_civil. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const TIME14 = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?$/;

/** `YYYYMMDDHHMMSS[.sss]`, always UTC (RFC 3659 §2.3). */
function parseTime14(s: string): number | undefined {
  const m = TIME14.exec(s);
  if (!m) return undefined;
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  return utc(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}

const MONTHS: ReadonlyMap<string, number> = new Map(
  ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((m, i) => [m, i]),
);

/**
 * `ls` shows `Mon DD HH:MM` without a year for recent files. The year is the one that puts the
 * date at or before now, with a day of slack for servers whose clock or time zone runs ahead;
 * years are searched backwards so a Feb 29 lands in the latest leap year.
 */
function inferYear(month0: number, day: number, h: number, min: number, now: number): number | undefined {
  const limit = now + DAY_MS;
  const first = new Date(now).getUTCFullYear() + 1;
  for (let y = first; y >= first - 9; y--) {
    const t = utc(y, month0, day, h, min);
    if (t !== undefined && t <= limit) return t;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Unix permission strings

/**
 * `rwxr-xr-x` or a full mode string like `drwsr-sr-t` (an ACL/xattr marker `+`, `@` or `.` may
 * follow) → permission bits including setuid/setgid/sticky. Undefined when it is not one.
 */
export function parseUnixPermissions(s: string): number | undefined {
  let p = s;
  const last = p.charAt(p.length - 1);
  if (p.length === 10 || p.length === 11) {
    if (p.length === 11) {
      if (last !== '+' && last !== '@' && last !== '.') return undefined;
      p = p.slice(0, 10);
    }
    p = p.slice(1);
  } else if (p.length !== 9) {
    return undefined;
  }
  let bits = 0;
  for (let who = 0; who < 3; who++) {
    const shift = 6 - who * 3;
    const r = p.charAt(who * 3), w = p.charAt(who * 3 + 1), x = p.charAt(who * 3 + 2);
    if (r === 'r') bits |= 4 << shift; else if (r !== '-') return undefined;
    if (w === 'w') bits |= 2 << shift; else if (w !== '-') return undefined;
    // s/t: special bit with execute; S/T: special bit without execute.
    const special = who === 0 ? 0o4000 : who === 1 ? 0o2000 : 0o1000;
    const lower = who === 2 ? 't' : 's';
    const upper = who === 2 ? 'T' : 'S';
    if (x === 'x') bits |= 1 << shift;
    else if (x === lower) bits |= (1 << shift) | special;
    else if (x === upper) bits |= special;
    else if (x !== '-') return undefined;
  }
  return bits;
}

function unixType(c: string): EntryType | undefined {
  switch (c) {
    case '-': return 'file';
    case 'd': return 'directory';
    case 'l': return 'symlink';
    // block/char device, fifo, socket, Solaris door: listed, but not something we can open
    case 'b': case 'c': case 'p': case 's': case 'D': return 'unknown';
    default: return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens

interface Token { text: string; start: number; end: number }

/** Space/tab separated tokens with their positions, at most `max` of them. */
function tokenize(line: string, max = Infinity): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n && tokens.length < max) {
    while (i < n && (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09)) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && line.charCodeAt(i) !== 0x20 && line.charCodeAt(i) !== 0x09) i++;
    tokens.push({ text: line.slice(start, i), start, end: i });
  }
  return tokens;
}

const DIGITS = /^\d{1,20}$/;
const DAY = /^\d{1,2}$/;
const HHMM = /^(\d{1,2}):(\d{2})$/;
const HHMMSS = /^(\d{1,2}):(\d{2}):(\d{2})$/;
const YEAR = /^\d{4}$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const ZONE = /^([+-])(\d{2})(\d{2})$/;

interface DateField { mtime: number; endToken: number; precision?: 'second' | 'minute' | 'day' }

/**
 * The date columns starting at token `m`, in one of the forms `ls` and FTP servers print:
 * `Mon DD HH:MM`, `Mon DD YYYY`, `Mon DD HH:MM:SS YYYY` (BSD `ls -T`), and `YYYY-MM-DD HH:MM`
 * with optional seconds and zone (GNU `--time-style=long-iso`/`full-iso`). A time without a zone
 * is the server's local time: it is read as UTC and marked with its precision, and the session
 * moves it by the server's offset (timeZone.ts).
 */
function dateAt(tokens: Token[], m: number, now: number): DateField | undefined {
  const t0 = tokens[m].text;
  const month0 = t0.length === 3 ? MONTHS.get(t0.toLowerCase()) : undefined;
  if (month0 !== undefined) {
    if (m + 2 >= tokens.length || !DAY.test(tokens[m + 1].text)) return undefined;
    const day = Number(tokens[m + 1].text);
    const t2 = tokens[m + 2].text;
    let hm = HHMM.exec(t2);
    if (hm) {
      const h = Number(hm[1]), min = Number(hm[2]);
      if (h > 23 || min > 59) return undefined;
      const mtime = inferYear(month0, day, h, min, now);
      return mtime === undefined ? undefined : { mtime, endToken: m + 2, precision: 'minute' };
    }
    if (YEAR.test(t2)) {
      const mtime = utc(Number(t2), month0, day);
      return mtime === undefined ? undefined : { mtime, endToken: m + 2, precision: 'day' };
    }
    hm = HHMMSS.exec(t2);
    if (hm && m + 3 < tokens.length && YEAR.test(tokens[m + 3].text)) {
      const mtime = utc(Number(tokens[m + 3].text), month0, day, Number(hm[1]), Number(hm[2]), Number(hm[3]));
      return mtime === undefined ? undefined : { mtime, endToken: m + 3, precision: 'second' };
    }
    return undefined;
  }
  const d = ISO_DATE.exec(t0);
  if (!d || m + 1 >= tokens.length) return undefined;
  const t = ISO_TIME.exec(tokens[m + 1].text);
  if (!t) return undefined;
  const ms = t[4] === undefined ? 0 : Number(t[4].padEnd(3, '0').slice(0, 3));
  let mtime = utc(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1]), Number(t[2]), Number(t[3] ?? 0), ms);
  if (mtime === undefined) return undefined;
  // Only the seconds form (full-iso) is followed by a zone; otherwise `+0100` could be a name.
  const z = t[3] !== undefined && m + 2 < tokens.length ? ZONE.exec(tokens[m + 2].text) : null;
  if (z) {
    const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
    mtime += z[1] === '+' ? -offset : offset;
    return { mtime, endToken: m + 2 };
  }
  return { mtime, endToken: m + 1, precision: t[3] === undefined ? 'minute' : 'second' };
}

// ---------------------------------------------------------------------------------------------
// LIST: Unix style

/**
 * One `ls -l` style line. The date is the anchor: the first month (or ISO date) preceded by a
 * number (the size) and followed by a valid day and time/year. Anchoring on it, rather than
 * counting columns, copes with a missing group column, numeric ids and owner names with spaces.
 * The name starts right after the single space that follows the date, so leading spaces survive.
 */
function parseUnixLine(line: string, now: number): FileEntry | undefined {
  const tokens = tokenize(line);
  if (tokens.length < 5) return undefined;
  let q = 0;
  // `ls -i` / `ls -s` put an inode number or block count before the mode.
  while (q < 2 && DIGITS.test(tokens[q].text) && q + 1 < tokens.length) q++;
  const mode = tokens[q].text;
  let type: EntryType | undefined;
  let permissions: number | undefined;
  if ((mode === 'd' || mode === '-') && q + 1 < tokens.length && /^\[[A-Z-]{1,16}\]$/.test(tokens[q + 1].text)) {
    // NetWare: `d [RWCEAFMS] owner size date name`; its rights are not Unix bits.
    type = mode === 'd' ? 'directory' : 'file';
    q++;
  } else {
    type = unixType(mode.charAt(0));
    permissions = parseUnixPermissions(mode);
    if (type === undefined || permissions === undefined || mode.length < 10) return undefined;
  }
  // At least one column (owner or link count) sits between the mode and the size.
  for (let m = q + 2; m < tokens.length - 1; m++) {
    if (!DIGITS.test(tokens[m - 1].text)) continue;
    const date = dateAt(tokens, m, now);
    if (!date) continue;
    const nameStart = tokens[date.endToken].end + 1;
    if (nameStart >= line.length) return undefined;
    let name = line.slice(nameStart);
    let target: string | undefined;
    if (type === 'symlink') {
      const arrow = name.indexOf(' -> ');
      if (arrow > 0) {
        target = name.slice(arrow + 4) || undefined;
        name = name.slice(0, arrow);
      }
    }
    const entry: FileEntry = { name, type, size: Number(tokens[m - 1].text), mtime: date.mtime };
    if (date.precision) entry.mtimePrecision = date.precision;
    if (permissions !== undefined) entry.permissions = permissions;
    if (target !== undefined) entry.target = target;
    return entry;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// LIST: DOS / IIS style

const DOS_DATE = /^(\d{2})[-/](\d{2})[-/](\d{2}|\d{4})$/;
const DOS_ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DOS_TIME = /^(\d{1,2}):(\d{2})([AaPp][Mm])?$/;
const AMPM = /^[AaPp][Mm]$/;
const DOS_SIZE = /^\d{1,3}(?:,\d{3})+$|^\d{1,20}$/;
/** IIS pads `<DIR>` to a fixed column: exactly this many spaces follow it, then the name. */
const IIS_DIR_PAD = 10;

/**
 * `MM-DD-YY  HH:MMAM  <DIR>|size name` as IIS and other Windows servers print it (also 4-digit
 * years, 24-hour times, a separate AM/PM token and thousands separators in sizes).
 */
function parseDosLine(line: string): FileEntry | undefined {
  // A name of spaces only is no token, so the columns before it are all there is.
  const tokens = tokenize(line, 4);
  if (tokens.length < 3) return undefined;
  let year: number, month: number, day: number;
  let d = DOS_DATE.exec(tokens[0].text);
  if (d) {
    month = Number(d[1]);
    day = Number(d[2]);
    year = Number(d[3]);
    // Two-digit years pivot like most clients do: 70–99 → 19xx, 00–69 → 20xx.
    if (d[3].length === 2) year += year < 70 ? 2000 : 1900;
  } else {
    d = DOS_ISO_DATE.exec(tokens[0].text);
    if (!d) return undefined;
    year = Number(d[1]);
    month = Number(d[2]);
    day = Number(d[3]);
  }
  const t = DOS_TIME.exec(tokens[1].text);
  if (!t) return undefined;
  let next = 2;
  let ampm = t[3];
  if (ampm === undefined && tokens.length > 3 && AMPM.test(tokens[2].text)) {
    ampm = tokens[2].text;
    next = 3;
  }
  let hour = Number(t[1]);
  const minute = Number(t[2]);
  if (ampm !== undefined) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (ampm.toLowerCase() === 'pm' ? 12 : 0);
  }
  const mtime = utc(year, month - 1, day, hour, minute);
  if (mtime === undefined || next >= tokens.length) return undefined;
  const col = tokens[next];
  let type: EntryType;
  let size: number;
  let nameStart: number;
  if (col.text.toUpperCase() === '<DIR>') {
    type = 'directory';
    size = -1;
    // With IIS's fixed padding, extra spaces belong to the name; other servers pad freely.
    let spaces = 0;
    while (line.charCodeAt(col.end + spaces) === 0x20) spaces++;
    nameStart = col.end + (spaces >= IIS_DIR_PAD ? IIS_DIR_PAD : spaces);
  } else if (DOS_SIZE.test(col.text)) {
    type = 'file';
    size = Number(col.text.replace(/,/g, ''));
    nameStart = col.end + 1;
  } else {
    return undefined;
  }
  if (nameStart >= line.length) return undefined;
  return { name: line.slice(nameStart), type, size, mtime, mtimePrecision: 'minute' };
}

/**
 * LIST output in Unix or DOS style, detected line by line (a server's format can even differ
 * per line, e.g. behind a proxy). Unparseable lines (`total 12`, banners, blanks) are skipped.
 * `now` decides the year of `Mon DD HH:MM` dates.
 */
export function parseList(text: string, now: Date = new Date()): FileEntry[] {
  const nowMs = now.getTime();
  const out: FileEntry[] = [];
  for (const line of lines(text)) {
    if (line.length === 0) continue;
    const c = line.charCodeAt(0);
    const isDigit = c >= 0x30 && c <= 0x39;
    const entry = safe((isDigit ? parseDosLine(line) : undefined) ?? parseUnixLine(line, nowMs));
    if (entry) out.push(entry);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MLSD / MLST

interface FactsLine { facts: Map<string, string>; name: string }

/**
 * `fact=value;fact=value; name`. The facts end at the first "; " (each fact ends with ';' and a
 * single space precedes the name), so a name may hold spaces, ';' and '=' and begin with spaces.
 * A line that starts with a space has no facts. Servers that drop the last ';' are tolerated.
 */
function splitFacts(line: string): FactsLine | undefined {
  let factsText: string;
  let name: string;
  if (line.startsWith(' ')) {
    factsText = '';
    name = line.slice(1);
  } else {
    const end = line.indexOf('; ');
    if (end >= 0) {
      factsText = line.slice(0, end);
      name = line.slice(end + 2);
    } else {
      const sp = line.indexOf(' ');
      if (sp < 0) return undefined;
      factsText = line.slice(0, sp);
      name = line.slice(sp + 1);
    }
  }
  const facts = new Map<string, string>();
  for (const fact of factsText.split(';')) {
    if (fact === '') continue;
    const eq = fact.indexOf('=');
    if (eq <= 0) return undefined;
    facts.set(fact.slice(0, eq).toLowerCase(), fact.slice(eq + 1));
  }
  return { facts, name };
}

const OCTAL_MODE = /^[0-7]{1,7}$/;

/** `cdir`/`pdir` give undefined when `listing` (MLSD), a directory otherwise (MLST of a folder). */
function entryFromFacts(facts: Map<string, string>, name: string, listing: boolean): FileEntry | undefined {
  const typeFact = facts.get('type');
  let type: EntryType = 'unknown';
  let target: string | undefined;
  if (typeFact !== undefined) {
    const t = typeFact.toLowerCase();
    if (t === 'file') type = 'file';
    else if (t === 'dir') type = 'directory';
    else if (t === 'cdir' || t === 'pdir') {
      if (listing) return undefined;
      type = 'directory';
    } else if (t.startsWith('os.unix=slink') || t.startsWith('os.unix=symlink')) {
      // proftpd: `OS.unix=symlink`; pure-ftpd and others: `OS.unix=slink:/target` (may be empty)
      type = 'symlink';
      const colon = typeFact.indexOf(':');
      if (colon >= 0 && colon + 1 < typeFact.length) target = typeFact.slice(colon + 1);
    }
  }
  const sizeFact = facts.get('size') ?? facts.get('sizd');
  const size = sizeFact !== undefined && DIGITS.test(sizeFact) ? Number(sizeFact) : -1;
  const entry: FileEntry = { name, type, size };
  const modify = facts.get('modify');
  const mtime = modify === undefined ? undefined : parseTime14(modify);
  if (mtime !== undefined) entry.mtime = mtime;
  const mode = facts.get('unix.mode');
  if (mode !== undefined && OCTAL_MODE.test(mode)) entry.permissions = parseInt(mode, 8) & 0o7777;
  if (target !== undefined) entry.target = target;
  return entry;
}

/** One MLSD line; undefined for `cdir`/`pdir`, malformed lines and unsafe names. */
export function parseMlsdLine(line: string): FileEntry | undefined {
  const l = line.endsWith('\r') ? line.slice(0, -1) : line;
  const parsed = splitFacts(l);
  return parsed && safe(entryFromFacts(parsed.facts, parsed.name, true));
}

/** MLSD data, one entry per line (RFC 3659 §7). */
export function parseMlsd(text: string): FileEntry[] {
  const out: FileEntry[] = [];
  for (const line of lines(text)) {
    if (line.length === 0) continue;
    const entry = parseMlsdLine(line);
    if (entry) out.push(entry);
  }
  return out;
}

const REPLY_LINE = /^\d{3}[ -]/;

/**
 * The MLST reply (`250-…`, ` facts; /path/name`, `250 …`): the entry line starts with a space
 * and names the path as the server spells it (proftpd: absolute; pure-ftpd: as asked). The
 * entry's name is that path's last segment; undefined for the root, which has no name.
 */
export function parseMlstReply(replyText: string): FileEntry | undefined {
  const all = lines(replyText);
  const line = all.find((l) => l.startsWith(' ')) ?? all.find((l) => l.length > 0 && !REPLY_LINE.test(l));
  if (line === undefined) return undefined;
  const parsed = splitFacts(line.startsWith(' ') ? line.slice(1) : line);
  if (!parsed) return undefined;
  let end = parsed.name.length;
  while (end > 0 && parsed.name.charCodeAt(end - 1) === 0x2f) end--;
  const path = parsed.name.slice(0, end);
  const name = path.slice(path.lastIndexOf('/') + 1);
  return safe(entryFromFacts(parsed.facts, name, false));
}

// ---------------------------------------------------------------------------------------------
// MDTM / SIZE

/**
 * The value of a single-line `213` reply; the text may come with or without its code. Another
 * code (e.g. `550`) gives undefined.
 */
function value213(text: string): string | undefined {
  const nl = text.indexOf('\n');
  let line = nl >= 0 ? text.slice(0, nl) : text;
  if (line.endsWith('\r')) line = line.slice(0, -1);
  const coded = /^(\d{3})[ -]/.exec(line);
  if (coded) {
    if (coded[1] !== '213') return undefined;
    line = line.slice(4);
  }
  return line.trim();
}

const SIZE_VALUE = /^\d{1,20}$/;

/** `213 YYYYMMDDHHMMSS[.sss]` (RFC 3659 §3, UTC) → ms since the epoch. */
export function parseMdtm(replyText: string): number | undefined {
  const v = value213(replyText);
  return v === undefined ? undefined : parseTime14(v);
}

/** `213 12345` (RFC 3659 §4) → bytes. */
export function parseSize(replyText: string): number | undefined {
  const v = value213(replyText);
  return v !== undefined && SIZE_VALUE.test(v) ? Number(v) : undefined;
}
