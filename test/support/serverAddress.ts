/**
 * Stands where a server's address is: closed, the address refuses connections as a stopped server
 * does; reopened on the same port, it leads to whatever server `target` names now; `cut()` drops the
 * connections of the moment, as a network that hiccups. Only the control connection passes through
 * it; passive data connections go to the server directly (the client connects to the control peer's
 * address, 127.0.0.1, with the server's port). Plain Node: the integration tests and the extension
 * tests (in the extension host) use it alike.
 */
import * as net from 'node:net';

export class ServerAddress {
  private listener?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    public target: { host: string; port: number },
    /** 0: any free port, known after the first open(). */
    public port = 0,
  ) {}

  async open(): Promise<void> {
    this.listener = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
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
      this.listener!.once('error', reject);
      this.listener!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.listener.address() as net.AddressInfo).port;
  }

  /** Cuts every connection open now (new ones still get through); returns how many. */
  cut(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    return n;
  }

  /** Closed: every connection cut, new ones refused. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.listener ? this.listener.close(() => resolve()) : resolve()));
    this.listener = undefined;
  }
}
