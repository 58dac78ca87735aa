/**
 * The server's time zone, for LIST times. LIST shows the server's local wall-clock time with no
 * zone (`ls -l`; DOS listings likewise), while MDTM, MLST and MLSD give UTC (RFC 3659). listing.ts
 * reads a LIST time as if it were UTC and marks it (`FileEntry.mtimePrecision`); the session then
 * subtracts the server's offset, which is configured (`timeZoneOffsetMinutes`) or detected the way
 * FileZilla does it: one file's MDTM against its LIST line, once per server.
 */
import type { FileEntry } from './types';

const MINUTE_MS = 60_000;
/** Zones in use run from UTC−12:00 to UTC+14:00; a larger difference is a wrong clock, not a zone. */
const MIN_OFFSET = -12 * 60;
const MAX_OFFSET = 14 * 60;
/** Every zone in use is a whole quarter-hour off UTC (Nepal +05:45, Chatham +12:45). */
const STEP = 15;

/**
 * A setting's offset → minutes east of UTC: a number is minutes; text is hours with a sign, as zones
 * are written: "+02:00", "-0530", "+2", "UTC+01:00", "Z" / "UTC" (0). Undefined for an empty value
 * (detect); throws RangeError for anything else, so that a typo is reported rather than ignored.
 */
export function parseTimeZoneOffset(value: string | number | undefined | null): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let minutes: number;
  if (typeof value === 'number') {
    minutes = value;
  } else {
    const text = value.trim().toUpperCase().replace(/^(UTC|GMT)(?=[+-]|$)/, '');
    if (text === '' || text === 'Z') return 0;
    const m = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(text);
    if (!m) throw new RangeError(`Not a time zone offset: "${value}" (use e.g. "+02:00" or "-05:30")`);
    minutes = (Number(m[2]) * 60 + Number(m[3] ?? 0)) * (m[1] === '-' ? -1 : 1);
  }
  if (!Number.isInteger(minutes) || minutes < MIN_OFFSET || minutes > MAX_OFFSET) {
    throw new RangeError(`Time zone offset out of range: "${value}" (from -12:00 to +14:00)`);
  }
  return minutes;
}

/** Minutes → "+02:00" / "-05:30" / "+00:00". */
export function formatTimeZoneOffset(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/**
 * The server's offset from one file's LIST time (read as UTC, to the minute) and its MDTM (UTC, to
 * the second). The LIST time drops the seconds, so the difference is the offset minus up to a
 * minute: rounded to the nearest quarter-hour. Undefined when it is no plausible zone.
 */
export function detectOffset(listedAsUtc: number, mdtm: number): number | undefined {
  const minutes = Math.round((listedAsUtc - mdtm) / MINUTE_MS / STEP) * STEP;
  if (minutes < MIN_OFFSET || minutes > MAX_OFFSET) return undefined;
  return minutes === 0 ? 0 : minutes; // no -0
}

/**
 * The entry whose MDTM tells the zone best: a file whose LIST line had a time of day (a date alone
 * cannot show the zone), the newest of them (least likely to be a clock-skewed copy).
 */
export function detectionCandidate(entries: readonly FileEntry[]): FileEntry | undefined {
  let best: FileEntry | undefined;
  for (const e of entries) {
    if (e.type !== 'file' || e.mtime === undefined || (e.mtimePrecision !== 'minute' && e.mtimePrecision !== 'second')) continue;
    // Bytes the session's charset could not read: the name cannot be sent back in an MDTM.
    if (e.name.includes('\uFFFD')) continue;
    if (!best || e.mtime > best.mtime!) best = e;
  }
  return best;
}

/** LIST times (those marked with a precision) moved from the server's wall clock to UTC; others untouched. */
export function toUtc(entries: FileEntry[], offsetMinutes: number): FileEntry[] {
  if (offsetMinutes === 0) return entries;
  for (const e of entries) {
    if (e.mtime !== undefined && e.mtimePrecision !== undefined) e.mtime -= offsetMinutes * MINUTE_MS;
  }
  return entries;
}

/**
 * What is known of each server's zone (by host:port), shared by its sessions: the offset, or
 * null when it cannot be detected there (no MDTM, or no answer that makes sense).
 */
const detected = new Map<string, number | null>();

export const zoneMemory = {
  get: (serverKey: string): number | null | undefined => detected.get(serverKey),
  set: (serverKey: string, offset: number | null): void => { detected.set(serverKey, offset); },
  /** Tests: forget every server (and what was found of its MDTM). */
  clear: (): void => {
    detected.clear();
    mdtmClocks.clear();
  },
};

/**
 * MDTM's own offset from an exact UTC time of the same file (its MLSD `modify`): minutes MDTM is
 * ahead, a whole quarter-hour within a couple of seconds (both give seconds), else undefined (no
 * zone: another clock, or the file changed in between).
 */
export function mdtmOffsetAgainst(exactUtc: number, mdtm: number): number | undefined {
  const minutes = Math.round((mdtm - exactUtc) / MINUTE_MS / STEP) * STEP;
  if (minutes < MIN_OFFSET || minutes > MAX_OFFSET || Math.abs(mdtm - exactUtc - minutes * MINUTE_MS) > 2_000) return undefined;
  return minutes === 0 ? 0 : minutes;
}

/** Per server: minutes its MDTM answers are ahead of UTC as found against MLSD (null: cannot tell there). */
const mdtmClocks = new Map<string, number | null>();

export const mdtmMemory = {
  get: (serverKey: string): number | null | undefined => mdtmClocks.get(serverKey),
  set: (serverKey: string, offset: number | null): void => { mdtmClocks.set(serverKey, offset); },
  clear: (): void => mdtmClocks.clear(),
};
