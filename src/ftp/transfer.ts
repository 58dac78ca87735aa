/**
 * One transfer over one data connection: the command, its preliminary and final replies, and the
 * bytes in between. In active mode the 150, the incoming connection and even the 226 may arrive in
 * any order, so each is awaited independently; replies are buffered by the control connection.
 */
import type * as net from 'node:net';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { ControlConnection } from './control';
import { DataChannelError, prepare, transferReplyError, type DataChannelQuirks, type DataChannelSettings, type PassiveInAdvance } from './dataChannel';
import { FtpError } from './errors';
import type { BlockFileReader, BlockFileWriter, DirectRead } from './localFile';
import type { Reply } from './reply';
import type { ConcreteMode, FtpEvent } from './types';

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
  /** Sent before the transfer command in the same round trip (e.g. "REST 100"). */
  preamble?: string;
  /** The pump cannot run twice (a stream source): no connection opened in advance, which may be stale. */
  oneShot?: boolean;
}

export interface TransferContext {
  control: ControlConnection;
  settings: DataChannelSettings;
  quirks: DataChannelQuirks;
  dataIdleTimeoutMs: number;
  replyTimeoutMs: number;
  emit(event: FtpEvent): void;
  /** Work the session must finish before its next command (a download's final reply). */
  defer?(work: Promise<void>): void;
  /** A passive data connection opened in advance, used (or closed) by this transfer. */
  inAdvance?: PassiveInAdvance;
  /** Set by runTransfer: the transfer went over `inAdvance`. */
  usedInAdvance?: boolean;
  /**
   * Called once the server is done with this data connection — its end came: a download's or
   * listing's data ended, an upload's socket closed after our last byte, so it has left its
   * transfer loop — and the read of the transfer's final reply is queued, so that a command sent
   * now is answered after it. Resolves with the reply that command got.
   */
  openNext?(): Promise<Reply | undefined>;
}

/** Thrown when the transfer failed before any byte moved: safe to retry in another mode. */
export function failedBeforeData(e: unknown): boolean {
  return e instanceof DataChannelError;
}

export async function runTransfer(ctx: TransferContext, mode: ConcreteMode, spec: TransferSpec): Promise<number> {
  const { control } = ctx;
  const started = Date.now();
  if (spec.signal?.aborted) throw cancelled();
  // REST must come right before its RETR: no pipelining then.
  const inAdvance = ctx.inAdvance;
  ctx.inAdvance = undefined;
  if (mode !== 'passive') inAdvance?.close();
  const channel = await prepare(mode, ctx, spec.command, !spec.preamble, spec.directRead, inAdvance);
  ctx.usedInAdvance = channel.inAdvance === true;
  if (spec.preamble) {
    const r = await control.request(spec.preamble).catch((e: unknown) => { channel.close(); throw e; });
    if (r.code >= 400) {
      channel.close();
      throw transferReplyError(r, spec.preamble, mode, 'data');
    }
  }
  let socket: net.Socket | undefined;
  const onAbort = () => { socket?.destroy(); channel.close(); };
  // Cancelled while the data channel was being set up: the abort event has fired already.
  if (spec.signal?.aborted) {
    channel.close();
    if (channel.commandSent) throw await abortTransfer(ctx, control.read());
    throw cancelled();
  }
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  const onControlClose = () => { socket?.destroy(new Error('control connection closed')); channel.close(); };
  const unsubscribe = control.onClose(onControlClose);
  try {
    if (!channel.commandSent) control.send(spec.command);
    const first = control.read(ctx.replyTimeoutMs + ctx.settings.dataConnectTimeoutMs);
    first.catch(() => undefined);
    // A negative first reply (550, 425…) means no data connection will come.
    const refused = first.then((r) => {
      if (r.code >= 400) throw transferReplyError(r, spec.command, mode, spec.direction === 'upload' ? 'path-write' : 'path-read');
      return new Promise<never>(() => undefined);
    });
    refused.catch(() => undefined);
    try {
      socket = await Promise.race([channel.socket(), refused]);
    } catch (e) {
      channel.close();
      if (spec.signal?.aborted) throw await abortTransfer(ctx, first);
      if (e instanceof DataChannelError && !e.controlInSync) control.destroy(e);
      throw e;
    }
    let idle = false;
    socket.setTimeout(ctx.dataIdleTimeoutMs, () => {
      idle = true;
      socket?.destroy(Object.assign(new Error(`no data moved for ${ctx.dataIdleTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    let bytes: number;
    try {
      // A passive socket may be open before the server refuses the command (550): do not wait for data then.
      // Reset before the pump could listen: its events are gone, so it would wait forever.
      const pumped = socket.destroyed
        ? Promise.reject(socket.errored ?? new Error('the data connection closed before the transfer started'))
        : spec.pump(socket, channel.direct);
      bytes = await Promise.race([pumped, refused]);
    } catch (e) {
      if (e instanceof FtpError && !(e instanceof DataChannelError) && e.code !== undefined) throw e;
      socket.destroy();
      if (spec.signal?.aborted) throw await abortTransfer(ctx, first);
      // The server's reply usually says why the data stopped; prefer it over the socket error —
      // unless we cut the connection ourselves, when its 426 only echoes our timeout.
      const reply = await finalReply(control, first, Math.min(ctx.replyTimeoutMs, 5000)).catch(() => undefined);
      if (reply && reply.code >= 400 && !idle) throw transferReplyError(reply, spec.command, mode, 'data');
      const err = e as NodeJS.ErrnoException;
      if (!reply) control.destroy();
      throw new FtpError(idle || err.code === 'ETIMEDOUT' ? 'timeout' : 'connection-lost', `${spec.command.split(' ')[0]} ${spec.path}: the data connection broke (${err.message}).`, { mode, cause: e });
    }
    // A download pump ends quietly when the abort handler closed its socket: that is no success.
    if (spec.signal?.aborted) throw await abortTransfer(ctx, first);
    const preliminary = await first;
    if (ctx.defer && spec.direction === 'download' && preliminary.code < 200 && announcedSize(preliminary.message) === bytes) {
      // Every byte the server announced is here; its 226 only confirms that. Reading it before the
      // next command instead of now saves a round trip per download. The socket stays open until
      // then: with TLS the server waits for our close_notify before it answers.
      const open = socket;
      socket = undefined;
      ctx.defer(control.read(ctx.replyTimeoutMs).then((reply) => {
        if (reply.code >= 400) ctx.emit({ type: 'warning', id: control.id, message: `${spec.command}: all ${bytes} bytes arrived, but the server then answered ${reply.code} ${reply.message}` });
      }, () => undefined).finally(() => open.destroy()));
      if (!ctx.quirks.repliesOutOfOrder) void ctx.openNext?.();
    } else {
      // Queued before openNext sends anything, so the final reply is still read first.
      const final = preliminary.code < 200 ? control.read(ctx.replyTimeoutMs) : Promise.resolve(preliminary);
      const next = preliminary.code < 200 && !ctx.quirks.repliesOutOfOrder ? ctx.openNext?.() : undefined;
      let reply = await final;
      if (next && (reply.code === 229 || reply.code === 227)) {
        // The server answered the EPSV sent at the data's end before this transfer (ftp-srv runs
        // commands that come in separate reads concurrently): the transfer's own reply is the one
        // the EPSV's read got. From now on that EPSV waits for the final reply.
        ctx.quirks.repliesOutOfOrder = true;
        const own = await next;
        if (!own) throw new FtpError('connection-lost', `${spec.command.split(' ')[0]} ${spec.path}: no final reply.`, { mode });
        reply = own;
      }
      if (reply.code >= 400) throw transferReplyError(reply, spec.command, mode, 'data');
      if (!next) void ctx.openNext?.();
    }
    ctx.emit({ type: 'transfer', id: control.id, direction: spec.direction, path: spec.path, bytes, ms: Date.now() - started, mode });
    return bytes;
  } finally {
    unsubscribe();
    spec.signal?.removeEventListener('abort', onAbort);
    socket?.destroy();
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

/**
 * ABOR after a cancelled transfer, then read exactly the replies still owed — the transfer's final
 * reply (426 or 226, unless it came already) and ABOR's (225/226) — so the connection stays in
 * step. Counting matters: both may be 226, and stopping at the first would leave the second to
 * answer the next command. A server slower than that (one still draining a slow upload before it
 * reads ABOR) costs the connection, not the user's time: the client reconnects on next use.
 */
async function abortTransfer(ctx: TransferContext, first: Promise<Reply>): Promise<FtpError> {
  const { control } = ctx;
  const deadline = Date.now() + Math.min(ABORT_WAIT_MS, ctx.replyTimeoutMs);
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

function cancelled(): FtpError {
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
    socket.once('end', () => { endOurSide(socket); resolve(bytes); });
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
 * servers such as vsftpd send the final 226 only after the shutdown completes.
 */
function endOurSide(socket: net.Socket): void {
  if (!socket.writableEnded) socket.end();
}

/** Download pump collecting the bytes in memory. */
export function pumpToBuffer(chunks: Buffer[], onProgress?: (bytes: number) => void): (socket: net.Socket) => Promise<number> {
  return (socket) => new Promise<number>((resolve, reject) => {
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => { chunks.push(chunk); bytes += chunk.length; onProgress?.(bytes); });
    socket.once('end', () => { endOurSide(socket); resolve(bytes); });
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
