/** Files the scenarios read, written straight into a server's home before it is used. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RemotePaths } from './job';

export interface Sizes {
  /** Entries of the folder listed by `list`. */
  listEntries: number;
  /** Folders of the walked tree (below its root) and files spread over them. */
  treeDirs: number;
  treeFiles: number;
  /** Bytes of text in each file of the tree (Find in Files reads them all). */
  treeFileBytes: number;
  /** Files of the index whose memory `index-memory` measures. */
  indexEntries: number;
  /** The local tree the `sync` scenario uploads: folders below its root and files spread over them. */
  syncDirs: number;
  syncFiles: number;
  /** Bytes of the big file (loopback) and of the smaller one that shows whether memory grows with size. */
  bigBytes: number;
  mediumBytes: number;
}

export const PATHS: RemotePaths = {
  small: '/small-10k.bin',
  listDir: '/list',
  tree: '/tree',
  upDir: '/up',
  syncDir: '/sync',
  big: '/big.bin',
};
export const MEDIUM_PATH = '/medium.bin';

export function writeLatencyFixtures(root: string, sizes: Sizes): void {
  fs.writeFileSync(path.join(root, PATHS.small), pattern(10 * 1024));
  fs.mkdirSync(path.join(root, PATHS.upDir), { recursive: true });
  fs.mkdirSync(path.join(root, PATHS.syncDir), { recursive: true });
  const list = path.join(root, PATHS.listDir);
  fs.mkdirSync(list, { recursive: true });
  for (let i = 0; i < sizes.listEntries; i++) {
    fs.writeFileSync(path.join(list, `entry-${String(i).padStart(4, '0')}.txt`), `file ${i}\n`);
  }
  writeTree(path.join(root, PATHS.tree), sizes.treeDirs, sizes.treeFiles, sizes.treeFileBytes);
}

/** What Find in Files looks for: one line in every tenth file of the tree, and nowhere else. */
export const SEARCH_NEEDLE = 'renderInvoiceTotals';

const TEXT_LINES = [
  '<?php',
  'namespace App\\Billing;',
  '',
  'final class LineItem',
  '{',
  '    public function __construct(private string $sku, private int $quantity, private int $cents) {}',
  '',
  '    public function amount(): int',
  '    {',
  '        return $this->quantity * $this->cents; // in cents, never floats',
  '    }',
  '}',
  '',
  '// Übersicht der Posten: Menge × Preis, ohne Steuern',
];

/**
 * Text like a PHP project's, about `bytes` long: every file differs in its first line; every
 * tenth file (f % 10 === 3) holds SEARCH_NEEDLE once, halfway down.
 */
function textFile(f: number, bytes: number): string {
  const lines = [`// file ${f}`];
  let length = lines[0].length + 1;
  let needleAt = f % 10 === 3 ? Math.max(1, Math.floor(bytes / 2)) : -1;
  for (let i = 0; length < bytes; i++) {
    let line = `${TEXT_LINES[i % TEXT_LINES.length]}`;
    if (needleAt >= 0 && length >= needleAt) {
      line = `        $this->${SEARCH_NEEDLE}($items, ${f});`;
      needleAt = -1;
    }
    lines.push(line);
    length += Buffer.byteLength(line) + 1;
  }
  if (needleAt >= 0) lines.push(`        $this->${SEARCH_NEEDLE}($items, ${f});`);
  return `${lines.join('\n')}\n`;
}

/**
 * A two-level tree like a web project: the root holds `top` folders, each holding the same number
 * of subfolders, until `dirs` folders exist; files are dealt out evenly.
 */
export function writeTree(rootDir: string, dirs: number, files: number, fileBytes = 0): void {
  const top = Math.max(1, Math.round(Math.sqrt(dirs)));
  const all: string[] = [rootDir];
  for (let t = 0; t < top && all.length <= dirs; t++) all.push(path.join(rootDir, `dir-${t}`));
  for (let k = 0; all.length <= dirs; k++) {
    const parent = all[1 + (k % top)] ?? rootDir;
    all.push(path.join(parent, `sub-${Math.floor(k / top)}`));
  }
  for (const d of all) fs.mkdirSync(d, { recursive: true });
  for (let f = 0; f < files; f++) fs.writeFileSync(path.join(all[f % all.length], `file-${f}.txt`), fileBytes > 0 ? textFile(f, fileBytes) : `${f}\n`);
}

export function writeBigFixtures(root: string, sizes: Sizes): void {
  fs.mkdirSync(path.join(root, PATHS.upDir), { recursive: true });
  writeLarge(path.join(root, PATHS.big), sizes.bigBytes);
  writeLarge(path.join(root, MEDIUM_PATH), sizes.mediumBytes);
}

export function writeLarge(file: string, bytes: number): void {
  const chunk = pattern(1024 * 1024);
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0; off < bytes; off += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - off));
  } finally {
    fs.closeSync(fd);
  }
}

function pattern(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

/** Files (not folders) below `dir`, counted on disk. */
export function countFiles(dir: string): { dirs: number; files: number } {
  const counts = { dirs: 0, files: 0 };
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isDirectory()) counts.dirs++;
    else if (e.isFile()) counts.files++;
  }
  return counts;
}
