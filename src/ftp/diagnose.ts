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
import { describeProxy } from './proxy';
import { join } from './remotePath';
import { formatTimeZoneOffset } from './timeZone';
import type { ConnectOptions, ConcreteMode, FileEntry, FtpEvent, ProxySettings } from './types';

/** The name of diagnose's login step: callers look for it to know whether the login worked. */
export const LOGIN_STEP = 'Connect and log in';

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
  /** The proxy on the way (describeProxy: never its password), when there is one. */
  proxy?: string;
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
  const proxy = options.proxy && describeProxy(options.proxy);
  const record = (step: DiagnosisStep) => { steps.push(step); hooks.onStep?.(step); };
  if (options.proxy) record({ name: 'Proxy', ok: true, ms: 0, detail: proxyPath(options.proxy, server) });
  const started = Date.now();
  let client: FtpClient;
  try {
    // Each method is probed on its own: nothing opened with the login.
    client = await FtpClient.connect({ ...options, passiveWithLogin: 'never', dataConnectTimeoutMs: Math.min(options.dataConnectTimeoutMs ?? PROBE_DATA_TIMEOUT_MS, PROBE_DATA_TIMEOUT_MS) });
  } catch (e) {
    const failure = isFtpError(e, 'proxy') ? 'The proxy failed' : 'Could not log in';
    record({ name: LOGIN_STEP, ok: false, ms: Date.now() - started, detail: (e as Error).message });
    return { server, proxy, steps, workingModes: [], summary: `${failure}: ${(e as Error).message}` };
  }
  const tls = client.tlsInfo ? `, ${client.tlsInfo.protocol} ${client.tlsInfo.cipher}${client.tlsInfo.authorized ? '' : ' (certificate trusted by fingerprint)'}` : '';
  record({ name: LOGIN_STEP, ok: true, ms: Date.now() - started, detail: `logged in${proxy ? ` through ${proxy}` : ''}${tls}` });
  // The server's own FEAT answer at this login, not the one an earlier login left in memory.
  await client.freshFeatures();
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
        // Through an HTTP proxy active mode is not a fault to look into: it cannot exist there.
        const impossible = options.proxy?.kind === 'http' && (variant === 'EPRT' || variant === 'PORT');
        record({ name: `${variant} (${variant === 'EPSV' || variant === 'PASV' ? 'passive' : 'active'})`, ok: false, ms: Date.now() - t, detail, absent: isFtpError(e, 'unsupported') || impossible || undefined });
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
  const summary = options.proxy ? proxySummary(options.proxy, workingModes) : recommendation === undefined
    ? 'Logged in, but no data connection works in either mode: a firewall blocks both the server\'s passive ports and connections back to this machine.'
    : workingModes.length === 2
      ? 'Both modes work; use passive (it also survives firewalls and NAT on this side).'
      : recommendation === 'passive'
        ? 'Only passive mode works: the server cannot connect back to this machine (firewall or NAT here). Use passive.'
        : 'Only active mode works: the server\'s passive ports are blocked (a server firewall that only opens port 21). Use active.';
  return { server, proxy, steps, workingModes: [...workingModes], recommendation, summary };
}

/** The way to the server, and which modes can work on it at all. */
function proxyPath(proxy: ProxySettings, server: string): string {
  return proxy.kind === 'http'
    ? `this machine → HTTP proxy ${describeProxy(proxy)} (CONNECT) → ${server}; passive mode only (an HTTP proxy cannot accept the server's connections)`
    : `this machine → SOCKS5 proxy ${describeProxy(proxy)} → ${server}; passive mode through CONNECT, active mode through BIND`;
}

function proxySummary(proxy: ProxySettings, working: readonly ConcreteMode[]): string {
  const through = `through the ${proxy.kind === 'http' ? 'HTTP' : 'SOCKS5'} proxy`;
  if (working.length === 0) return `Logged in ${through}, but no data connection works: the proxy will not connect to the server's passive ports${proxy.kind === 'socks5' ? ' nor accept its connections (BIND)' : ''} — ask whoever runs the proxy to allow them.`;
  if (working.length === 2) return `Both modes work ${through} (active through BIND); use passive.`;
  if (working[0] === 'active') return `Only active mode works ${through}: the proxy will not connect to the server's passive ports. Use active.`;
  return proxy.kind === 'http'
    ? `Passive mode works ${through}; active mode cannot work through an HTTP proxy. Use passive.`
    : `Only passive mode works ${through}: the proxy refused BIND, or the server could not connect to the proxy's port. Use passive.`;
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
    const mdtm = client.mdtmOffset !== 0 ? `; MDTM answers in that local time too (not UTC), so its times are moved as well` : '';
    record({ name, ok: true, ms: 0, detail: `LIST times are UTC${formatTimeZoneOffset(zone.minutes)}, ${zone.source === 'setting' ? 'as configured' : 'detected from MDTM'}; to the minute (the day for files older than six months)${mdtm}` });
  } else if (client.timeZoneUndetectable) {
    record({ name, ok: false, absent: true, ms: 0, detail: 'LIST gives the server\'s local time, and without MDTM its zone cannot be detected: times are taken as UTC — set timeZoneOffset if they are off' });
  } else {
    record({ name, ok: false, untried: true, ms: 0, detail: 'not detected yet (no recent file in / or its first folder): it will be at the first listing that shows one' });
  }
}

export function formatDiagnosis(d: Diagnosis): string {
  const lines = [`Diagnosis of ${d.server}${d.proxy ? ` through the proxy ${d.proxy}` : ''}`];
  for (const s of d.steps) lines.push(`  ${s.ok ? 'ok  ' : s.absent ? 'none' : s.untried ? 'skip' : 'FAIL'} ${s.name.padEnd(20)} ${String(s.ms).padStart(6)} ms  ${s.detail}`);
  lines.push('', d.summary);
  if (d.recommendation) lines.push(`Recommended mode: ${d.recommendation}`);
  return lines.join('\n');
}
