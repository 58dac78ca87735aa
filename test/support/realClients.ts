/** A client of a real test server, as most integration tests open one. */
import { FtpClient } from '../../src/ftp/client';
import type { ConnectOptions, FtpEvent } from '../../src/ftp/types';
import type { RunningServer } from './realServers';

/** Connect options for `server`: its account, and its TLS with the test certificate pinned. */
export function optionsFor(server: RunningServer, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    host: server.host, port: server.port, user: server.user, password: server.password,
    security: server.tls ?? 'none',
    tls: server.certFingerprint256 ? { trustedFingerprints: [server.certFingerprint256] } : undefined,
    ...extra,
  };
}

/** Runs `fn` on a client of `server`, with every event from the first byte on (the login's included). */
export async function withClient<T>(server: RunningServer, extra: Partial<ConnectOptions>, fn: (c: FtpClient, events: FtpEvent[]) => Promise<T>): Promise<T> {
  const events: FtpEvent[] = [];
  const client = await FtpClient.connect(optionsFor(server, { ...extra, onEvent: (e) => events.push(e) }));
  try {
    return await fn(client, events);
  } finally {
    await client.close();
  }
}
