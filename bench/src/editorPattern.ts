/**
 * The FileSystemProvider calls VS Code makes when it opens an ftp:// folder, opens a file and saves
 * it, as data, and a replay of them against RemoteFs (which the provider maps each call onto one to
 * one: stat → stat, readDirectory → listResolved, readFile → readFile, writeFile → writeFile).
 *
 * Recorded 2026-12-07 from a real window: code-server 4.100.3 (VS Code 1.100.3) with the extension
 * installed as a user has it, every log at Trace from the start, the embedded demo server opened as
 * `ftp://demo/`, then index.html opened from the Explorer, edited and saved with Ctrl+S
 * (`node out/test/e2e/recordEditorPattern.js`, which prints the provider's trace lines: each call
 * as it starts and ends). Calls that started together are given without `after`; a call that
 * started only once another had ended names it in `after` (the Explorer's listing of the root came
 * after the stat of the root; each .vscode file is read and stat'ed again once its first stat
 * failed; the save's writeFile follows its stat, and the stat after it follows the writeFile).
 */
import type { FileEntry } from '../../src/ftp/types';

export interface PatternCall {
  id: number;
  op: 'stat' | 'readDirectory' | 'readFile' | 'writeFile';
  /** Below the opened folder's root ('' is the root itself). */
  path: string;
  /** Starts once this call has ended; without, at the start of the pattern. */
  after?: number;
}

/** Opening the folder: the root listing is call 18. */
export const OPEN_FOLDER: readonly PatternCall[] = [
  { id: 1, op: 'readFile', path: '.vscode/settings.json' },
  { id: 2, op: 'readFile', path: '.vscode/tasks.json' },
  { id: 3, op: 'readFile', path: '.vscode/launch.json' },
  { id: 4, op: 'readFile', path: '.vscode/mcp.json' },
  { id: 5, op: 'stat', path: '.vscode/settings.json' },
  { id: 6, op: 'stat', path: '.vscode/tasks.json' },
  { id: 7, op: 'stat', path: '.vscode/launch.json' },
  { id: 8, op: 'stat', path: '.vscode/mcp.json' },
  { id: 9, op: 'stat', path: '' },
  { id: 10, op: 'stat', path: '' },
  { id: 11, op: 'stat', path: '.vscode' },
  { id: 12, op: 'readFile', path: '.cursor/mcp.json' },
  { id: 13, op: 'readFile', path: '.vscode/extensions.json' },
  { id: 14, op: 'stat', path: '.cursor/mcp.json' },
  { id: 15, op: 'stat', path: '.vscode/extensions.json' },
  { id: 16, op: 'readFile', path: '.vscode/mcp.json' },
  { id: 17, op: 'stat', path: '.vscode/mcp.json' },
  { id: 18, op: 'readDirectory', path: '', after: 9 },
  { id: 19, op: 'readFile', path: '.vscode/settings.json', after: 5 },
  { id: 20, op: 'stat', path: '.vscode/settings.json', after: 5 },
  { id: 21, op: 'readFile', path: '.vscode/tasks.json', after: 6 },
  { id: 22, op: 'stat', path: '.vscode/tasks.json', after: 6 },
  { id: 23, op: 'readFile', path: '.vscode/launch.json', after: 7 },
  { id: 24, op: 'stat', path: '.vscode/launch.json', after: 7 },
  { id: 25, op: 'readFile', path: '.vscode/mcp.json', after: 8 },
  { id: 26, op: 'stat', path: '.vscode/mcp.json', after: 8 },
];
/** The call whose end is "the root listing shown". */
export const ROOT_LISTING_CALL = 18;

/** Opening a file from the Explorer: read and stat together. `FILE` stands for the file. */
export const OPEN_FILE: readonly PatternCall[] = [
  { id: 1, op: 'readFile', path: 'FILE' },
  { id: 2, op: 'stat', path: 'FILE' },
];

/** Ctrl+S: VS Code's stat (its check for someone else's change), writeFile (create and overwrite true), its stat after. */
export const SAVE: readonly PatternCall[] = [
  { id: 1, op: 'stat', path: 'FILE' },
  { id: 2, op: 'writeFile', path: 'FILE', after: 1 },
  { id: 3, op: 'stat', path: 'FILE', after: 2 },
];

/** The part of RemoteFs the provider calls. */
export interface ProviderTarget {
  stat(path: string): Promise<unknown>;
  listResolved(path: string): Promise<FileEntry[]>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: Uint8Array, opts: { create: boolean; overwrite: boolean }): Promise<unknown>;
}

/**
 * Runs `calls` as VS Code made them, below `root`, with `file` for FILE and `content` for a
 * writeFile. Resolves with each call's end in ms since the start; a call VS Code expects to fail
 * (a missing .vscode file) may fail, any other failure rejects.
 */
export async function replay(target: ProviderTarget, calls: readonly PatternCall[], opts: { root: string; file?: string; content?: Uint8Array }): Promise<Map<number, number>> {
  const t0 = performance.now();
  const ends = new Map<number, number>();
  const done = new Map<number, Promise<void>>();
  const pathOf = (p: string) => {
    const rel = p === 'FILE' ? opts.file ?? '' : p;
    return rel ? `${opts.root.replace(/\/+$/, '')}/${rel}` : opts.root;
  };
  const start = (call: PatternCall): Promise<void> => {
    const existing = done.get(call.id);
    if (existing) return existing;
    const before = call.after === undefined ? Promise.resolve() : start(calls.find((c) => c.id === call.after)!);
    const p = before.then(async () => {
      const path = pathOf(call.path);
      try {
        if (call.op === 'stat') await target.stat(path);
        else if (call.op === 'readDirectory') await target.listResolved(path);
        else if (call.op === 'readFile') await target.readFile(path);
        else await target.writeFile(path, opts.content ?? new Uint8Array(), { create: true, overwrite: true });
      } catch (err) {
        if (!(call.path.startsWith('.vscode') || call.path.startsWith('.cursor')) || (err as { kind?: string }).kind !== 'not-found') throw err;
      }
      ends.set(call.id, performance.now() - t0);
    });
    done.set(call.id, p);
    return p;
  };
  await Promise.all(calls.map(start));
  return ends;
}
