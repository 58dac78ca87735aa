/**
 * A text query as the Search view takes it — literal or regular expression, match case, whole
 * word — compiled once, then run over a file's bytes line by line. Binary files (a NUL byte in the
 * first 8 KiB, as git and ripgrep decide) are not searched.
 */

export interface TextQuery {
  pattern: string;
  isRegex?: boolean;
  matchCase?: boolean;
  wholeWord?: boolean;
}

/** A query that cannot run, e.g. a regular expression that does not compile; the message says why. */
export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

/** One matching line: 1-based line number, the line's text, and each match as [start, end) columns (UTF-16). */
export interface LineMatch {
  line: number;
  text: string;
  ranges: [number, number][];
}

/** Bytes looked at for a NUL to call a file binary. */
const SNIFF_BYTES = 8192;

/** Compiles the query; throws QueryError with the engine's reason when a regular expression is invalid. */
export function compileQuery(query: TextQuery): RegExp {
  if (query.pattern === '') throw new QueryError('The search text is empty.');
  const body = query.isRegex ? query.pattern : escapeRegExp(query.pattern);
  // Word characters as in VS Code's default word separators: letters, digits and underscore of any script.
  const source = query.wholeWord ? `(?<![\\p{L}\\p{N}_])(?:${body})(?![\\p{L}\\p{N}_])` : body;
  const flags = `gu${query.matchCase ? '' : 'i'}`;
  try {
    const re = new RegExp(source, flags);
    if (re.test('')) throw new QueryError(`The regular expression /${query.pattern}/ matches empty text; it would match every line.`);
    return re;
  } catch (err) {
    if (err instanceof QueryError) throw err;
    if (query.isRegex) {
      // "Invalid regular expression: /(/: Unterminated group" → "Unterminated group".
      const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
      throw new QueryError(`The regular expression /${query.pattern}/ is not valid: ${reason}.`);
    }
    throw new QueryError((err as Error).message);
  }
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** True when the bytes look binary: a NUL among the first 8 KiB. */
export function looksBinary(data: Uint8Array): boolean {
  const end = Math.min(data.length, SNIFF_BYTES);
  for (let i = 0; i < end; i++) if (data[i] === 0) return true;
  return false;
}

const decoder = new TextDecoder('utf-8');

/** The text of a file's bytes: UTF-8 (BOM dropped); bytes that are not UTF-8 show as U+FFFD. */
export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}

/** Every line of `text` that `re` matches (line breaks: \n, \r\n, \r). */
export function matchLines(text: string, re: RegExp): LineMatch[] {
  const out: LineMatch[] = [];
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    line++;
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let lineEnd = end;
    if (lineEnd > start && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    const lineText = text.slice(start, lineEnd);
    const ranges = matchRanges(lineText, re);
    if (ranges.length > 0) out.push({ line, text: lineText, ranges });
    if (end >= text.length) break;
    start = end + 1;
  }
  return out;
}

function matchRanges(line: string, re: RegExp): [number, number][] {
  const ranges: [number, number][] = [];
  re.lastIndex = 0;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    ranges.push([m.index, m.index + m[0].length]);
  }
  return ranges;
}
