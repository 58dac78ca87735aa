/**
 * Runs in plain Node before VS Code starts (called by test/vscode/runExtensionTests.ts): starts the
 * FTP servers the extension tests use, and tells the runner what to open, which settings to write
 * and what the extension host needs to know.
 *
 * Servers: real vsftpd (profile `vsftpd`, passive mode) and pure-ftpd (profile `pureftpd`, active
 * mode), each with a password login, plus the embedded demo server (ftp-srv, profile `demo`,
 * anonymous). The window opens a multi-root workspace with one folder per server. The profile
 * `proxied` reaches vsftpd through a real SOCKS5 proxy (danted, test/support/proxyLab.ts) with a
 * user and password; the proxy's URL, password and log are in FTPW_TEST_PROXY_*.
 *
 * A local folder (a fresh temp folder, absolute path in FTPW_TEST_LINKED_LOCAL) is linked to
 * `ftp://vsftpd/linked` through `ftpWorkspace.links` in the user settings, with upload on save and
 * ignore patterns (LINK_IGNORE), for the linked-folder tests (sync.test.ts).
 *
 * Passwords never go into settings. The tests hand them to the extension through its public API
 * (`exports.setPassword`, src/vscode/api.ts); the extension host learns them from `env`, together
 * with each server's port and its folder on this disk (an independent view of what the server has).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as DemoServerModule from '../../scripts/demo-server.mjs';
import { PROXY_PASSWORD, startProxyLab } from '../support/proxyLab';
import { startServer, type RunningServer } from '../support/realServers';
import type { ExtensionTestSetup } from '../vscode/runExtensionTests';
import { ENV, FLAKY_PORT_ENV, FLAKY_PROFILE, FOLDERS, PROXIED_PROFILE } from './servers';
import * as net from 'node:net';

/** Where on the vsftpd server the linked folder goes, and what the link leaves out. */
const LINK_REMOTE_PATH = '/linked';
const LINK_IGNORE = ['*.log', 'build/'];

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export async function setup(): Promise<ExtensionTestSetup> {
  const stops: Array<() => Promise<void>> = [];
  const teardown = async (): Promise<void> => {
    await Promise.allSettled(stops.map((stop) => stop()));
  };
  try {
    const started = await Promise.allSettled([startServer('vsftpd'), startServer('pure-ftpd')]);
    for (const s of started) if (s.status === 'fulfilled') stops.push(() => s.value.stop());
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [vsftpd, pureftpd] = started.map((s) => (s as PromiseFulfilledResult<RunningServer>).value);

    // A SOCKS5 proxy (danted) for the profile "proxied": vsftpd by the name only the proxy resolves for it.
    const lab = await startProxyLab();
    stops.push(async () => lab.stop());

    const { startDemoServer } = (await import(path.join(REPO_ROOT, 'scripts', 'demo-server.mjs'))) as typeof DemoServerModule;
    const demo = await startDemoServer({ port: 0, pasvRange: demoPassiveRange([vsftpd, pureftpd]) });
    stops.push(() => demo.stop());

    const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-workspace-'));
    stops.push(async () => fs.rmSync(workspaceDir, { recursive: true, force: true }));
    const workspace = path.join(workspaceDir, 'ftp-servers.code-workspace');
    fs.writeFileSync(workspace, JSON.stringify({ folders: FOLDERS.map((f) => ({ uri: f.uri, name: f.name })) }, null, 2));

    const linkedLocal = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-ext-linked-'));
    stops.push(async () => fs.rmSync(linkedLocal, { recursive: true, force: true }));

    const env: Record<string, string> = {
      FTPW_TEST_LINKED_LOCAL: linkedLocal,
      FTPW_TEST_DEMO_HOST: demo.host,
      FTPW_TEST_DEMO_PORT: String(demo.port),
      FTPW_TEST_DEMO_ROOT: demo.root,
      FTPW_TEST_PROXY_URL: lab.socks.url,
      FTPW_TEST_PROXY_PASSWORD: PROXY_PASSWORD,
      FTPW_TEST_PROXY_LOG: lab.socks.logPath,
      [FLAKY_PORT_ENV]: String(await freePort()),
    };
    for (const [name, server] of [['vsftpd', vsftpd], ['pureftpd', pureftpd]] as const) {
      env[ENV.port(name)] = String(server.port);
      env[ENV.root(name)] = server.root;
      env[ENV.password(name)] = server.password;
      env[ENV.owner(name)] = `${server.uid}:${server.gid}`;
    }
    return {
      workspace,
      settings: {
        'ftpWorkspace.servers': [
          { name: 'demo', host: demo.host, port: demo.port, user: 'anonymous' },
          { name: 'vsftpd', host: vsftpd.host, port: vsftpd.port, user: vsftpd.user, mode: 'passive' },
          { name: 'pureftpd', host: pureftpd.host, port: pureftpd.port, user: pureftpd.user, mode: 'active' },
          { name: PROXIED_PROFILE, host: 'localhost', port: vsftpd.port, user: vsftpd.user, mode: 'auto', proxy: lab.socks.url },
          { name: FLAKY_PROFILE, host: '127.0.0.1', port: Number(env[FLAKY_PORT_ENV]), user: vsftpd.user, mode: 'passive' },
        ],
        'ftpWorkspace.links': [{ local: linkedLocal, remote: `ftp://vsftpd${LINK_REMOTE_PATH}`, ignore: [...LINK_IGNORE], uploadOnSave: true }],
      },
      env,
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/**
 * A port nothing listens on now, for the flaky profile's forwarder to take in the test. Above the
 * range the system hands out for port 0: a port from there, free a moment ago, was once handed to
 * code-server before the forwarder could take it. The real servers' blocks lie below that range.
 */
async function freePort(): Promise<number> {
  let high = 60_999;
  try {
    high = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[1]) || high;
  } catch {
    // not Linux: its usual range
  }
  for (let tries = 0; tries < 100 && high < 65_000; tries++) {
    const port = high + 1 + Math.floor(Math.random() * (65_535 - high));
    if (await canListen(port)) return port;
  }
  // No room above it: one the system gives, as before.
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * The demo server binds its passive ports only on demand, so the real servers' port check cannot
 * see them: keep its range clear of theirs.
 */
function demoPassiveRange(servers: RunningServer[]): [number, number] {
  for (const low of [31000, 30000, 29000]) {
    const high = low + 49;
    if (servers.every((s) => s.pasvPorts[1] + 1 < low || high < s.pasvPorts[0] - 1)) return [low, high];
  }
  throw new Error('no free passive range for the demo server');
}
