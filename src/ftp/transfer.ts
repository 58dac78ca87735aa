/**
 * One transfer over one data channel: the command, its preliminary and final replies, and the
 * bytes in between. In active mode the 150, the incoming connection and even the 226 may arrive in
 * any order, so each is awaited on its own; the control connection buffers replies. The steps, in
 * the order a reader meets them in `Transfer.run`: the command goes out (unless it went with the
 * mode command), the data socket comes (or the server refuses: 550, 425), the data moves, the final
 * reply is read — or, for a download whose every announced byte is in, left owed to the session.
 */
import type * as net from 'node:net';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { ControlConnection } from './control';
import { DataChannelError, transferReplyError, type DataChannelQuirks, type PreparedChannel } from './dataChannel';
import { FtpError } from './errors';
import type { BlockFileReader, BlockFileWriter, DirectRead } from './localFile';
import type { Reply } from './reply';
import type { FtpEvent } from './types';

export interface TransferSpec {
  /** The command that moves data, e.g. "RETR /a.txt". */
  command: string;
  direction: 'download' | 'upload' | 'list';
  path: string;
  /**
   * Moves the bytes once the data socket is open; resolves with the byte count. `direct`: the
   * socket reads into `directRead` (no 'data' events).
   */
  pump(socket: net.Socket, direct: boolean): Promise<number>;
  /** A download's own memory for the data socket to read into, where the socket allows it. */
  directRead?: DirectRead;
  signal?: AbortSignal;
  /** Sent right before the transfer command (e.g. "REST 100"); the command then goes out alone. */
  preamble?: string;
  /** The pump cannot run twice (a stream source): no connection opened in advance, which may be stale. */
  oneShot?: boolean;
  /**
   * Called once the data is across and the server is done with the data connection, its final
   * reply still to come and its read queued (as for TransferContext.openNext): a command sent now
   * is answered after that reply on a server that reads no command during a transfer. Not called
   * when the final reply came with the first one, nor on a server found answering out of order.
   */
  atDataEnd?(): void;
}

/** What a transfer is given; nothing in it is written by the transfer. */
export interface TransferContext {
  control: ControlConnection;
  /** What the server was found to do; the transfer may learn `repliesOutOfOrder`. */
  quirks: DataChannelQuirks;
  dataConnectTimeoutMs: number;
  dataIdleTimeoutMs: number;
  replyTimeoutMs: number;
  emit(event: FtpEvent): void;
  /** Ask for the (TLS) data socket only once the command's 1xx came (DataChannelQuirks.tlsAfterPreliminary). */
  tlsAfterPreliminary: boolean;
  /**
   * Called once the server is done with this data connection — its end came: a download's or
   * listing's data ended, an upload's socket closed after our last byte, so it has left its
   * transfer loop — and the read of the transfer's final reply is queued, so that a command sent
   * now is answered after it. Resolves with the reply that command got.
   */
  openNext?(): Promise<Reply | undefined>;
}

export interface TransferResult {
  bytes: number;
  /** The final reply, still owed: read (and a late failure told) when this settles. */
  owedFinal?: Promise<void>;
}

/** Thrown when the transfer failed before any byte moved: safe to retry in another mode. */
export function failedBeforeData(e: unknown): boolean {
  return e instanceof DataChannelError;
}

/** Runs `spec` over `channel`, which it owns from here on (closed on failure). */
export function runTransfer(ctx: TransferContext, channel: PreparedChannel, spec: TransferSpec): Promise<TransferResult> {
  return new Transfer(ctx, channel, spec).run();
}

class Transfer {
  private readonly started = Date.now();
  /** The data socket, once it came; destroyed when the transfer ends unless a final reply is owed. */
  private socket?: net.Socket;
  /** The transfer command's first reply (150, or at once 226/550). */
  private first!: Promise<Reply>;
  /** Rejects when that first reply is negative: no data connection will come then. */
  private refused!: Promise<never>;
  /** We cut the data connection ourselves for moving no data. */
  private idle = false;

  constructor(private readonly ctx: TransferContext, private readonly channel: PreparedChannel, private readonly spec: TransferSpec) {}

  private get control(): ControlConnection { return this.ctx.control; }
  private get verb(): string { return this.spec.command.split(' ')[0]; }

  async run(): Promise<TransferResult> {
    const { channel, spec } = this;
    await this.sendPreamble();
    // Cancelled while the data channel was being set up: the abort event has fired already.
    if (spec.signal?.aborted) {
      channel.close();
      if (channel.commandSent) throw await this.abort(this.control.read());
      throw cancelled();
    }
    const onAbort = () => { this.socket?.destroy(); channel.close(); };
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    const unsubscribe = this.control.onClose(() => { this.socket?.destroy(new Error('control connection closed')); channel.close(); });
    try {
      this.sendCommand();
      const socket = await this.dataSocket();
      this.socket = socket;
      const { bytes, streamChunks } = await this.moveData(socket);
      // A download pump ends quietly when the abort handler closed its socket: that is no success.
      if (spec.signal?.aborted) throw await this.abort(this.first);
      const { owed: owedFinal } = await this.finish(bytes);
      this.ctx.emit({ type: 'transfer', id: this.control.id, direction: spec.direction, path: spec.path, bytes, ms: Date.now() - this.started, mode: channel.mode, streamChunks, finalOwed: owedFinal !== undefined });
      return { bytes, owedFinal };
    } finally {
      unsubscribe();
      spec.signal?.removeEventListener('abort', onAbort);
      this.socket?.destroy();
    }
  }

  /** REST must come right before its RETR, so the channel was opened without the command. */
  private async sendPreamble(): Promise<void> {
    const { preamble } = this.spec;
    if (!preamble) return;
    const r = await this.control.request(preamble).catch((e: unknown) => { this.channel.close(); throw e; });
    if (r.code >= 400) {
      this.channel.close();
      throw transferReplyError(r, preamble, this.channel.mode, 'data');
    }
  }

  private sendCommand(): void {
    const { ctx, spec } = this;
    if (!this.channel.commandSent) this.control.send(spec.command);
    this.first = this.control.read(ctx.replyTimeoutMs + ctx.dataConnectTimeoutMs);
    this.first.catch(() => undefined);
    this.refused = this.first.then((r) => {
      if (r.code >= 400) throw transferReplyError(r, spec.command, this.channel.mode, spec.direction === 'upload' ? 'path-write' : 'path-read');
      return new Promise<never>(() => undefined);
    });
    this.refused.catch(() => undefined);
  }

  private async dataSocket(): Promise<net.Socket> {
    try {
      if (this.ctx.tlsAfterPreliminary) await Promise.race([this.first, this.refused]);
      return await Promise.race([this.channel.socket(), this.refused]);
    } catch (e) {
      this.channel.close();
      if (this.spec.signal?.aborted) throw await this.abort(this.first);
      if (e instanceof DataChannelError && !e.controlInSync) this.control.destroy(e);
      throw e;
    }
  }

  private async moveData(socket: net.Socket): Promise<{ bytes: number; streamChunks: number }> {
    const { ctx, spec } = this;
    socket.setTimeout(ctx.dataIdleTimeoutMs, () => {
      this.idle = true;
      socket.destroy(Object.assign(new Error(`no data moved for ${ctx.dataIdleTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    // Chunks that went through the socket's stream, each a buffer Node allocated: 0 when the
    // socket read straight into the pump's own memory.
    let streamChunks = 0;
    socket.on('data', () => { streamChunks++; });
    try {
      // A passive socket may be open before the server refuses the command (550): do not wait for data then.
      // Reset before the pump could listen: its events are gone, so it would wait forever.
      const pumped = socket.destroyed
        ? Promise.reject(socket.errored ?? new Error('the data connection closed before the transfer started'))
        : spec.pump(socket, this.channel.direct);
      // A socket from a proxy comes paused (proxy.ts); the pump listens now, so it may flow.
      if (socket.readableFlowing === false && !socket.destroyed) socket.resume();
      return { bytes: await Promise.race([pumped, this.refused]), streamChunks };
    } catch (e) {
      throw await this.dataBroke(socket, e);
    }
  }

  /** The error to report when the data stopped early: the server's reply usually says why. */
  private async dataBroke(socket: net.Socket, e: unknown): Promise<unknown> {
    const { ctx, spec } = this;
    if (e instanceof FtpError && !(e instanceof DataChannelError) && e.code !== undefined) return e;
    socket.destroy();
    if (spec.signal?.aborted) return this.abort(this.first);
    // Unless we cut the connection ourselves: the server's 426 then only echoes our timeout.
    const reply = await finalReply(this.control, this.first, Math.min(ctx.replyTimeoutMs, 5000)).catch(() => undefined);
    if (reply && reply.code >= 400 && !this.idle) return transferReplyError(reply, spec.command, this.channel.mode, 'data');
    const err = e as NodeJS.ErrnoException;
    if (!reply) this.control.destroy();
    return new FtpError(this.idle || err.code === 'ETIMEDOUT' ? 'timeout' : 'connection-lost', `${this.verb} ${spec.path}: the data connection broke (${err.message}).`, { mode: this.channel.mode, cause: e });
  }

  /** The final reply: read now, or — for a download that has every announced byte — left owed. */
  private async finish(bytes: number): Promise<{ owed?: Promise<void> }> {
    const { ctx, spec, control } = this;
    const preliminary = await this.first;
    if (spec.direction === 'download' && preliminary.code < 200 && announcedSize(preliminary.message) === bytes) {
      // Its 226 only confirms the bytes. Reading it before the next command instead of now saves
      // a round trip per download. The socket stays open until then: with TLS the server waits
      // for our close_notify before it answers.
      const open = this.socket;
      this.socket = undefined;
      const owed = control.read(ctx.replyTimeoutMs).then((reply) => {
        if (reply.code >= 400) ctx.emit({ type: 'warning', id: control.id, message: `${spec.command}: all ${bytes} bytes arrived, but the server then answered ${reply.code} ${reply.message}` });
      }, () => undefined).finally(() => open?.destroy());
      if (!ctx.quirks.repliesOutOfOrder) void ctx.openNext?.();
      return { owed };
    }
    // Queued before openNext sends anything, so the final reply is still read first.
    const final = preliminary.code < 200 ? control.read(ctx.replyTimeoutMs) : Promise.resolve(preliminary);
    const next = preliminary.code < 200 && !ctx.quirks.repliesOutOfOrder ? ctx.openNext?.() : undefined;
    if (preliminary.code < 200 && !ctx.quirks.repliesOutOfOrder) spec.atDataEnd?.();
    let reply = await final;
    if (next && (reply.code === 229 || reply.code === 227)) {
      // The server answered the EPSV sent at the data's end before this transfer (ftp-srv runs
      // commands that come in separate reads concurrently): the transfer's own reply is the one
      // the EPSV's read got. From now on that EPSV waits for the final reply.
      ctx.quirks.repliesOutOfOrder = true;
      ctx.emit({ type: 'learned', id: control.id, what: 'replies-out-of-order', detail: "the server answered a command sent during a transfer before the transfer's own reply; from now on it is sent only after that reply" });
      const own = await next;
      if (!own) throw new FtpError('connection-lost', `${this.verb} ${spec.path}: no final reply.`, { mode: this.channel.mode });
      reply = own;
    }
    if (reply.code >= 400) throw transferReplyError(reply, spec.command, this.channel.mode, 'data');
    // A 226 says the server wrote everything, not that everything arrived: a proxy or middlebox that
    // closed early leaves us short. The size the 150 announced tells (after REST it counts the whole
    // file, so only without one; more than announced is a file that grew meanwhile).
    const announced = spec.direction === 'download' && !spec.preamble && preliminary.code < 200 ? announcedSize(preliminary.message) : undefined;
    if (announced !== undefined && bytes < announced) {
      throw new FtpError('connection-lost', `${this.verb} ${spec.path}: only ${bytes} of the ${announced} bytes the server announced arrived, although it answered ${reply.code} ${reply.message} — something on the way cut the data connection short, or the file shrank meanwhile; try again.`, { mode: this.channel.mode, code: reply.code, replyText: reply.text, command: spec.command });
    }
    if (!next) void ctx.openNext?.();
    return {};
  }

  /**
   * ABOR after a cancelled transfer, then read exactly the replies still owed — the transfer's final
   * reply (426 or 226, unless it came already) and ABOR's (225/226) — so the connection stays in
   * step. Counting matters: both may be 226, and stopping at the first would leave the second to
   * answer the next command. A server slower than that (one still draining a slow upload before it
   * reads ABOR) costs the connection, not the user's time: the client reconnects on next use.
   */
  private async abort(first: Promise<Reply>): Promise<FtpError> {
    const control = this.control;
    const deadline = Date.now() + Math.min(ABORT_WAIT_MS, this.ctx.replyTimeoutMs);
    const left = () => Math.max(1, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    try {
      control.send('ABOR');
      const giveUp = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('no reply to ABOR')), left()); });
      const r = await Promise.race([first, giveUp]);
      const owed = r.code < 200 ? 2 : 1;
      for (let i = 0; i < owed; i++) await Promise.race([control.read(left()), giveUp]);
    } catch {
      control.destroy();
    } finally {
      if (timer) clearTimeout(timer);
    }
    return cancelled();
  }
}

/** The size a 150 reply announces, e.g. vsftpd's and proftpd's "(10240 bytes)". */
export function announcedSize(message: string): number | undefined {
  const m = /\((\d+) bytes\)/i.exec(message);
  return m ? Number(m[1]) : undefined;
}

async function finalReply(control: ControlConnection, first: Promise<Reply>, timeoutMs: number): Promise<Reply> {
  const r = await first;
  return r.code < 200 ? control.read(timeoutMs) : r;
}

/** How long a cancel waits for the server to confirm; past it the connection is given up. */
const ABORT_WAIT_MS = 1000;

/** The error of a transfer the caller cancelled (TransferOptions.signal). */
export function cancelled(): FtpError {
  return new FtpError('cancelled', 'The transfer was cancelled.');
}

// ---------------------------------------------------------------- pumps

/**
 * How much may wait in a stream's buffer before we hold back. Streams' own marks (16 KiB) would
 * pause the socket after every chunk, which halves throughput; this keeps memory bounded all the same.
 */
const BUFFER_LIMIT = 1024 * 1024;

/** Download pump: socket → writable, with back-pressure; the writable is not ended. */
export function pumpTo(dest: Writable, onProgress?: (bytes: number) => void): (socket: net.Socket) => Promise<number> {
  return (socket) => new Promise<number>((resolve, reject) => {
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (!dest.write(chunk) && dest.writableLength >= BUFFER_LIMIT) {
        socket.pause();
        dest.once('drain', () => socket.resume());
      }
      onProgress?.(bytes);
    });
    socket.once('end', () => { endOurSide(socket, () => resolve(bytes)); });
    socket.once('error', reject);
    socket.once('close', (hadError) => { if (!hadError) resolve(bytes); });
    dest.once('error', (err) => { socket.destroy(); reject(err); });
  });
}

/**
 * Download pump into a file, in reused blocks (see localFile.ts): a direct socket reads straight
 * into them, any other socket's chunks are gathered and written together. Resolves once every
 * byte is in the file.
 */
export function pumpToFile(writer: BlockFileWriter, onProgress?: (bytes: number) => void): (socket: net.Socket, direct: boolean) => Promise<number> {
  return (socket, direct) => new Promise<number>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => { if (!settled) { settled = true; reject(err); } };
    const done = () => {
      if (settled) return;
      settled = true;
      writer.finish().then(() => resolve(writer.received), reject);
    };
    writer.onProgress = onProgress;
    writer.onSpace = () => socket.resume();
    writer.onError = (err) => { socket.destroy(); fail(err); };
    if (!direct) socket.on('data', (chunk: Buffer) => { if (!writer.write(chunk)) socket.pause(); });
    socket.once('end', () => { endOurSide(socket); done(); });
    socket.once('error', fail);
    socket.once('close', (hadError) => { if (!hadError) done(); });
    // A direct socket reads from its connect on: a short file may have ended before we listened.
    if (socket.readableEnded) { endOurSide(socket); done(); }
  });
}

/**
 * The server ended the data: answer at once with our own end (with TLS, our close_notify), since
 * servers such as vsftpd send the final 226 only after the shutdown completes. `then` runs once
 * that end is out: libuv makes the shutdown (our FIN) only in the event loop's next turn, after
 * whatever JavaScript runs before — a 1,000-entry listing's parse held the FIN, and so the 226,
 * back by ~20 ms at the end of every transfer that continued straight into work of its own.
 */
function endOurSide(socket: net.Socket, then?: () => void): void {
  if (!socket.writableEnded) socket.end();
  if (!then) return;
  if (socket.writableFinished || socket.destroyed) then();
  else socket.once('finish', then);
}

/** Download pump collecting the bytes in memory. */
export function pumpToBuffer(chunks: Buffer[], onProgress?: (bytes: number) => void): (socket: net.Socket) => Promise<number> {
  return (socket) => new Promise<number>((resolve, reject) => {
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => { chunks.push(chunk); bytes += chunk.length; onProgress?.(bytes); });
    socket.once('end', () => { endOurSide(socket, () => resolve(bytes)); });
    socket.once('error', reject);
    socket.once('close', (hadError) => { if (!hadError) resolve(bytes); });
  });
}

/**
 * Upload pump. After the last byte we end our side and wait for the socket to close: with TLS the
 * close_notify must reach the server before the connection goes, or vsftpd reports 426.
 */
export function pumpFrom(source: Readable | Uint8Array, onProgress?: (bytes: number) => void, signal?: AbortSignal): (socket: net.Socket) => Promise<number> {
  return async (socket) => {
    let bytes = 0;
    const closed = new Promise<void>((resolve, reject) => {
      socket.once('close', (hadError) => (hadError ? reject(new Error('data connection reset')) : resolve()));
      socket.once('error', reject);
    });
    closed.catch(() => undefined);
    // Nothing is read from an upload socket, but it must flow for 'end'/'close' to be seen.
    socket.resume();
    if (source instanceof Uint8Array) {
      const chunk = 256 * 1024;
      for (let off = 0; off < source.length; off += chunk) {
        if (signal?.aborted) throw new Error('aborted');
        const piece = source.subarray(off, Math.min(off + chunk, source.length));
        bytes += piece.length;
        if (!socket.write(piece) && socket.writableLength >= BUFFER_LIMIT) await Promise.race([once(socket, 'drain'), closed]);
        onProgress?.(bytes);
      }
    } else {
      for await (const piece of source) {
        const buf = typeof piece === 'string' ? Buffer.from(piece) : (piece as Buffer);
        bytes += buf.length;
        if (!socket.write(buf) && socket.writableLength >= BUFFER_LIMIT) await Promise.race([once(socket, 'drain'), closed]);
        onProgress?.(bytes);
      }
    }
    socket.end();
    await closed;
    return bytes;
  };
}

/**
 * Upload pump from a file read in reused blocks, one block ahead of the socket. The blocks bound
 * what is queued on the socket (a block is read into again only once the socket has sent it).
 */
export function pumpFromFile(open: () => BlockFileReader, onProgress?: (bytes: number) => void, signal?: AbortSignal): (socket: net.Socket) => Promise<number> {
  return async (socket) => {
    let bytes = 0;
    let isClosed = false;
    const closed = new Promise<void>((resolve, reject) => {
      socket.once('close', (hadError) => { isClosed = true; if (hadError) reject(new Error('data connection reset')); else resolve(); });
      socket.once('error', reject);
    });
    closed.catch(() => undefined);
    socket.resume();
    // A reader per attempt: a retry in the other mode starts again at the file's first byte.
    const reader = open();
    for (;;) {
      if (signal?.aborted) throw new Error('aborted');
      const piece = await Promise.race([reader.next(), closed.then(() => null)]);
      if (piece === null || (isClosed && piece !== undefined)) throw new Error('the data connection closed before the upload was complete');
      if (piece === undefined) break;
      bytes += piece.length;
      socket.write(piece, () => reader.release(piece));
      onProgress?.(bytes);
    }
    socket.end();
    await closed;
    return bytes;
  };
}
