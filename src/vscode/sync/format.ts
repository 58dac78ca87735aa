/** Small text helpers for messages (sizes: formatBytes in src/ftp/format.ts). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
