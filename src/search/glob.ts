/**
 * Include and exclude globs as VS Code's search takes them (`**` across folders, `*.ts`, `{a,b}`,
 * `files.exclude`-style `**\/node_modules`), matched with picomatch on paths relative to the
 * searched folder. A pattern without a slash matches a name at any depth, as in the Search view's
 * "files to include" box.
 */
import picomatch from 'picomatch';

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

/** `*.log` → `**\/*.log`; `./src` → `src`; a trailing slash means the folder and all below it. */
function normalizePattern(pattern: string): string[] {
  let p = pattern.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\/+/, '');
  const folder = p.endsWith('/');
  p = p.replace(/\/+$/, '');
  if (!p.includes('/') && !p.startsWith('**')) p = `**/${p}`;
  // A folder named by the pattern covers what lies in it: "dist" excludes dist/a.js too.
  return folder ? [`${p}/**`] : [p, `${p}/**`];
}

/** A matcher for any of `patterns` (undefined when there are none). */
export function globMatcher(patterns: readonly string[], options: { ignoreCase?: boolean } = {}): Matcher | undefined {
  const all = patterns.filter((p) => p.trim() !== '').flatMap(normalizePattern);
  if (all.length === 0) return undefined;
  return picomatch(all, { dot: true, nocase: options.ignoreCase });
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
    return !this.exclude?.(rel);
  }

  keepsFile(rel: string): boolean {
    if (this.exclude?.(rel)) return false;
    return this.include ? this.include(rel) : true;
  }
}
