/**
 * Connect first, then ask (issue 22): a password given as a function is asked for only once the
 * server has greeted and TLS, certificate check included, is up — never for a server that cannot
 * be reached, refuses us or fails TLS — and only once per session, reconnects included.
 */
import * as assert from 'node:assert/strict';
import { FtpClient } from '../../src/ftp/client';
import { isFtpError } from '../../src/ftp/errors';
import type { ConnectOptions, FtpEvent } from '../../src/ftp/types';
import { FaultServer } from '../support/faultServer';
import { startServer, stopAllServers, type RunningServer } from '../support/realServers';

/** A password function that records when it was asked, among the session's events. */
function askingPassword(answer: string | undefined) {
  const timeline: string[] = [];
  let asked = 0;
  const options: Pick<ConnectOptions, 'password' | 'onEvent'> = {
    password: async () => {
      asked++;
      timeline.push('asked for the password');
      return answer;
    },
    onEvent: (e: FtpEvent) => {
      if (e.type === 'reply') timeline.push(`< ${e.code}`);
      if (e.type === 'command') timeline.push(`> ${e.text.split(' ')[0]}`);
      if (e.type === 'tls') timeline.push(`tls ${e.channel}`);
    },
  };
  return { options, timeline, asked: () => asked };
}

async function connectFailure(options: ConnectOptions): Promise<unknown> {
  try {
    const client = await FtpClient.connect(options);
    await client.close();
  } catch (err) {
    return err;
  }
  assert.fail('the connect succeeded');
}

describe('password asked after the greeting (fault server)', function () {
  this.timeout(30_000);
  let server: FaultServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('asks once, after the 220 and before USER, and a reconnect does not ask again', async () => {
    server = await FaultServer.start({ files: { '/a.txt': 'A' } });
    const pw = askingPassword(server.password);
    const client = await FtpClient.connect({ host: server.host, port: server.port, user: server.user, ...pw.options });
    try {
      assert.deepEqual(pw.timeline.slice(0, 4), ['< 220', 'asked for the password', '> USER', '> PASS']);
      server.sessions[0].drop();
      await new Promise<void>((resolve) => client.once('close', () => resolve()));
      assert.deepEqual(await client.list('/').then((l) => l.map((e) => e.name)), ['a.txt']);
      assert.equal(server.count('PASS'), 2, 'logged in again after the drop');
      assert.equal(pw.asked(), 1);
    } finally {
      await client.close();
    }
  });

  it('never asks for a server where nothing listens', async () => {
    const port = await FaultServer.unusedPort();
    const pw = askingPassword('secret');
    const err = await connectFailure({ host: '127.0.0.1', port, user: 'user', ...pw.options });
    assert.ok(isFtpError(err, 'connect'), String(err));
    assert.match(err.message, /nothing listens on that port/);
    assert.equal(pw.asked(), 0);
  });

  it('never asks when the server greets with "421 too many connections"', async () => {
    server = await FaultServer.start({ greeting: '421 Too many connections from your address.\r\n' });
    const pw = askingPassword('secret');
    const err = await connectFailure({ host: server.host, port: server.port, user: server.user, ...pw.options });
    assert.ok(isFtpError(err, 'busy'), String(err));
    assert.equal(pw.asked(), 0);
  });

  it('never asks when explicit FTPS is refused (AUTH TLS answered 5xx)', async () => {
    server = await FaultServer.start();
    const pw = askingPassword('secret');
    const err = await connectFailure({ host: server.host, port: server.port, user: server.user, security: 'explicit', ...pw.options });
    assert.ok(isFtpError(err, 'tls'), String(err));
    assert.equal(pw.asked(), 0);
    assert.equal(server.count('USER'), 0);
  });

  it('a password function that gives none fails the connect with a login error, and sends no USER', async () => {
    server = await FaultServer.start();
    const pw = askingPassword(undefined);
    const err = await connectFailure({ host: server.host, port: server.port, user: server.user, ...pw.options });
    assert.ok(isFtpError(err, 'login'), String(err));
    assert.match(err.message, /No password given for user@127\.0\.0\.1/);
    assert.equal(server.count('USER'), 0);
  });
});

describe('password asked after the TLS certificate check (vsftpd, explicit FTPS)', function () {
  this.timeout(120_000);
  let server: RunningServer;
  before(async () => {
    server = await startServer('vsftpd', { tls: 'explicit' });
  });
  after(() => stopAllServers());

  it('asks after the certificate was accepted, never when it is refused', async () => {
    const refused = askingPassword(server.password);
    const err = await connectFailure({
      host: server.host, port: server.port, user: server.user, security: 'explicit',
      tls: { onUntrustedCertificate: () => false }, ...refused.options,
    });
    assert.ok(isFtpError(err, 'tls'), String(err));
    assert.equal(refused.asked(), 0);

    const trusted = askingPassword(server.password);
    const client = await FtpClient.connect({
      host: server.host, port: server.port, user: server.user, security: 'explicit',
      tls: { trustedFingerprints: [server.certFingerprint256!] }, ...trusted.options,
    });
    await client.close();
    // AUTH TLS goes with the connection (no secret in it), the password only once TLS is up.
    assert.deepEqual(trusted.timeline.slice(0, 6), ['> AUTH', '< 220', '< 234', 'tls control', 'asked for the password', '> USER']);
  });

  it('sends AUTH TLS with the connection, before the greeting came', async () => {
    const times: Array<{ what: string; at: number }> = [];
    const started = performance.now();
    const client = await FtpClient.connect({
      host: server.host, port: server.port, user: server.user, password: server.password, security: 'explicit',
      tls: { trustedFingerprints: [server.certFingerprint256!] },
      onEvent: (e) => {
        if (e.type === 'command' && e.text === 'AUTH TLS') times.push({ what: '> AUTH', at: performance.now() - started });
        if (e.type === 'reply' && (e.code === 220 || e.code === 234)) times.push({ what: `< ${e.code}`, at: performance.now() - started });
      },
    });
    await client.close();
    assert.deepEqual(times.map((t) => t.what), ['> AUTH', '< 220', '< 234'], 'AUTH TLS before the greeting came');
  });

  it('reads a refusal of the early AUTH TLS as before: no clear-text fallback, no password asked', async () => {
    const fault = await FaultServer.start({ files: {} });
    try {
      const refused = askingPassword('secret');
      const err = await connectFailure({ host: '127.0.0.1', port: fault.port, user: fault.user, security: 'explicit', ...refused.options });
      assert.ok(isFtpError(err, 'tls'), String(err));
      assert.match((err as Error).message, /AUTH TLS answered 504/);
      assert.deepEqual(refused.timeline, ['> AUTH', '< 220', '< 504']);
    } finally {
      await fault.stop();
    }
  });
});
