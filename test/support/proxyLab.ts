/**
 * Real proxies for the proxy tests: danted (SOCKS5 with CONNECT and BIND, user name and password
 * checked against a system user), a second danted that refuses BIND, and tinyproxy (HTTP CONNECT
 * with BasicAuth), each in the foreground with its own configuration (scripts/install-proxies.sh
 * installs them).
 *
 * And a client namespace that can reach nothing but the proxies: a veth pair joins it to this
 * namespace, where the proxies listen on the pair's address and the FTP servers on loopback; its
 * firewall accepts new connections only to the proxies' ports (and to one where nothing listens:
 * a proxy that is down), and rejects the rest. A client run there (`run`) that gets anywhere went
 * through a proxy; the proxies' logs say which.
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { eventually } from './assertions';
import { isAlive } from './realServers';

export const PROXY_USER = 'ftpwproxy';
export const PROXY_PASSWORD = 'ftpw-Proxy-Pass1';
const PREFIX = 'ftpwp-';

export interface Proxy {
  port: number;
  /** The URL without the password (socks5://user@host:port, http://user@host:port). */
  url: string;
  logPath: string;
  /** The proxy's log so far. */
  log(): string;
}

export interface ProxyLab {
  /** The client namespace, which reaches nothing but the proxies. */
  ns: string;
  /** The proxies' address, as the client namespace sees it. */
  address: string;
  socks: Proxy;
  /** A SOCKS5 proxy whose rules refuse BIND (active mode). */
  socksNoBind: Proxy;
  http: Proxy;
  /** A port on `address` the firewall lets through and nothing listens on: a proxy that is down. */
  downPort: number;
  /** Runs a command inside the client namespace. */
  run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): void;
}

interface Started { child: ChildProcess }

export async function startProxyLab(): Promise<ProxyLab> {
  for (const bin of ['/usr/sbin/danted', '/usr/bin/tinyproxy']) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`sudo bash scripts/install-proxies.sh\` first`);
  }
  removeStale();
  ensureProxyUser();
  const ns = `${PREFIX}${process.pid}`;
  // 198.19.0.0/16 (RFC 2544, benchmarking, as bench/ uses 198.18): a /30 per test process.
  const n = process.pid % 16000;
  const base = `198.19.${n >> 6}.${(n & 63) * 4}`;
  const [a, b, c, d] = base.split('.').map(Number);
  const address = `${a}.${b}.${c}.${d + 1}`;
  const clientAddress = `${a}.${b}.${c}.${d + 2}`;
  const hostIf = `fpx${process.pid}h`;
  const nsIf = `fpx${process.pid}n`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-proxies-'));
  // tinyproxy drops to nobody and must still write its log there.
  fs.chmodSync(dir, 0o777);
  const children: Started[] = [];
  const stop = () => {
    for (const s of children) killGroup(s.child.pid);
    children.length = 0;
    ip(['netns', 'del', ns], true);
    ip(['link', 'del', hostIf], true);
    fs.rmSync(dir, { recursive: true, force: true });
    process.off('exit', stop);
  };
  process.on('exit', stop);
  try {
    ip(['netns', 'add', ns]);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    ip(['link', 'set', nsIf, 'netns', ns]);
    ip(['addr', 'add', `${address}/30`, 'dev', hostIf]);
    ip(['link', 'set', hostIf, 'up']);
    ip(['-n', ns, 'addr', 'add', `${clientAddress}/30`, 'dev', nsIf]);
    ip(['-n', ns, 'link', 'set', nsIf, 'up']);
    const [socksPort, noBindPort, httpPort, downPort] = await freePorts(address, 4);
    const socks = startDante(dir, 'socks', address, socksPort, 'bind connect bindreply', children);
    const socksNoBind = startDante(dir, 'socks-nobind', address, noBindPort, 'connect', children);
    const http = startTinyproxy(dir, address, httpPort, children);
    const iptables = (...args: string[]) => execFileSync('ip', ['netns', 'exec', ns, 'iptables', ...args], { stdio: 'pipe' });
    iptables('-A', 'OUTPUT', '-o', 'lo', '-j', 'ACCEPT');
    iptables('-A', 'OUTPUT', '-m', 'state', '--state', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
    for (const port of [socksPort, noBindPort, httpPort, downPort]) iptables('-A', 'OUTPUT', '-p', 'tcp', '-d', address, '--dport', String(port), '-j', 'ACCEPT');
    iptables('-A', 'OUTPUT', '-j', 'REJECT');
    for (const [name, port] of [['danted', socksPort], ['danted (no BIND)', noBindPort], ['tinyproxy', httpPort]] as const) {
      await eventually(() => canConnect(address, port), `${name} to listen on ${address}:${port}`, { timeoutMs: 15_000 });
    }
    return {
      ns, address, socks, socksNoBind, http, downPort, stop,
      run: (command, args, env) => new Promise((resolve) => {
        execFile('ip', ['netns', 'exec', ns, command, ...args], { env: { ...process.env, ...env }, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') });
        });
      }),
    };
  } catch (e) {
    const logs = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.log') || f.endsWith('.out')).map((f) => `--- ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8')}`).join('\n') : '';
    stop();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
}

function proxy(url: string, port: number, logPath: string): Proxy {
  return { port, url, logPath, log: () => (fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '') };
}

/** danted: `socksmethod: username` checks the system user's password; BIND's port opens on loopback, where the servers are. */
function startDante(dir: string, name: string, address: string, port: number, commands: string, children: Started[]): Proxy {
  const logPath = path.join(dir, `${name}.log`);
  const config = path.join(dir, `${name}.conf`);
  fs.writeFileSync(config, [
    `logoutput: ${logPath}`,
    `internal: ${address} port = ${port}`,
    'external: 127.0.0.1',
    'socksmethod: username',
    'clientmethod: none',
    'user.privileged: root',
    'user.unprivileged: nobody',
    'client pass {',
    '  from: 0.0.0.0/0 to: 0.0.0.0/0',
    '}',
    'socks pass {',
    '  from: 0.0.0.0/0 to: 0.0.0.0/0',
    `  command: ${commands}`,
    '  log: connect disconnect error',
    '}',
    '',
  ].join('\n'));
  children.push(launch('/usr/sbin/danted', ['-f', config, '-p', path.join(dir, `${name}.pid`)], path.join(dir, `${name}.out`)));
  return proxy(`socks5://${PROXY_USER}@${address}:${port}`, port, logPath);
}

/** tinyproxy: CONNECT to any port (no ConnectPort line), BasicAuth. */
function startTinyproxy(dir: string, address: string, port: number, children: Started[]): Proxy {
  const logPath = path.join(dir, 'tinyproxy.log');
  const config = path.join(dir, 'tinyproxy.conf');
  fs.writeFileSync(config, [
    'User nobody',
    'Group nogroup',
    `Port ${port}`,
    `Listen ${address}`,
    'Timeout 60',
    `LogFile "${logPath}"`,
    'LogLevel Info',
    `PidFile "${path.join(dir, 'tinyproxy.pid')}"`,
    'MaxClients 50',
    'Allow 0.0.0.0/0',
    `BasicAuth ${PROXY_USER} ${PROXY_PASSWORD}`,
    'DisableViaHeader Yes',
    '',
  ].join('\n'));
  children.push(launch('/usr/bin/tinyproxy', ['-d', '-c', config], path.join(dir, 'tinyproxy.out')));
  return proxy(`http://${PROXY_USER}@${address}:${port}`, port, logPath);
}

function launch(command: string, args: string[], outPath: string): Started {
  const out = fs.openSync(outPath, 'a');
  // Its own process group: danted forks workers, and all of them must go with it.
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  child.unref();
  return { child };
}

/** The system user danted checks (`socksmethod: username`); its password is set every run. */
function ensureProxyUser(): void {
  const exists = fs.readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith(`${PROXY_USER}:`));
  if (!exists) {
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', PROXY_USER], { stdio: 'pipe' });
    } catch (e) {
      // Another test process may have made it at the same moment.
      if (!fs.readFileSync('/etc/passwd', 'utf8').includes(`\n${PROXY_USER}:`)) throw e;
    }
  }
  execFileSync('chpasswd', [], { input: `${PROXY_USER}:${PROXY_PASSWORD}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** Namespaces (and their veth pairs) of earlier runs whose process is gone. */
function removeStale(): void {
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of list.split('\n')) {
    const m = new RegExp(`^${PREFIX}(\\d+)`).exec(line);
    if (m && !isAlive(Number(m[1]))) {
      ip(['netns', 'del', `${PREFIX}${m[1]}`], true);
      ip(['link', 'del', `fpx${m[1]}h`], true);
    }
  }
}

async function freePorts(host: string, count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
}

function ip(args: string[], ignoreErrors = false): void {
  try {
    execFileSync('ip', args, { stdio: 'pipe' });
  } catch (e) {
    if (!ignoreErrors) throw new Error(`ip ${args.join(' ')}: ${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? e}`);
  }
}
