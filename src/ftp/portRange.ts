/**
 * Ports typed by people: the active-mode port range of the settings and of the CLI's
 * `--active-ports`. One set of rules, the one package.json documents for `activePortRange`:
 * "LOW-HIGH" (spaces around the dash allowed) or a single port, every port 1–65535, low ≤ high.
 */

/** A TCP port one can connect to or forward: 0 means "any" to the OS, never a port a user means. */
export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/**
 * "50000-50100" → [50000, 50100]; "50000" → [50000, 50000]; empty → undefined (any port).
 * Anything else throws a RangeError whose message says what to write; callers wrap it in their
 * own error type (settings, command line).
 */
export function parsePortRange(text: string | undefined): [number, number] | undefined {
  const t = (text ?? '').trim();
  if (!t) return undefined;
  const m = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(t);
  if (!m) throw new RangeError(`Invalid port range "${text}": write it as LOW-HIGH, e.g. 50000-50100`);
  const low = Number(m[1]);
  const high = Number(m[2] ?? m[1]);
  if (!isPort(low) || !isPort(high) || low > high) throw new RangeError(`Invalid port range "${text}": ports must be 1-65535, low ≤ high`);
  return [low, high];
}
