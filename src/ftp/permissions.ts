/**
 * Unix permission modes as people write them: octal (`644`, `0755`, `2775`) or the nine letters
 * `ls -l` shows (`rwxr-xr-x`, with s/S/t/T for setuid, setgid and sticky). SITE CHMOD takes octal;
 * the editor shows both. Pure functions, shared by the extension, the CLI and the profile settings.
 */
import { parseUnixPermissions } from './listing';

/** The nine read/write/execute bits, in `ls -l` order, with the words the editor shows for them. */
export const PERMISSION_BITS: readonly { bit: number; who: 'owner' | 'group' | 'others'; what: 'read' | 'write' | 'execute' }[] = [
  { bit: 0o400, who: 'owner', what: 'read' },
  { bit: 0o200, who: 'owner', what: 'write' },
  { bit: 0o100, who: 'owner', what: 'execute' },
  { bit: 0o040, who: 'group', what: 'read' },
  { bit: 0o020, who: 'group', what: 'write' },
  { bit: 0o010, who: 'group', what: 'execute' },
  { bit: 0o004, who: 'others', what: 'read' },
  { bit: 0o002, who: 'others', what: 'write' },
  { bit: 0o001, who: 'others', what: 'execute' },
];

const OCTAL = /^0?[0-7]{3,4}$/;
const LETTER = { read: 'r', write: 'w', execute: 'x' } as const;

/**
 * `text` as a mode (0–0o7777), or undefined when it is neither 3–4 octal digits (an optional
 * leading 0 allowed: `0644`) nor nine `ls -l` letters. Spaces around it are ignored.
 */
export function parseMode(text: string): number | undefined {
  const t = text.trim();
  if (OCTAL.test(t)) {
    const mode = parseInt(t, 8);
    return mode <= 0o7777 ? mode : undefined;
  }
  // Nine letters only: a listing's ten (with the type) would let "drwxr-xr-x" pass for a mode.
  return t.length === 9 ? parseUnixPermissions(t) : undefined;
}

/** Why `text` is not a mode, for an input box; undefined when it is one. */
export function modeProblem(text: string): string | undefined {
  return parseMode(text) === undefined ? 'Enter octal digits such as 644 or 755, or nine letters such as rw-r--r--' : undefined;
}

/** Octal as SITE CHMOD and `chmod` take it: 644, 755, 2775 (the special bits only when set). */
export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(3, '0');
}

/** The nine letters of `ls -l`, special bits as s/S/t/T: `rwxr-sr-x`. */
export function symbolicMode(mode: number): string {
  const letters: string[] = PERMISSION_BITS.map(({ bit, what }) => (mode & bit ? LETTER[what] : '-'));
  const special = (index: number, bit: number, set: string) => {
    if (mode & bit) letters[index] = letters[index] === 'x' ? set : set.toUpperCase();
  };
  special(2, 0o4000, 's');
  special(5, 0o2000, 's');
  special(8, 0o1000, 't');
  return letters.join('');
}

/** Both at once, as the editor shows a mode: `rw-r--r-- (644)`. */
export function formatMode(mode: number): string {
  return `${symbolicMode(mode)} (${octalMode(mode)})`;
}
