/**
 * Ignore patterns for linked folders: .gitignore's rules, all of them, as the `ignore` package
 * (the one eslint uses) implements them — a name at any depth, a slash anchoring to the link's
 * root, `dir/` for folders only, `*`, `?`, `[a-z]`, `**`, `!` taking a path back (but nothing
 * inside an ignored folder, which is never walked), `\#` and `\!` for names starting so, `#` comments.
 * One difference from git: matching is case-sensitive on every system, as most FTP servers are.
 * Paths are relative to the link's root, POSIX style; the patterns never reach outside the link.
 */
import ignore, { type Ignore } from 'ignore';
import * as path from 'node:path';

/**
 * Always ignored: a repository's internals and installed packages are never worth a transfer, and
 * a safe save's temporary upload (see tempNameFor) is never a file of the user's.
 */
export const DEFAULT_IGNORES: readonly string[] = ['.git/', 'node_modules/', '.*.ftpw-*.tmp'];

export class IgnoreMatcher {
  private readonly rules: Ignore;

  constructor(patterns: readonly string[] = [], withDefaults = true) {
    const all = withDefaults ? [...DEFAULT_IGNORES, ...patterns] : [...patterns];
    // One setting entry is one pattern: a line break inside it must not make a second one.
    this.rules = ignore({ ignorecase: false }).add(all.map((pattern) => ({ pattern })));
  }

  /** True when `relPath` (or a folder it lies in) is ignored; `isDirectory` lets `dir/` patterns match it. */
  ignores(relPath: string, isDirectory = false): boolean {
    // The package wants `path.relative()` output: no leading slash or `./`, never empty.
    const rel = path.posix.normalize(relPath.replace(/^\/+/, ''));
    if (rel === '.' || rel === '..' || rel.startsWith('../')) return false;
    const name = rel.replace(/\/+$/, '');
    // A folder is asked about with a trailing slash, or `dir/` patterns would not see it as one.
    return this.rules.ignores(isDirectory ? `${name}/` : name);
  }
}
