/**
 * Fuzzy matching of a query against file paths, ranked as Quick Open ranks them: the query's
 * characters in order (not necessarily together), a match in the file name before a match only in
 * its folders, a whole substring before scattered letters, letters at word starts (after `/`, `.`,
 * `-`, `_`, a space or a lower→upper case change) before letters inside words, then shorter paths.
 * Spaces split the query into pieces that must all match (Quick Open's "ftp pool" finds
 * src/ftp/pool.ts). Case is ignored. VS Code's own scorer is not published as a package, and the
 * fuzzy packages at hand rank names and folders alike, so this is ours — small, and tested.
 */

export interface FuzzyTarget {
  /** Relative path, `/`-separated. */
  path: string;
}

export interface Scored<T> {
  item: T;
  score: number;
}

const SEPARATORS = new Set(['/', '\\', '.', '-', '_', ' ']);

/** Whether the character at `i` starts a word. */
function wordStart(target: string, i: number): boolean {
  if (i === 0) return true;
  const prev = target[i - 1];
  if (SEPARATORS.has(prev)) return true;
  const ch = target[i];
  return prev === prev.toLowerCase() && ch !== ch.toLowerCase() && ch === ch.toUpperCase();
}

/**
 * Score of `query` (lower case, no spaces) in `target`, or 0 when its letters are not all there in
 * order. A substring scores above any scattered match.
 */
export function scoreIn(query: string, target: string, lower = target.toLowerCase()): number {
  if (query.length === 0) return 1;
  const at = lower.indexOf(query);
  if (at >= 0) {
    // The best place for a substring is a word start; the first occurrence may not be it.
    let best = at;
    for (let i = at; i >= 0; i = lower.indexOf(query, i + 1)) {
      if (wordStart(target, i)) {
        best = i;
        break;
      }
    }
    return 1000 + (best === 0 ? 300 : wordStart(target, best) ? 200 : 0) + query.length * 10 - Math.min(target.length, 200) / 10;
  }
  let score = 0;
  let ti = 0;
  let previous = -2;
  for (const ch of query) {
    // A letter that starts a word is worth a jump, unless the plain next one continues a run.
    let found = lower.indexOf(ch, ti);
    if (found < 0) return 0;
    const atWord = findWordStart(lower, target, ch, found);
    if (atWord >= 0 && found !== previous + 1) found = atWord;
    score += 1;
    if (found === previous + 1) score += 5;
    if (wordStart(target, found)) score += 8;
    previous = found;
    ti = found + 1;
  }
  return score - Math.min(target.length, 200) / 20;
}

/** Whether the letters of `query` stand in `lower` in this order. */
function inOrder(query: string, lower: string): boolean {
  let at = 0;
  for (let i = 0; i < query.length; i++) {
    at = lower.indexOf(query[i], at);
    if (at < 0) return false;
    at++;
  }
  return true;
}

/** The next occurrence of `ch` from `from` that starts a word, or -1. */
function findWordStart(lower: string, target: string, ch: string, from: number): number {
  for (let i = lower.indexOf(ch, from); i >= 0; i = lower.indexOf(ch, i + 1)) if (wordStart(target, i)) return i;
  return -1;
}

/** Score of `query` for a file at `path` (0: no match). A match within the file name ranks first. */
export function scorePath(query: string, path: string): number {
  const pieces = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (pieces.length === 0) return 1;
  const lowerPath = path.toLowerCase();
  // Most files do not match at all: letters in order or not, before any scoring (Go to File ranks
  // every file of the index on each keystroke).
  for (const piece of pieces) if (!inOrder(piece, lowerPath)) return 0;
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  const lowerName = lowerPath.slice(slash + 1);
  let total = 0;
  for (const piece of pieces) {
    const inName = piece.includes('/') || !inOrder(piece, lowerName) ? 0 : scoreIn(piece, name, lowerName);
    if (inName > 0) {
      total += 10_000 + inName;
      continue;
    }
    const inPath = scoreIn(piece, path, lowerPath);
    if (inPath === 0) return 0;
    total += inPath;
  }
  return total;
}

/** The `limit` best matches of `query` among `items`, best first (ties: shorter path, then by path). */
export function bestMatches<T extends FuzzyTarget>(query: string, items: Iterable<T>, limit: number): Scored<T>[] {
  const top: Scored<T>[] = [];
  for (const item of items) {
    const score = scorePath(query, item.path);
    if (score <= 0) continue;
    if (top.length >= limit && compare(top[top.length - 1], { item, score }) <= 0) continue;
    // Insert in order: `limit` is small, the list stays short.
    let i = top.length;
    while (i > 0 && compare(top[i - 1], { item, score }) > 0) i--;
    top.splice(i, 0, { item, score });
    if (top.length > limit) top.pop();
  }
  return top;
}

function compare<T extends FuzzyTarget>(a: Scored<T>, b: Scored<T>): number {
  return b.score - a.score || a.item.path.length - b.item.path.length || (a.item.path < b.item.path ? -1 : a.item.path > b.item.path ? 1 : 0);
}
