/**
 * Real FTP servers (vsftpd, proftpd, pure-ftpd) for integration tests and benchmarks.
 *
 * Each server runs as root in the foreground, with its own generated configuration in a fresh
 * folder, on a free high loopback port, with its own chrooted home and passive port range, and
 * active mode allowed. Binaries come from `scripts/install-ftp-servers.sh` (vsftpd installed with
 * apt, proftpd and pure-ftpd unpacked into a cache folder because the packages conflict).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export type ServerKind = 'vsftpd' | 'proftpd' | 'pure-ftpd';

export interface ServerOptions {
  /** FTPS. vsftpd and proftpd support both; pure-ftpd only explicit. */
  tls?: 'explicit' | 'implicit';
  /** Address the PASV reply advertises instead of the real one, e.g. '127.0.0.77'. */
  wrongPasvAddress?: string;
  /** Connections accepted from one client address; more are refused with 421. */
  maxPerIp?: number;
  /** Listen on ::1 instead of 127.0.0.1 (ignored when listenAddress is given). */
  ipv6?: boolean;
  /** Address to listen on; default 127.0.0.1 (::1 with ipv6). */
  listenAddress?: string;
  /** Run the server inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Size of the passive port range (default 32; pure-ftpd serves at most half as many clients). */
  passivePortCount?: number;
  /**
   * vsftpd only: list in this local time (`use_localtime=YES` and `TZ`, a POSIX zone such as
   * "XYZ-2" for UTC+02:00 — the sign is POSIX's, west positive); MDTM stays UTC.
   */
  timeZone?: string;
  /** vsftpd only: `chmod_enable=NO`, a server that answers SITE CHMOD with 500. */
  noChmod?: boolean;
  /** proftpd only: load mod_digest (FEAT HASH, XCRC, XMD5, XSHA1, XSHA256…), as shipped in proftpd-core. */
  digest?: boolean;
  /** proftpd only: `AllowStoreRestart on`, which REST + STOR and APPE need there (off by default). */
  storeRestart?: boolean;
}

export interface RunningServer {
  kind: ServerKind;
  host: string;
  port: number;
  user: string;
  password: string;
  /** Local absolute path of the user's FTP home, what '/' maps to on the server. */
  root: string;
  tls?: 'explicit' | 'implicit';
  certPem?: string;
  /** As Node's X509Certificate.fingerprint256 prints it. */
  certFingerprint256?: string;
  pasvPorts: [number, number];
  /** The server's own log (protocol log for vsftpd, system log for proftpd, stdout/stderr otherwise). */
  logPath: string;
  /** The server's stdout and stderr. */
  outputPath: string;
  pid: number;
  /** Owner of files the server writes; chown test fixtures to it if the server must change them. */
  uid: number;
  gid: number;
  /** ftp://user@host:port/path, or ftps:// for either kind of TLS. */
  url(path?: string): string;
  /** Hands `root` (or a path relative to it) over to the FTP user, so the server may write there. */
  giveToUser(relativePath?: string): void;
  /** The log and output files, for a failure message. */
  readLogs(): string;
  stop(): Promise<void>;
}

const SYSTEM_USER = 'ftpwtest';
const SYSTEM_USER_HOME = '/var/lib/ftpwtest';
const PASSWORD = 'ftpw-Test-Pass1';
const PAM_SERVICE = 'vsftpd-ftpw';
const CACHE_DIR = path.join(process.env.FTPW_CACHE ?? path.join(os.homedir(), '.cache', 'ftp-workspace'), 'ftp-servers');
/** Every server's folder lives here, so a later run can find and end servers a crashed run left. */
const RUN_DIR = path.join(os.tmpdir(), 'ftpw-servers');
const START_ATTEMPTS = 5;
const GREETING_TIMEOUT_MS = 15_000;

const BINARIES = {
  vsftpd: '/usr/sbin/vsftpd',
  proftpd: path.join(CACHE_DIR, 'proftpd/usr/sbin/proftpd'),
  proftpdModules: path.join(CACHE_DIR, 'proftpd/usr/lib/proftpd'),
  pureFtpd: path.join(CACHE_DIR, 'pure-ftpd/usr/sbin/pure-ftpd'),
  purePw: path.join(CACHE_DIR, 'pure-ftpd/usr/bin/pure-pw'),
};

interface Ports {
  control: number;
  pasv: [number, number];
  /** Whole block held by this process: proftpd sends active data from control - 1. */
  block: [number, number];
}

interface ServerPlan {
  dir: string;
  home: string;
  host: string;
  ports: Ports;
  options: ServerOptions;
  account: { uid: number; gid: number };
  cert?: { certPath: string; keyPath: string };
}

interface Launch {
  command: string;
  args: string[];
  logPath: string;
}

const running = new Set<Handle>();
const heldPorts: Array<[number, number]> = [];
let prepared = false;

interface Handle {
  child: ChildProcess;
  dir: string;
  ports: Ports;
  exited: Promise<void>;
}

export async function startServer(kind: ServerKind, options: ServerOptions = {}): Promise<RunningServer> {
  prepareOnce();
  checkSupported(kind, options);
  const host = options.listenAddress ?? (options.ipv6 ? '::1' : '127.0.0.1');
  const account = ensureSystemUser();
  const cert = options.tls ? ensureCertificate() : undefined;
  let lastFailure = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const dir = fs.mkdtempSync(path.join(RUN_DIR, `${kind}-`));
    fs.chmodSync(dir, 0o755); // the FTP user must traverse it to reach its home
    let ports: Ports;
    try {
      ports = await reservePorts(host, options, dir);
    } catch (e) {
      removeDir(dir);
      throw e;
    }
    const home = path.join(dir, 'home');
    fs.mkdirSync(home);
    fs.chownSync(home, account.uid, account.gid);
    const plan: ServerPlan = { dir, home, host, ports, options, account, cert };
    let launch: Launch;
    try {
      launch = LAUNCHERS[kind](plan);
    } catch (e) {
      removeDir(dir);
      releasePorts(ports);
      throw e;
    }
    const handle = spawnServer(launch, plan);
    const outcome = await waitForGreeting(handle, plan);
    if (outcome === 'ready') {
      return toRunningServer(kind, plan, launch, handle, cert);
    }
    lastFailure = `${kind} did not start (attempt ${attempt}): ${outcome}\n${readFiles(launch.logPath, outputPath(dir))}`;
    await stopHandle(handle);
    // Only a port taken by someone else between our check and the server's bind is worth a retry.
    if (!/in use|could not bind|unable to bind|failed binding|bind\(\)/i.test(lastFailure)) break;
  }
  throw new Error(lastFailure);
}

export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((h) => stopHandle(h)));
}

function checkSupported(kind: ServerKind, options: ServerOptions): void {
  if (process.getuid?.() !== 0) {
    throw new Error('real FTP servers must be started as root (they chroot and switch users)');
  }
  if (kind === 'pure-ftpd' && options.tls === 'implicit') {
    throw new Error('pure-ftpd has no implicit TLS (Debian builds it without); use vsftpd or proftpd');
  }
  const needed = {
    vsftpd: [BINARIES.vsftpd],
    proftpd: [BINARIES.proftpd, path.join(BINARIES.proftpdModules, 'mod_tls.so')],
    'pure-ftpd': [BINARIES.pureFtpd, BINARIES.purePw],
  }[kind];
  for (const file of needed) {
    if (!fs.existsSync(file)) {
      throw new Error(`${file} is missing: run \`sudo scripts/install-ftp-servers.sh\` first`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Per-server configuration

const LAUNCHERS: Record<ServerKind, (plan: ServerPlan) => Launch> = {
  vsftpd: launchVsftpd,
  proftpd: launchProftpd,
  'pure-ftpd': launchPureFtpd,
};

function launchVsftpd(plan: ServerPlan): Launch {
  const { dir, home, host, ports, options } = plan;
  ensureVsftpdPamService();
  const empty = path.join(dir, 'empty');
  fs.mkdirSync(empty, { mode: 0o755 });
  const logPath = path.join(dir, 'vsftpd.log');
  const v6 = net.isIPv6(host);
  const lines = [
    'background=NO',
    'seccomp_sandbox=NO',
    v6 ? 'listen=NO' : 'listen=YES',
    v6 ? 'listen_ipv6=YES' : 'listen_ipv6=NO',
    v6 ? `listen_address6=${host}` : `listen_address=${host}`,
    `listen_port=${ports.control}`,
    'anonymous_enable=NO',
    'local_enable=YES',
    'write_enable=YES',
    'local_umask=022',
    'chroot_local_user=YES',
    'allow_writeable_chroot=YES',
    `local_root=${home}`,
    `secure_chroot_dir=${empty}`,
    `pam_service_name=${PAM_SERVICE}`,
    'userlist_enable=NO',
    'tcp_wrappers=NO',
    'port_enable=YES',
    'connect_from_port_20=NO',
    'pasv_enable=YES',
    `pasv_min_port=${ports.pasv[0]}`,
    `pasv_max_port=${ports.pasv[1]}`,
    'max_clients=100',
    `use_localtime=${options.timeZone ? 'YES' : 'NO'}`,
    'xferlog_enable=YES',
    'xferlog_std_format=NO',
    'log_ftp_protocol=YES',
    'syslog_enable=NO',
    `vsftpd_log_file=${logPath}`,
  ];
  if (options.wrongPasvAddress) lines.push(`pasv_address=${options.wrongPasvAddress}`);
  if (options.maxPerIp !== undefined) lines.push(`max_per_ip=${options.maxPerIp}`);
  if (options.noChmod) lines.push('chmod_enable=NO');
  if (options.tls && plan.cert) {
    lines.push(
      'ssl_enable=YES',
      `rsa_cert_file=${plan.cert.certPath}`,
      `rsa_private_key_file=${plan.cert.keyPath}`,
      'force_local_logins_ssl=YES',
      'force_local_data_ssl=YES',
      'ssl_ciphers=HIGH',
      'require_ssl_reuse=YES',
      `implicit_ssl=${options.tls === 'implicit' ? 'YES' : 'NO'}`,
    );
  }
  const config = path.join(dir, 'vsftpd.conf');
  fs.writeFileSync(config, lines.join('\n') + '\n', { mode: 0o600 });
  return { command: BINARIES.vsftpd, args: [config], logPath };
}

function launchProftpd(plan: ServerPlan): Launch {
  const { dir, home, host, ports, options } = plan;
  const logPath = path.join(dir, 'proftpd.log');
  const lines = [
    'ServerType standalone',
    'ServerName "ftpw proftpd"',
    `Port ${ports.control}`,
    `DefaultAddress ${host}`,
    'SocketBindTight on',
    `UseIPv6 ${net.isIPv6(host) ? 'on' : 'off'}`,
    'User nobody',
    'Group nogroup',
    `PidFile ${path.join(dir, 'proftpd.pid')}`,
    `ScoreboardFile ${path.join(dir, 'proftpd.scoreboard')}`,
    `ModulePath ${BINARIES.proftpdModules}`,
    'ControlsEngine off',
    'WtmpLog off',
    'AuthPAM off',
    'AuthOrder mod_auth_unix.c',
    'RequireValidShell off',
    'UseFtpUsers off',
    'DelayEngine off',
    'UseReverseDNS off',
    `DefaultRoot ${home}`,
    'AllowOverwrite on',
    'Umask 022',
    `PassivePorts ${ports.pasv[0]} ${ports.pasv[1]}`,
    'MaxInstances 100',
    `SystemLog ${logPath}`,
    `TransferLog ${path.join(dir, 'xfer.log')}`,
    '<Limit SITE_CHMOD>',
    '  AllowAll',
    '</Limit>',
  ];
  if (options.wrongPasvAddress) lines.push(`MasqueradeAddress ${options.wrongPasvAddress}`);
  // MaxClientsPerHost would refuse at USER with 530; MaxConnectionsPerHost refuses on connect with 421.
  if (options.maxPerIp !== undefined) lines.push(`MaxConnectionsPerHost ${options.maxPerIp}`);
  if (options.storeRestart) lines.push('AllowStoreRestart on');
  if (options.digest) lines.push('LoadModule mod_digest.c', '<IfModule mod_digest.c>', '  DigestEngine on', '</IfModule>');
  if (options.tls && plan.cert) {
    lines.push(
      'LoadModule mod_tls.c',
      '<IfModule mod_tls.c>',
      '  TLSEngine on',
      '  TLSRequired on',
      '  TLSProtocol TLSv1.2 TLSv1.3',
      '  TLSCipherSuite HIGH',
      `  TLSRSACertificateFile ${plan.cert.certPath}`,
      `  TLSRSACertificateKeyFile ${plan.cert.keyPath}`,
      '  TLSVerifyClient off',
      `  TLSLog ${path.join(dir, 'tls.log')}`,
      // Data-channel session reuse is required by default, as with vsftpd.
      options.tls === 'implicit' ? '  TLSOptions UseImplicitSSL' : '',
      '</IfModule>',
    );
  }
  const config = path.join(dir, 'proftpd.conf');
  fs.writeFileSync(config, lines.filter(Boolean).join('\n') + '\n', { mode: 0o600 });
  return { command: BINARIES.proftpd, args: ['-n', '-q', '-c', config], logPath };
}

function launchPureFtpd(plan: ServerPlan): Launch {
  const { dir, home, host, ports, options, account } = plan;
  const passwdFile = path.join(dir, 'pureftpd.passwd');
  const dbFile = path.join(dir, 'pureftpd.pdb');
  // Written by hand rather than with `pure-pw useradd`: that hashes with argon2id at a cost that
  // makes every login take ~3 s of CPU here. pure-ftpd accepts any crypt(3) hash; the `/./` ends
  // the chroot part of the home.
  const fields = [SYSTEM_USER, cheapPasswordHash(), account.uid, account.gid, '', `${home}/./`, ...Array(12).fill('')];
  fs.writeFileSync(passwdFile, fields.join(':') + '\n', { mode: 0o600 });
  execFileSync(BINARIES.purePw, ['mkdb', dbFile, '-f', passwdFile], { stdio: 'pipe' });
  const args = [
    '-S', `${host},${ports.control}`,
    '-p', `${ports.pasv[0]}:${ports.pasv[1]}`,
    '-l', `puredb:${dbFile}`,
    '-A', // chroot everyone
    '-E', // no anonymous logins
    '-H', // no reverse DNS
    // pure-ftpd caps clients at half the passive range size whatever -c says.
    '-c', String(Math.floor((ports.pasv[1] - ports.pasv[0] + 1) / 2)),
    '-g', path.join(dir, 'pure-ftpd.pid'),
    '-O', `clf:${path.join(dir, 'xfer.log')}`,
  ];
  if (!net.isIPv6(host)) args.push('-4');
  if (options.wrongPasvAddress) args.push('-P', options.wrongPasvAddress);
  if (options.maxPerIp !== undefined) args.push('-C', String(options.maxPerIp));
  if (options.tls && plan.cert) {
    // -Y 3: TLS required on control and data connections.
    args.push('-Y', '3', '-2', `${plan.cert.certPath},${plan.cert.keyPath}`, '-J', 'HIGH');
  }
  // pure-ftpd logs only to syslog, which this machine does not run: stdout/stderr is all there is.
  return { command: BINARIES.pureFtpd, args, logPath: outputPath(dir) };
}

function ensureVsftpdPamService(): void {
  // Debian's /etc/pam.d/vsftpd needs a login shell and /etc/ftpusers; the test user has neither.
  const file = `/etc/pam.d/${PAM_SERVICE}`;
  const content = [
    '# FTP Workspace test servers (test/support/realServers.ts): password check only.',
    'auth     required pam_unix.so',
    'account  required pam_unix.so',
    'session  required pam_permit.so',
    '',
  ].join('\n');
  if (readIfExists(file) !== content) fs.writeFileSync(file, content, { mode: 0o644 });
}

// ---------------------------------------------------------------------------------------------
// Process life cycle

function spawnServer(launch: Launch, plan: ServerPlan): Handle {
  const out = fs.openSync(outputPath(plan.dir), 'a');
  const [command, args] = plan.options.netns
    ? ['ip', ['netns', 'exec', plan.options.netns, launch.command, ...launch.args]]
    : [launch.command, launch.args];
  // Its own process group, so stop() also ends the per-session children it forks.
  const env = plan.options.timeZone ? { ...process.env, TZ: plan.options.timeZone } : process.env;
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const handle: Handle = { child, dir: plan.dir, ports: plan.ports, exited };
  running.add(handle);
  // The start time tells this server from a later process that reuses its pid.
  const owner: OwnerRecord = { ownerPid: process.pid, serverPid: child.pid ?? -1, serverStart: processStartTime(child.pid ?? -1) };
  fs.writeFileSync(path.join(plan.dir, 'owner.json'), JSON.stringify(owner));
  child.unref();
  return handle;
}

/** Resolves 'ready' once a 220 greeting arrived, or a reason why not. */
async function waitForGreeting(handle: Handle, plan: ServerPlan): Promise<string> {
  // The probe runs as its own process so that it can run inside the server's network namespace.
  const probeArgs = ['-e', PROBE_SCRIPT, plan.host, String(plan.ports.control), plan.options.tls === 'implicit' ? '1' : '0', String(GREETING_TIMEOUT_MS)];
  const [command, args] = plan.options.netns
    ? ['ip', ['netns', 'exec', plan.options.netns, process.execPath, ...probeArgs]]
    : [process.execPath, probeArgs];
  const probe = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let probeErr = '';
  probe.stderr?.on('data', (d: Buffer) => (probeErr += d.toString()));
  const probeDone = new Promise<number>((resolve) => probe.once('exit', (code) => resolve(code ?? 1)));
  const result = await Promise.race([
    probeDone.then((code) => (code === 0 ? 'ready' : `no greeting: ${probeErr.trim()}`)),
    handle.exited.then(() => `server exited with code ${handle.child.exitCode ?? handle.child.signalCode}`),
  ]);
  if (probe.exitCode === null) probe.kill('SIGKILL');
  return result;
}

/**
 * Connects until a 220 arrives, then QUITs and waits for the server to close, so the probe no
 * longer counts against a per-address connection limit when the caller starts.
 */
const PROBE_SCRIPT = `
const net = require('net'), tls = require('tls');
const [host, port, implicit, timeoutMs] = process.argv.slice(1);
const deadline = Date.now() + Number(timeoutMs);
function attempt() {
  const opts = { host, port: Number(port) };
  const s = implicit === '1' ? tls.connect({ ...opts, rejectUnauthorized: false }) : net.connect(opts);
  let buf = '', state = 'waiting';
  const retry = (why) => {
    if (state !== 'waiting') return;
    state = 'failed';
    s.destroy();
    if (Date.now() > deadline) { process.stderr.write('timed out: ' + why + ' ' + buf); process.exit(1); }
    setTimeout(attempt, 50);
  };
  s.setEncoding('latin1');
  s.setTimeout(5000, () => retry('no reply'));
  s.on('data', (d) => {
    buf += d;
    if (state !== 'waiting') return;
    if (/(^|\\n)220 [^\\n]*\\n/.test(buf)) { state = 'greeted'; s.end('QUIT\\r\\n'); }
    else if (/(^|\\n)[45]\\d\\d [^\\n]*\\n/.test(buf)) { process.stderr.write(buf); process.exit(2); }
  });
  s.on('error', (e) => retry(e.message));
  s.on('close', () => { if (state === 'greeted') process.exit(0); retry('closed'); });
}
attempt();
`;

async function stopHandle(handle: Handle): Promise<void> {
  if (!running.has(handle)) return;
  running.delete(handle);
  killGroup(handle.child.pid, 'SIGTERM');
  const gone = await Promise.race([handle.exited.then(() => true), delay(3000).then(() => false)]);
  // Session children may outlive the listener; the group kill catches them either way.
  killGroup(handle.child.pid, 'SIGKILL');
  if (!gone) await Promise.race([handle.exited, delay(2000)]);
  removeDir(handle.dir);
  releasePorts(handle.ports);
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function stopAllSync(): void {
  for (const handle of running) {
    killGroup(handle.child.pid, 'SIGKILL');
    removeDir(handle.dir);
  }
  running.clear();
}

function prepareOnce(): void {
  if (prepared) return;
  prepared = true;
  fs.mkdirSync(RUN_DIR, { recursive: true, mode: 0o755 });
  fs.chmodSync(RUN_DIR, 0o755);
  endServersOfDeadRuns();
  process.on('exit', stopAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      stopAllSync();
      process.removeListener(signal, onSignal);
      // Without other handlers, die of the signal as the process would have.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Ends servers whose test process died without stopping them (crash, SIGKILL). */
function endServersOfDeadRuns(): void {
  for (const name of fs.readdirSync(RUN_DIR)) {
    const dir = path.join(RUN_DIR, name);
    let owner: OwnerRecord;
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8'));
    } catch {
      // a folder being set up right now by another run, or debris without a server
      if (Date.now() - fs.statSync(dir).mtimeMs > 60_000) removeDir(dir);
      continue;
    }
    if (isAlive(owner.ownerPid)) continue;
    // Servers rewrite their command lines, so the start time is what identifies them.
    if (owner.serverStart !== undefined && processStartTime(owner.serverPid) === owner.serverStart) {
      killGroup(owner.serverPid, 'SIGKILL');
    }
    removeDir(dir);
  }
}

interface OwnerRecord {
  ownerPid: number;
  serverPid: number;
  serverStart?: string;
}

/** Field 22 of /proc/PID/stat: clock ticks since boot when the process started. */
function processStartTime(pid: number): string | undefined {
  const stat = readIfExists(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** Whether a process exists (EPERM: it does, but belongs to someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// Ports

/**
 * A block of consecutive ports: [control - 1 (proftpd's active source port), control, passive
 * range]. Picked at random below the kernel's ephemeral range (so clients' outgoing ports never
 * take them), not overlapping any block held by this process or recorded by a live server of
 * another process, and checked free by binding each. Recorded in the server's folder at once.
 */
async function reservePorts(host: string, options: ServerOptions, dir: string): Promise<Ports> {
  const count = options.passivePortCount ?? 32;
  const size = count + 2;
  const [low, high] = reservableRange();
  for (let tries = 0; tries < 200; tries++) {
    const start = low + Math.floor(Math.random() * (high - low - size));
    const block: [number, number] = [start, start + size - 1];
    const overlaps = ([a, b]: [number, number]): boolean => block[0] <= b && a <= block[1];
    if (heldPorts.some(overlaps) || blocksOfOtherProcesses().some(overlaps)) continue;
    // Held before the asynchronous check below, so that concurrent starts never pick it too.
    const ports: Ports = { control: start + 1, pasv: [start + 2, block[1]], block };
    heldPorts.push(block);
    fs.writeFileSync(path.join(dir, 'ports.json'), JSON.stringify(block));
    // Inside a namespace the ports cannot be checked from here; the start retry covers a clash.
    if (options.netns || (await allFree(host, block))) return ports;
    releasePorts(ports);
  }
  throw new Error('no free block of ports found');
}

/** Passive ports are bound only on demand, so a port check alone would not see them. */
function blocksOfOtherProcesses(): Array<[number, number]> {
  const blocks: Array<[number, number]> = [];
  for (const name of fs.readdirSync(RUN_DIR)) {
    const text = readIfExists(path.join(RUN_DIR, name, 'ports.json'));
    if (!text) continue;
    try {
      blocks.push(JSON.parse(text));
    } catch {
      // being written right now
    }
  }
  return blocks;
}

function releasePorts(ports: Ports): void {
  const i = heldPorts.findIndex(([a, b]) => a === ports.block[0] && b === ports.block[1]);
  if (i >= 0) heldPorts.splice(i, 1);
}

function reservableRange(): [number, number] {
  const text = readIfExists('/proc/sys/net/ipv4/ip_local_port_range') ?? '32768 60999';
  const [ephemeralLow, ephemeralHigh] = text.trim().split(/\s+/).map(Number);
  if (ephemeralLow - 10_000 >= 2_000) return [10_000, ephemeralLow - 1];
  return [ephemeralHigh + 1, 65_535];
}

async function allFree(host: string, [first, last]: [number, number]): Promise<boolean> {
  for (let port = first; port <= last; port++) {
    if (!(await canBind(host, port))) return false;
  }
  return true;
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

// ---------------------------------------------------------------------------------------------
// Accounts and certificates

let account: { uid: number; gid: number } | undefined;
let passwordHash: string | undefined;

/**
 * The system user vsftpd and proftpd log in as (pure-ftpd's virtual user maps onto it too). Each
 * server chroots it into its own home; its passwd home only has to exist, as vsftpd enters it
 * before the chroot.
 */
function ensureSystemUser(): { uid: number; gid: number } {
  if (account) return account;
  fs.mkdirSync(SYSTEM_USER_HOME, { recursive: true, mode: 0o755 });
  const existing = lookupUser();
  if (!existing) {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', SYSTEM_USER_HOME, '--shell', '/usr/sbin/nologin', SYSTEM_USER], { stdio: 'pipe' });
    } catch (e) {
      // Another test process may have created it at the same moment.
      if (!lookupUser()) throw new Error(`useradd ${SYSTEM_USER} failed: ${(e as Error).message}`);
    }
  } else if (existing.home !== SYSTEM_USER_HOME) {
    execFileSync('usermod', ['--home', SYSTEM_USER_HOME, SYSTEM_USER], { stdio: 'pipe' });
  }
  // Set every run: cheap, and a password changed by hand would otherwise break every login.
  execFileSync('chpasswd', [], { input: `${SYSTEM_USER}:${PASSWORD}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
  const found = lookupUser();
  if (!found) throw new Error(`user ${SYSTEM_USER} not found after useradd`);
  account = { uid: found.uid, gid: found.gid };
  return account;
}

function lookupUser(): { uid: number; gid: number; home: string } | undefined {
  const line = (readIfExists('/etc/passwd') ?? '').split('\n').find((l) => l.startsWith(`${SYSTEM_USER}:`));
  if (!line) return undefined;
  const fields = line.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] };
}

function cheapPasswordHash(): string {
  passwordHash ??= execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: PASSWORD, encoding: 'utf8' }).trim();
  return passwordHash;
}

/** One self-signed certificate for all servers (the fault server's too), made once and kept in the cache folder. */
export function ensureCertificate(): { certPath: string; keyPath: string } {
  const tlsDir = path.join(CACHE_DIR, 'tls');
  const certPath = path.join(tlsDir, 'cert.pem');
  const keyPath = path.join(tlsDir, 'key.pem');
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) return { certPath, keyPath };
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  // Made in a side folder and renamed into place, so concurrent runs never see half a pair.
  const tmp = fs.mkdtempSync(path.join(CACHE_DIR, 'tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-sha256',
    '-keyout', path.join(tmp, 'key.pem'), '-out', path.join(tmp, 'cert.pem'),
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
  ], { stdio: 'pipe' });
  try {
    fs.renameSync(tmp, tlsDir);
  } catch {
    removeDir(tmp); // another run won the race
  }
  return { certPath, keyPath };
}

// ---------------------------------------------------------------------------------------------
// Result

function toRunningServer(
  kind: ServerKind, plan: ServerPlan, launch: Launch, handle: Handle,
  cert: { certPath: string; keyPath: string } | undefined,
): RunningServer {
  const certPem = cert ? fs.readFileSync(cert.certPath, 'utf8') : undefined;
  const urlHost = net.isIPv6(plan.host) ? `[${plan.host}]` : plan.host;
  const scheme = plan.options.tls ? 'ftps' : 'ftp';
  return {
    kind,
    host: plan.host,
    port: plan.ports.control,
    user: SYSTEM_USER,
    password: PASSWORD,
    root: plan.home,
    tls: plan.options.tls,
    certPem,
    certFingerprint256: certPem ? new X509Certificate(certPem).fingerprint256 : undefined,
    pasvPorts: plan.ports.pasv,
    logPath: launch.logPath,
    outputPath: outputPath(plan.dir),
    pid: handle.child.pid ?? -1,
    uid: plan.account.uid,
    gid: plan.account.gid,
    url(p = '/') {
      const withSlash = p.startsWith('/') ? p : `/${p}`;
      return `${scheme}://${encodeURIComponent(SYSTEM_USER)}@${urlHost}:${plan.ports.control}${withSlash}`;
    },
    giveToUser(relativePath = '.') {
      chownTree(path.resolve(plan.home, relativePath), plan.account.uid, plan.account.gid);
    },
    readLogs() {
      return readFiles(launch.logPath, outputPath(plan.dir));
    },
    stop: () => stopHandle(handle),
  };
}

function chownTree(target: string, uid: number, gid: number): void {
  // lchown: a symbolic link (perhaps dangling) is handed over itself, its target never through it.
  fs.lchownSync(target, uid, gid);
  if (fs.lstatSync(target).isDirectory()) {
    for (const name of fs.readdirSync(target)) chownTree(path.join(target, name), uid, gid);
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function outputPath(dir: string): string {
  return path.join(dir, 'output.log');
}

function readFiles(...files: string[]): string {
  const unique = [...new Set(files)];
  return unique.map((f) => `--- ${f}\n${readIfExists(f) ?? '(missing)'}`).join('\n');
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function removeDir(dir: string): void {
  if (process.env.FTPW_KEEP_SERVER_DIRS) return;
  fs.rmSync(dir, { recursive: true, force: true });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
