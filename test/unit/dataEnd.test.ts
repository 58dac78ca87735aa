/**
 * The end of a download or listing's data connection: our own end (FIN) must be on the wire before
 * the caller gets the data, because servers such as vsftpd send the transfer's 226 only once it
 * arrives, and the caller's next work (a listing's parse) would otherwise hold it back.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { PassThrough } from 'node:stream';
import { pumpTo, pumpToBuffer } from '../../src/ftp/transfer';

/** A server that sends `data`, ends its side and reports when our end reached it. */
async function sender(data: Buffer): Promise<{ port: number; ourEnd: Promise<void>; close(): void }> {
  let sawEnd!: () => void;
  const ourEnd = new Promise<void>((resolve) => { sawEnd = resolve; });
  const server = net.createServer((s) => {
    s.on('data', () => undefined);
    s.on('end', () => { sawEnd(); s.end(); });
    s.end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, ourEnd, close: () => server.close() };
}

async function connected(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  return socket;
}

describe('the end of a download data connection', () => {
  for (const [name, pump] of [
    ['pumpToBuffer (listings, small reads)', (chunks: Buffer[]) => pumpToBuffer(chunks)],
    ['pumpTo (streams)', (chunks: Buffer[]) => { const dest = new PassThrough(); dest.on('data', (c: Buffer) => chunks.push(c)); return pumpTo(dest); }],
  ] as const) {
    it(`${name}: resolves with every byte once our end has been sent, not before`, async () => {
      const data = Buffer.alloc(256 * 1024, 'x');
      const server = await sender(data);
      try {
        const socket = await connected(server.port);
        const chunks: Buffer[] = [];
        const bytes = await pump(chunks)(socket);
        // The shutdown is made: nothing the caller runs now can delay the server's 226.
        assert.equal(socket.writableFinished, true, 'our FIN was still queued when the data was handed over');
        assert.equal(bytes, data.length);
        // Work that blocks the thread, as a large listing's parse does, cannot hold our FIN back.
        const until = Date.now() + 50;
        while (Date.now() < until) { /* busy, as a parse */ }
        await server.ourEnd;
        assert.equal(Buffer.concat(chunks).length, data.length);
        socket.destroy();
      } finally {
        server.close();
      }
    });
  }
});
