/**
 * A TCP proxy for the CONTROL connection in front of a real FTP server, which can cut connections
 * on demand, when a command goes by, or at random.
 *
 * Data connections do not pass through it and need not: on loopback the client connects for
 * passive mode to the control peer's address (127.0.0.1, the proxy's — the same host as the
 * server) with the port from the EPSV/PASV reply, and in active mode the server connects back to
 * the address in EPRT/PORT (the client's 127.0.0.1), which the client accepts because it is the
 * control peer's address too. vsftpd's checks that data and control connections come from the same
 * address hold for the same reason.
 */
import * as net from 'node:net';

export interface ProxiedConnection {
  readonly id: number;
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Command lines seen from the client so far. */
  readonly commands: string[];
  /** Every byte from the client, as it came (a TLS handshake's records too). */
  readonly sent: Buffer[];
  closed: boolean;
}

/** Decides on each command line from the client: 'drop' cuts the connection before it is forwarded. */
export type CommandRule = (line: string, conn: ProxiedConnection) => 'drop' | 'drop-after' | void;

export interface RandomDrops {
  /** Mean time between drops while at least one connection is open. */
  meanIntervalMs: number;
  /** Random source (default Math.random), for reproducible runs. */
  random?: () => number;
}

export class DropProxy {
  host = '127.0.0.1';
  port = 0;
  /** Connections cut by the proxy so far. */
  drops = 0;
  readonly connections: ProxiedConnection[] = [];
  private rule?: CommandRule;
  private randomTimer?: NodeJS.Timeout;
  private readonly server: net.Server;
  private nextId = 1;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<DropProxy> {
    const p = new DropProxy(target.host, target.port);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(0, '127.0.0.1', () => resolve());
    });
    p.port = (p.server.address() as net.AddressInfo).port;
    return p;
  }

  get live(): ProxiedConnection[] {
    return this.connections.filter((c) => !c.closed);
  }

  /**
   * Cuts one connection (both sides) now: with FIN, with RST, or as a server shutting down does —
   * "421" to the client, then FIN.
   */
  drop(conn: ProxiedConnection, how: 'fin' | 'rst' | '421' = 'fin'): void {
    if (conn.closed) return;
    conn.closed = true;
    this.drops++;
    if (how === 'rst') {
      conn.client.resetAndDestroy();
      conn.upstream.resetAndDestroy();
      return;
    }
    if (how === '421') conn.client.end('421 Service not available, closing control connection.\r\n');
    else conn.client.destroy();
    conn.upstream.destroy();
  }

  /** Cuts every open connection now. */
  dropAll(): number {
    const live = this.live;
    for (const c of live) this.drop(c);
    return live.length;
  }

  /** Cuts a random open connection; false when none is open. */
  dropRandom(random: () => number = Math.random): boolean {
    const live = this.live;
    if (live.length === 0) return false;
    const r = random();
    this.drop(live[Math.floor(random() * live.length)], r < 0.4 ? 'fin' : r < 0.8 ? 'rst' : '421');
    return true;
  }

  /** Looks at every command line from the client ('drop-after' forwards it, then cuts). */
  onCommand(rule: CommandRule | undefined): void {
    this.rule = rule;
  }

  /** Cuts random connections at random moments until stopped. */
  startRandomDrops(options: RandomDrops): void {
    this.stopRandomDrops();
    const random = options.random ?? Math.random;
    const schedule = () => {
      // Exponential gaps: drops come at any moment, during transfers and between commands alike.
      const gap = -Math.log(1 - random()) * options.meanIntervalMs;
      this.randomTimer = setTimeout(() => {
        this.dropRandom(random);
        schedule();
      }, gap);
    };
    schedule();
  }

  stopRandomDrops(): void {
    if (this.randomTimer) clearTimeout(this.randomTimer);
    this.randomTimer = undefined;
  }

  async stop(): Promise<void> {
    this.stopRandomDrops();
    for (const c of this.connections) {
      c.client.destroy();
      c.upstream.destroy();
      c.closed = true;
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
    const conn: ProxiedConnection = { id: this.nextId++, client, upstream, commands: [], sent: [], closed: false };
    this.connections.push(conn);
    const close = () => {
      conn.closed = true;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.on('data', (chunk: Buffer) => { if (!conn.closed) client.write(chunk); });
    let pending = '';
    client.on('data', (chunk: Buffer) => {
      if (conn.closed) return;
      conn.sent.push(chunk);
      if (!this.rule) {
        upstream.write(chunk);
        return;
      }
      // Forward whole lines only, so a rule can stop a command before the server sees it.
      pending += chunk.toString('latin1');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const raw = pending.slice(0, nl + 1);
        pending = pending.slice(nl + 1);
        const line = raw.replace(/\r?\n$/, '');
        conn.commands.push(line);
        const verdict = this.rule?.(line, conn);
        if (verdict === 'drop') {
          this.drop(conn);
          return;
        }
        upstream.write(Buffer.from(raw, 'latin1'));
        if (verdict === 'drop-after') {
          // Give the server the command, then cut before its reply can come back.
          conn.closed = true;
          this.drops++;
          client.destroy();
          upstream.end();
          return;
        }
      }
    });
  }
}
