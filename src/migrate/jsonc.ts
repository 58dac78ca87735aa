/**
 * JSON with comments and trailing commas (what VS Code's own .json settings files and vscode-sftp's
 * sftp.json allow), read with JSON.parse after blanking what JSON does not have. Blanking keeps
 * every offset, so an error points at the line of the original text. Small on purpose: a full
 * JSONC library would push the packaged extension over its size budget.
 */

export class JsoncError extends Error {}

/** The text with comments and trailing commas replaced by spaces (line breaks kept). */
export function blankNonJson(text: string): string {
  const out = text.split('');
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      // Strings are kept as they are, escapes included.
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === ',') {
      // A comma followed only by blanks and comments before } or ] is a trailing one.
      let j = i + 1;
      for (;;) {
        while (j < text.length && /\s/.test(text[j])) j++;
        if (text.startsWith('//', j)) j = text.indexOf('\n', j) < 0 ? text.length : text.indexOf('\n', j);
        else if (text.startsWith('/*', j)) j = text.indexOf('*/', j + 2) < 0 ? text.length : text.indexOf('*/', j + 2) + 2;
        else break;
      }
      if (text[j] === '}' || text[j] === ']') out[i] = ' ';
      i++;
    } else {
      i++;
    }
  }
  return out.join('');
}

/** Parses JSONC; a syntax error says where, by line and column of the original text. */
export function parseJsonc(text: string): unknown {
  const json = blankNonJson(text.replace(/^\uFEFF/, ''));
  try {
    return JSON.parse(json);
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    if (!at) throw new JsoncError(message);
    const before = json.slice(0, Number(at[1])).split('\n');
    throw new JsoncError(`${message.replace(/ in JSON at position \d+.*$/, '').replace(/^Unexpected token '?(.)'?,.*$/, "unexpected '$1'")} at line ${before.length}, column ${before[before.length - 1].length + 1}`);
  }
}

/**
 * The text without the properties named `key` whose value is a string (anywhere in it), each with
 * its comma, and its line (with a comment ending it) when it had one to itself; other comments and
 * the layout are kept.
 */
export function withoutStringProperty(text: string, key: string): string {
  const blanked = blankNonJson(text);
  // Blank string contents too, so a key-like text inside a string cannot match.
  const keyPattern = new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:\\s*"(?:[^"\\\\]|\\\\.)*"`, 'g');
  const ranges: [number, number][] = [];
  for (let m = keyPattern.exec(blanked); m; m = keyPattern.exec(blanked)) {
    if (!startsProperty(blanked, m.index)) continue;
    let start = m.index;
    let end = m.index + m[0].length;
    let after = end;
    while (after < blanked.length && /[ \t]/.test(blanked[after])) after++;
    if (blanked[after] === ',') end = after + 1;
    else {
      // The last property: take the comma before it instead.
      let before = start - 1;
      while (before >= 0 && /\s/.test(blanked[before])) before--;
      if (blanked[before] === ',') start = before;
    }
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    const lineEnd = text.indexOf('\n', end);
    // A comment after it on its line is about it, and goes too.
    const restOfLine = blanked.slice(end, lineEnd < 0 ? text.length : lineEnd);
    if (/^\s*$/.test(blanked.slice(lineStart, start)) && /^\s*$/.test(restOfLine) && lineEnd >= 0) {
      start = lineStart;
      end = lineEnd + 1;
    }
    ranges.push([start, end]);
  }
  let out = text;
  for (const [start, end] of ranges.reverse()) out = out.slice(0, start) + out.slice(end);
  return out;
}

/** A key starts a property when, before it, there is `{` or `,` (blanks aside): not a value. */
function startsProperty(blanked: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && /\s/.test(blanked[i])) i--;
  return blanked[i] === '{' || blanked[i] === ',';
}
