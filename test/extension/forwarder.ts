/**
 * A TCP forwarder for the control connection of the profile `flaky` (setup.ts) to vsftpd, owned by
 * a test: closed, the server is offline (connects refused); open, it is there; `cut()` drops the
 * connections of the moment, as a network that hiccups. Data connections go to vsftpd directly:
 * on loopback the client connects for passive mode to the control peer's address with the port of
 * the EPSV reply — vsftpd's own.
 */
import * as net from 'node:net';

export class Forwarder {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  constructor(private readonly port: number, private readonly target: number) {}

  async open(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Cuts every connection open now (new ones still get through): returns how many. */
  cut(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    return n;
  }

  /** The server goes offline: every connection cut, new ones refused. */
  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

