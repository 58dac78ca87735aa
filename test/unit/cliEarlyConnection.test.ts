/**
 * Which command lines the launcher connects for before the command line proper has loaded: only
 * those that will connect at once, straight to the server, with nothing to ask first.
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { earlyTarget, startEarlyConnection, takeEarlyConnection } from '../../src/cliEarlyConnection';

const env = { FTP_PASSWORD: 'secret' };
const files = new Set(['site.tar']);
const target = (argv: string[], e: NodeJS.ProcessEnv = env) => earlyTarget(argv, e, (p) => files.has(p));

describe('the connection the launcher starts', () => {
  it('connects for ls, get, put, rm, mkdir, chmod, find and grep, to the URL\'s server', () => {
    assert.deepEqual(target(['ls', 'ftp://u@ftp.example.com/site/']), { host: 'ftp.example.com', port: 21 });
    assert.deepEqual(target(['get', 'ftp://u@10.0.0.5:2121/a.txt', 'a.txt']), { host: '10.0.0.5', port: 2121 });
    assert.deepEqual(target(['put', 'site.tar', 'ftp://u@host/up/site.tar']), { host: 'host', port: 21 });
    assert.deepEqual(target(['rm', 'ftp://u@host/x']), { host: 'host', port: 21 });
    assert.deepEqual(target(['mkdir', 'ftp://u@host/x']), { host: 'host', port: 21 });
    assert.deepEqual(target(['chmod', '644', 'ftp://u@host/x']), { host: 'host', port: 21 });
    assert.deepEqual(target(['find', 'ftp://u@host/', '--name', '*.php']), { host: 'host', port: 21 });
    assert.deepEqual(target(['grep', 'needle', 'ftp://u@host/src']), { host: 'host', port: 21 });
  });

  it('takes the URL from the command\'s own place, not the first ftp:// on the line', () => {
    // A pattern that is itself a URL must not send us to that host.
    assert.deepEqual(target(['grep', 'ftp://old.example.com', 'ftp://u@new.example.com/site']), { host: 'new.example.com', port: 21 });
    // An option's value is not an argument: --mode takes "active".
    assert.deepEqual(target(['--mode', 'active', 'ls', 'ftp://u@host/']), { host: 'host', port: 21 });
    assert.deepEqual(target(['ls', '--timeout', '5', 'ftp://u@host/']), { host: 'host', port: 21 });
  });

  it('uses the port the connection will use: the URL\'s, 21, or 990 for implicit TLS', () => {
    assert.deepEqual(target(['ls', 'ftps://u@host/']), { host: 'host', port: 21 });
    assert.deepEqual(target(['ls', 'ftps://u@host/', '--implicit-tls']), { host: 'host', port: 990 });
    assert.deepEqual(target(['ls', 'ftps://u@host:6990/', '--implicit-tls']), { host: 'host', port: 6990 });
    assert.deepEqual(target(['ls', 'ftp://u@[::1]:2121/']), { host: '::1', port: 2121 });
  });

  it('connects when the password is there without asking: in the URL, in FTP_PASSWORD, or anonymous', () => {
    assert.deepEqual(target(['ls', 'ftp://u:pw@host/'], {}), { host: 'host', port: 21 });
    assert.deepEqual(target(['ls', 'ftp://host/'], {}), { host: 'host', port: 21 });
    assert.deepEqual(target(['ls', 'ftp://anonymous@host/'], {}), { host: 'host', port: 21 });
    // A person would type the password first: a server drops a client that stays silent that long.
    assert.equal(target(['ls', 'ftp://u@host/'], {}), undefined);
  });

  it('starts nothing through a proxy, for help, for a put of a missing file, or for a command line the parser refuses', () => {
    assert.equal(target(['ls', 'ftp://u@host/', '--proxy', 'socks5://proxy:1080']), undefined);
    assert.equal(target(['ls', 'ftp://u@host/', '--proxy=http://proxy:3128']), undefined);
    assert.equal(target(['ls', 'ftp://u@host/', '--help']), undefined);
    // diagnose reports how long its login took, from the connect on.
    assert.equal(target(['diagnose', 'ftp://u@host/']), undefined);
    assert.equal(target(['help']), undefined);
    assert.equal(target(['put', 'missing.tar', 'ftp://u@host/up/']), undefined);
    assert.equal(target(['lss', 'ftp://u@host/']), undefined);
    // A mistake the parser reports connects nothing either: an unknown option, one the command does not take, an argument too many.
    assert.equal(target(['get', 'ftp://u@host/a', '--mdoe', 'active']), undefined);
    assert.equal(target(['ls', 'ftp://u@host/', '--resume']), undefined);
    assert.equal(target(['ls', 'ftp://u@host/', 'extra']), undefined);
    assert.equal(target(['ls', 'sftp://u@host/']), undefined);
    assert.equal(target(['ls', 'not a url']), undefined);
    assert.equal(target(['ls']), undefined);
    assert.equal(target([]), undefined);
    assert.equal(target(['ls', 'ftp://u@host:99999/']), undefined);
    // Left to the command line proper to report, in its own words: the launcher does not fail on it.
    assert.equal(startEarlyConnection(['ls', 'ftp://u%zz@host/'], env), false);
  });
});

describe('handing the early connection over', () => {
  let server: net.Server;
  let port: number;
  before(async () => {
    server = net.createServer((s) => s.end('220 hello\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server.close());

  it('gives the socket once, to the connection for the same server, with what the server sent in it', async () => {
    assert.equal(startEarlyConnection(['ls', `ftp://127.0.0.1:${port}/`], {}), true);
    assert.equal(takeEarlyConnection('127.0.0.1', port + 1), undefined, 'another server');
    const socket = takeEarlyConnection('127.0.0.1', port);
    assert.ok(socket);
    assert.equal(takeEarlyConnection('127.0.0.1', port), undefined, 'taken already');
    const [greeting] = await once(socket, 'data') as [Buffer];
    assert.equal(greeting.toString(), '220 hello\r\n');
    socket.destroy();
  });

  it('gives nothing once it failed, so that the command line connects anew (and reports that connect)', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const refused = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    assert.equal(startEarlyConnection(['ls', `ftp://127.0.0.1:${refused}/`], {}), true);
    // It fails on its own, and quietly: no listener of ours, no uncaught error.
    await new Promise<void>((resolve) => { const wait = () => (takeable(refused) ? setImmediate(wait) : resolve()); wait(); });
    assert.equal(takeEarlyConnection('127.0.0.1', refused), undefined);
  });

  it('starts nothing when the command line names no server to connect to at once', () => {
    assert.equal(startEarlyConnection(['ls', 'ftp://someone@127.0.0.1/'], {}), false);
    assert.equal(takeEarlyConnection('127.0.0.1', 21), undefined);
  });
});

/** Whether a socket to that port is held and not yet destroyed (looked at without taking it). */
function takeable(port: number): boolean {
  const held = (globalThis as Record<symbol, { port: number; socket: net.Socket } | undefined>)[Symbol.for('ftp-workspace.early-connection')];
  return held !== undefined && held.port === port && !held.socket.destroyed;
}
