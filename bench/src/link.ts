/**
 * Two network namespaces joined by a delayed point-to-point link (bench/link/delay.py): the
 * server lives in one, the clients run in the other. No default route, only the link's own
 * addresses (198.18.0.0/15 is reserved for benchmarks, RFC 2544).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive } from '../../test/support/realServers';

export const SERVER_ADDRESS = '198.18.0.1';
export const CLIENT_ADDRESS = '198.18.0.2';
const PREFIX = 'ftpwb-';
const DEVICE = 'dly0';

export interface Link {
  serverNs: string;
  clientNs: string;
  rttMs: number;
  /** Average round trip measured with ping across the link. */
  measuredRttMs: number;
  close(): void;
}

export async function openLink(rttMs: number, benchDir: string): Promise<Link> {
  removeStaleNamespaces();
  const serverNs = `${PREFIX}${process.pid}-srv`;
  const clientNs = `${PREFIX}${process.pid}-cli`;
  let forwarder: ChildProcess | undefined;
  const close = (): void => {
    if (forwarder && forwarder.exitCode === null) forwarder.kill('SIGTERM');
    for (const ns of [serverNs, clientNs]) ip(['netns', 'del', ns], true);
  };
  try {
    for (const ns of [serverNs, clientNs]) {
      ip(['netns', 'add', ns]);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // Real-time priority: other work on the machine must not stretch the delay.
    const args = [path.join(benchDir, 'link', 'delay.py'), serverNs, clientNs, String(rttMs / 2), DEVICE];
    forwarder = fs.existsSync('/usr/bin/chrt')
      ? spawn('/usr/bin/chrt', ['-f', '20', python(), ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn(python(), args, { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitForReady(forwarder);
    for (const [ns, local, peer] of [[serverNs, SERVER_ADDRESS, CLIENT_ADDRESS], [clientNs, CLIENT_ADDRESS, SERVER_ADDRESS]]) {
      ip(['-n', ns, 'addr', 'add', local, 'peer', peer, 'dev', DEVICE]);
      ip(['-n', ns, 'link', 'set', DEVICE, 'mtu', '1500', 'up']);
    }
    const measuredRttMs = ping(clientNs, SERVER_ADDRESS);
    return { serverNs, clientNs, rttMs, measuredRttMs, close };
  } catch (e) {
    close();
    throw e;
  }
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('delay forwarder did not start')), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`delay forwarder exited (${code})`)); });
  });
}

/** Average RTT in ms over a few pings from the client namespace. */
export function ping(ns: string, address: string): number {
  const out = execFileSync('ip', ['netns', 'exec', ns, 'ping', '-n', '-q', '-c', '8', '-i', '0.2', '-W', '5', address], { encoding: 'utf8' });
  const m = /= [\d.]+\/([\d.]+)\//.exec(out);
  if (!m) throw new Error(`cannot read ping output: ${out}`);
  return Number(m[1]);
}

/** Namespaces of earlier runs whose process is gone (crash, kill -9). */
function removeStaleNamespaces(): void {
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of list.split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)-\\w+)`).exec(line);
    if (m && !isAlive(Number(m[2]))) ip(['netns', 'del', m[1]], true);
  }
}

function ip(args: string[], ignoreErrors = false): void {
  try {
    execFileSync('ip', args, { stdio: 'pipe' });
  } catch (e) {
    if (!ignoreErrors) throw new Error(`ip ${args.join(' ')}: ${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? e}`);
  }
}

/** The system Python (pyenv shims add ~100 ms per start and may lack nothing we need). */
export function python(): string {
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}
