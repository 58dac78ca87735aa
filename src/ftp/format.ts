/**
 * Sizes and rates for people: progress notifications, sync previews, the log and the CLI all say
 * "1.5 MB" the same way. Units are 1024-based; two or three significant digits are enough to tell
 * sizes apart at a glance, and the unit steps up before a number would need four.
 */
const UNITS = ['KB', 'MB', 'GB', 'TB'];

export function formatBytes(n: number): string {
  // 1023.5 B and up would round to "1024 B": show it as 1.0 KB instead.
  if (n < 1023.5) return `${Math.round(n)} B`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1023.5 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  // Below 10 one decimal says something ("1.5 MB"); above it the decimal is noise ("15 MB").
  return `${v < 9.95 ? v.toFixed(1) : Math.round(v)} ${UNITS[i]}`;
}

/** Bytes per second, in the same units as formatBytes ("9.3 KB/s" for a small file, not "0.00 MB/s"). */
export function formatRate(bytes: number, ms: number): string {
  if (ms <= 0) return '∞';
  return `${formatBytes(bytes / (ms / 1000))}/s`;
}

/** How long ago, for people: "just now", "4 min ago", "2 h ago", "3 days ago" (the search index's age). */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}
