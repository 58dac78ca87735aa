/**
 * Include and exclude globs as VS Code's search takes them (`*.ts`, `src/**`, `**\/node_modules`,
 * `*.{js,css}`), matched on paths relative to the searched folder. The matching is the `ignore`
 * package's (gitignore rules, already bundled for linked folders; picomatch would add 57 KB to an
 * extension that must stay under 1 MiB): a pattern without a slash matches a name at any depth, as
 * in the Search view's "files to include" box; a folder matched covers everything in it. Braces,
 * which gitignore lacks, are expanded first.
 */
import ignore from 'ignore';

export type Matcher = (rel: string) => boolean;

/** Splits the Search view's comma-separated list ("*.ts, src/**") into patterns (braces kept whole). */
export function splitGlobList(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '{') depth++;
    if (ch === '}') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** `*.{js,css}` → `*.js`, `*.css` (nested braces too). */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    if (pattern[i] === '{') depth++;
    else if (pattern[i] === '}' && --depth === 0) {
      const head = pattern.slice(0, open);
      const tail = pattern.slice(i + 1);
      return splitGlobList(pattern.slice(open + 1, i)).flatMap((alt) => expandBraces(`${head}${alt}${tail}`));
    }
  }
  return [pattern];
}

/** `./src` → `src`, `\\` → `/`; a leading `/` anchors at the folder, as in gitignore. */
function normalizePattern(pattern: string): string {
  return pattern.trim().replace(/\\/g, '/').replace(/^\.\//, '');
}

/** A matcher for any of `patterns` (undefined when there are none). */
export function globMatcher(patterns: readonly string[], options: { ignoreCase?: boolean } = {}): Matcher | undefined {
  const all = patterns.filter((p) => p.trim() !== '').flatMap((p) => expandBraces(normalizePattern(p)));
  if (all.length === 0) return undefined;
  // One pattern a rule: a line break inside one must not make a second.
  const rules = ignore({ ignorecase: options.ignoreCase ?? false }).add(all.map((pattern) => ({ pattern })));
  return (rel) => rel !== '' && rules.ignores(rel);
}

/** The enabled patterns of a `files.exclude`/`search.exclude`-style object (`{ "**\/.git": true }`). */
export function enabledPatterns(setting: Record<string, unknown> | undefined): string[] {
  // A `{ "when": … }` value depends on sibling files; without them it is left out.
  return Object.entries(setting ?? {}).filter(([, v]) => v === true).map(([k]) => k);
}

/** What a search or an index leaves out and, when includes are given, keeps in. */
export class PathFilter {
  private readonly include?: Matcher;
  private readonly exclude?: Matcher;

  constructor(options: { include?: readonly string[]; exclude?: readonly string[] } = {}) {
    this.include = globMatcher(options.include ?? []);
    this.exclude = globMatcher(options.exclude ?? []);
  }

  /** Whether a folder is worth walking into (includes are checked on files only). */
  entersFolder(rel: string): boolean {
    return !this.exclude?.(`${rel}/`);
  }

  keepsFile(rel: string): boolean {
    if (this.exclude?.(rel)) return false;
    return this.include ? this.include(rel) : true;
  }
}
