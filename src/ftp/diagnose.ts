/**
 * Connection diagnosis: log in, then try each data-channel method on its own, with timings, and
 * recommend a mode. Shared by `ftp-workspace diagnose` and the "FTP: Test Connection" command.
 */
import { FtpClient } from './client';
import { defaultPort } from './defaults';
import { FtpError } from './errors';
import type { ConnectOptions, ConcreteMode, FtpEvent } from './types';

export interface DiagnosisStep {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
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
        record({ name: `${variant} (${variant === 'EPSV' || variant === 'PASV' ? 'passive' : 'active'})`, ok: false, ms: Date.now() - t, detail });
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

export function formatDiagnosis(d: Diagnosis): string {
  const lines = [`Diagnosis of ${d.server}`];
  for (const s of d.steps) lines.push(`  ${s.ok ? 'ok  ' : 'FAIL'} ${s.name.padEnd(20)} ${String(s.ms).padStart(6)} ms  ${s.detail}`);
  lines.push('', d.summary);
  if (d.recommendation) lines.push(`Recommended mode: ${d.recommendation}`);
  return lines.join('\n');
}
