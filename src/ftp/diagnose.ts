/**
 * Connection diagnosis: log in, then try each data-channel method on its own, with timings, and
 * recommend a mode; then each listing and file-information command (MLSD, LIST, MLST, SIZE,
 * MDTM) and the server's time zone for LIST times. Every method is tried, not taken from FEAT:
 * old servers have no FEAT, and some list what they do not do. Shared by `ftp-workspace
 * diagnose` and the "FTP: Test Connection" command.
 */
import { FtpClient } from './client';
import { defaultPort } from './defaults';
import { FtpError, isFtpError } from './errors';
import { parseMdtm, parseSize } from './listing';
import { join } from './remotePath';
import { formatTimeZoneOffset } from './timeZone';
import type { ConnectOptions, ConcreteMode, FileEntry, FtpEvent } from './types';

export interface DiagnosisStep {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
  /** The server does not have this method (not a fault: the client uses a fallback). */
  absent?: boolean;
  /** Not tried (nothing to try it on), so neither known to work nor to fail. */
  untried?: boolean;
}

export interface Diagnosis {
  server: string;
  steps: DiagnosisStep[];
  workingModes: ConcreteMode[];
  /** The mode to use, or undefined when no data connection works at all. */
  recommendation?: ConcreteMode;
  summary: string;
}

const VARIANTS = ['EPSV', 'PASV', 'EPRT', 'PORT'] as const;
/** A probe whose data connection cannot open fails fast: blocked is the answer, not a slow network. */
const PROBE_DATA_TIMEOUT_MS = 5000;

export async function diagnose(options: ConnectOptions, hooks: { onStep?: (step: DiagnosisStep) => void; onEvent?: (e: FtpEvent) => void; signal?: AbortSignal } = {}): Promise<Diagnosis> {
  if (hooks.onEvent && !options.onEvent) options = { ...options, onEvent: hooks.onEvent };
  const steps: DiagnosisStep[] = [];
  const server = `${options.host}:${options.port ?? defaultPort(options.security)}`;
  const record = (step: DiagnosisStep) => { steps.push(step); hooks.onStep?.(step); };
  const started = Date.now();
  let client: FtpClient;
  try {
    client = await FtpClient.connect({ ...options, dataConnectTimeoutMs: Math.min(options.dataConnectTimeoutMs ?? PROBE_DATA_TIMEOUT_MS, PROBE_DATA_TIMEOUT_MS) });
  } catch (e) {
    record({ name: 'Connect and log in', ok: false, ms: Date.now() - started, detail: (e as Error).message });
    return { server, steps, workingModes: [], summary: `Could not log in: ${(e as Error).message}` };
  }
  const tls = client.tlsInfo ? `, ${client.tlsInfo.protocol} ${client.tlsInfo.cipher}${client.tlsInfo.authorized ? '' : ' (certificate trusted by fingerprint)'}` : '';
  record({ name: 'Connect and log in', ok: true, ms: Date.now() - started, detail: `logged in${tls}` });
  record({ name: 'Server features', ok: true, ms: 0, detail: [...client.features.keys()].join(' ') || '(no FEAT)' });
  const works = new Set<ConcreteMode>();
  try {
    for (const variant of VARIANTS) {
      if (hooks.signal?.aborted) break;
      const t = Date.now();
      try {
        const ms = await client.probe(variant);
        works.add(variant === 'EPSV' || variant === 'PASV' ? 'passive' : 'active');
        record({ name: `${variant} (${variant === 'EPSV' || variant === 'PASV' ? 'passive' : 'active'})`, ok: true, ms, detail: 'listing transferred' });
      } catch (e) {
        const detail = e instanceof FtpError ? e.message : String(e);
        record({ name: `${variant} (${variant === 'EPSV' || variant === 'PASV' ? 'passive' : 'active'})`, ok: false, ms: Date.now() - t, detail, absent: isFtpError(e, 'unsupported') || undefined });
      }
    }
    // Which charset names travel in, shown so that "names show as \uFFFD" has an answer: auto
    // decides on a listing, so one is made (in a mode that worked) when no charset is set.
    const firstWorking = (['passive', 'active'] as const).find((m) => works.has(m));
    if (firstWorking && !hooks.signal?.aborted) {
      const t = Date.now();
      client.mode = firstWorking;
      const listed = await client.list('/').then(() => true, () => false);
      const { charset, how } = client.nameCharset;
      record({ name: 'File names', ok: true, ms: Date.now() - t, detail: `${charset} (${how})${listed ? '' : '; the listing of / failed'}` });
    }
    if (works.size > 0 && !hooks.signal?.aborted) await commandSteps(client, record);
  } finally {
    await client.close().catch(() => undefined);
  }
  const workingModes = (['passive', 'active'] as const).filter((m) => works.has(m));
  const recommendation = workingModes[0];
  const summary = recommendation === undefined
    ? 'Logged in, but no data connection works in either mode: a firewall blocks both the server\'s passive ports and connections back to this machine.'
    : workingModes.length === 2
      ? 'Both modes work; use passive (it also survives firewalls and NAT on this side).'
      : recommendation === 'passive'
        ? 'Only passive mode works: the server cannot connect back to this machine (firewall or NAT here). Use passive.'
        : 'Only active mode works: the server\'s passive ports are blocked (a server firewall that only opens port 21). Use active.';
  return { server, steps, workingModes: [...workingModes], recommendation, summary };
}

function filesIn(dir: string, entries: FileEntry[]): string[] {
  return entries.filter((e) => e.type === 'file').map((e) => join(dir, e.name));
}

/** Whether uploads can be verified by the server's checksum, and how (tried on `file` where there is one). */
async function checksumStep(client: FtpClient, file: string | undefined, record: (step: DiagnosisStep) => void): Promise<void> {
  const name = 'Checksums';
  const method = client.checksumMethod();
  if (!method) {
    record({ name, ok: false, ms: 0, absent: true, detail: 'none offered (no HASH, XSHA256, XSHA1, XMD5 or XCRC in FEAT); uploads are checked by size only' });
    return;
  }
  const ranged = client.checksumMethod({ ranged: true });
  const how = `${method.algorithm} by ${method.command}${ranged && ranged.command !== method.command ? `, byte ranges by ${ranged.command}` : ''}`;
  if (!file) {
    record({ name, ok: false, untried: true, ms: 0, detail: `${how} offered; not tried: no file in / or its first folder to try it on` });
    return;
  }
  const t = Date.now();
  try {
    const sum = await client.checksum(file);
    record(sum
      ? { name, ok: true, ms: Date.now() - t, detail: `${how}: uploads are verified (${file}: ${sum.hex.slice(0, 16)}…)` }
      : { name, ok: false, ms: Date.now() - t, absent: true, detail: `${how} listed in FEAT but refused; uploads are checked by size only` });
  } catch (e) {
    record({ name, ok: false, ms: Date.now() - t, detail: `${how}: ${(e as Error).message}` });
  }
}

/** "500 'SIZE': command not understood" and the like: the server lacks it. */
const ABSENT_CODES = new Set([500, 502, 504]);

/**
 * MLSD and LIST (each on its own), then MLST, SIZE and MDTM on a file of the listing, then the
 * zone of LIST times (only where LIST is what the session uses).
 */
async function commandSteps(client: FtpClient, record: (step: DiagnosisStep) => void): Promise<void> {
  /** Files to try SIZE, MDTM and MLST on. */
  const files: string[] = [];
  for (const command of ['MLSD', 'LIST'] as const) {
    const t = Date.now();
    try {
      const entries = await client.probeListing(command, '/');
      files.push(...filesIn('/', entries));
      record({ name: `${command} (listing)`, ok: true, ms: Date.now() - t, detail: `${entries.length} entries in /${command === 'MLSD' && !client.features.has('MLST') ? ' (not in FEAT, so LIST is used)' : ''}` });
    } catch (e) {
      const absent = isFtpError(e, 'unsupported');
      record({ name: `${command} (listing)`, ok: false, ms: Date.now() - t, detail: absent ? `not supported (${(e as Error).message})${command === 'MLSD' ? '; LIST is used' : ''}` : (e as Error).message, absent: absent || undefined });
    }
  }
  if (files.length === 0) {
    // Many servers keep their files a folder down (/public_html, /pub): look there too.
    const dir = (await client.list('/').catch(() => [])).find((e) => e.type === 'directory');
    if (dir) files.push(...filesIn(join('/', dir.name), await client.list(join('/', dir.name)).catch(() => [])));
  }
  const file = files[0];
  const target = file ?? '/';
  const checks: { name: string; command: string; ok: (text: string) => boolean; fallback: string }[] = [
    { name: 'MLST', command: `MLST ${target}`, ok: () => true, fallback: 'SIZE, MDTM or the parent folder\'s listing are used' },
    { name: 'SIZE', command: `SIZE ${target}`, ok: (text) => parseSize(text) !== undefined, fallback: 'sizes come from the listing' },
    { name: 'MDTM', command: `MDTM ${target}`, ok: (text) => parseMdtm(text) !== undefined, fallback: 'times come from the listing' },
  ];
  for (const check of checks) {
    if (check.name !== 'MLST' && !file) {
      record({ name: check.name, ok: false, untried: true, ms: 0, detail: `not tried: no file in / or its first folder to try it on${client.features.has(check.name) ? ` (FEAT lists ${check.name})` : ''}` });
      continue;
    }
    const t = Date.now();
    const r = await client.raw(check.command);
    const ms = Date.now() - t;
    if (r.code < 400 && check.ok(r.text)) record({ name: check.name, ok: true, ms, detail: `${check.command}: ${r.code}${client.features.has(check.name) ? '' : ' (not in FEAT)'}` });
    else if (ABSENT_CODES.has(r.code)) record({ name: check.name, ok: false, ms, detail: `not supported (${r.code} ${r.message}); ${check.fallback}`, absent: true });
    else record({ name: check.name, ok: false, ms, detail: `${check.command}: ${r.code} ${r.message}` });
  }
  await checksumStep(client, file, record);
  if (client.features.has('MLST')) return;
  const zone = client.timeZoneOffset;
  const name = 'Time zone (LIST)';
  if (zone) {
    record({ name, ok: true, ms: 0, detail: `LIST times are UTC${formatTimeZoneOffset(zone.minutes)}, ${zone.source === 'setting' ? 'as configured' : 'detected from MDTM'}; to the minute (the day for files older than six months)` });
  } else if (client.timeZoneUndetectable) {
    record({ name, ok: false, absent: true, ms: 0, detail: 'LIST gives the server\'s local time, and without MDTM its zone cannot be detected: times are taken as UTC — set timeZoneOffset if they are off' });
  } else {
    record({ name, ok: false, untried: true, ms: 0, detail: 'not detected yet (no recent file in / or its first folder): it will be at the first listing that shows one' });
  }
}

export function formatDiagnosis(d: Diagnosis): string {
  const lines = [`Diagnosis of ${d.server}`];
  for (const s of d.steps) lines.push(`  ${s.ok ? 'ok  ' : s.absent ? 'none' : s.untried ? 'skip' : 'FAIL'} ${s.name.padEnd(20)} ${String(s.ms).padStart(6)} ms  ${s.detail}`);
  lines.push('', d.summary);
  if (d.recommendation) lines.push(`Recommended mode: ${d.recommendation}`);
  return lines.join('\n');
}
