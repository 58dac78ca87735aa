/**
 * Ignore patterns for linked folders, a small gitignore dialect:
 * - `name` matches that name at any depth; `dir/name` or `/name` is anchored to the link's root;
 * - a trailing `/` matches folders only (and so everything inside them);
 * - `*` and `?` stay within one segment, `**` crosses folders;
 * - `!pattern` takes a path back that an earlier pattern ignored — but, as in git, nothing inside
 *   an ignored folder can be taken back, because the folder is never walked.
 * Paths are relative to the link's root, POSIX style, without a leading slash.
 */

/**
 * Always ignored: a repository's internals and installed packages are never worth a transfer, and
 * a safe save's temporary upload (see tempNameFor) is never a file of the user's.
 */
export const DEFAULT_IGNORES: readonly string[] = ['.git/', 'node_modules/', '.*.ftpw-*.tmp'];

interface Rule {
  negated: boolean;
  directoryOnly: boolean;
  regex: RegExp;
}

export class IgnoreMatcher {
  private readonly rules: Rule[];

  constructor(patterns: readonly string[] = [], withDefaults = true) {
    const all = withDefaults ? [...DEFAULT_IGNORES, ...patterns] : [...patterns];
    this.rules = all.map(parseRule).filter((r): r is Rule => r !== undefined);
  }

  /** True when `relPath` (or a folder it lies in) is ignored. */
  ignores(relPath: string, isDirectory = false): boolean {
    const segments = relPath.split('/').filter((s) => s !== '' && s !== '.');
    for (let i = 1; i < segments.length; i++) {
      if (this.matchesItself(segments.slice(0, i).join('/'), true)) return true;
    }
    return segments.length > 0 && this.matchesItself(segments.join('/'), isDirectory);
  }

  /** The last matching rule decides, as in gitignore. */
  private matchesItself(path: string, isDirectory: boolean): boolean {
    let ignored = false;
    for (const rule of this.rules) {
      if (rule.directoryOnly && !isDirectory) continue;
      if (rule.regex.test(path)) ignored = !rule.negated;
    }
    return ignored;
  }
}

function parseRule(raw: string): Rule | undefined {
  let pattern = raw.trim();
  if (pattern === '' || pattern.startsWith('#')) return undefined;
  const negated = pattern.startsWith('!');
  if (negated) pattern = pattern.slice(1);
  const directoryOnly = pattern.endsWith('/');
  pattern = pattern.replace(/\/+$/, '');
  // A slash anywhere but at the end anchors the pattern to the root.
  const anchored = pattern.includes('/');
  pattern = pattern.replace(/^\/+/, '');
  if (pattern === '') return undefined;
  const body = globToRegex(pattern);
  const regex = new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`);
  return { negated, directoryOnly, regex };
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        // `**/` matches zero or more whole folders; a bare `**` anything at all.
        out += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else {
        out += '[^/]*';
      }
    } else if (ch === '?') {
      out += '[^/]';
    } else {
      out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return out;
}
