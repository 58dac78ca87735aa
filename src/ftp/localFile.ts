/**
 * Local files for bulk transfers.
 *
 * `BlockFileWriter` and `BlockFileReader` move a file in a few large blocks that are reused for the
 * whole transfer. The cost of a Node download is not the disk write but the memory: every socket
 * read lands in a freshly allocated buffer that only the GC frees, with page faults on new heap
 * pages and an RSS that grows with the file. So the data socket reads straight into reused blocks
 * where Node allows it (`onread`, see `directRead`), and uploads read into the blocks instead of
 * `fs.ReadStream`'s fresh buffer per read. What we hold is bounded by FILE_BLOCKS × FILE_BLOCK
 * whatever the file size; accepted (active-mode) sockets, which Node gives no `onread`, still
 * allocate their own chunks and leave those to the GC. The measurements behind each choice are in
 * bench/findings.md ("Why the code is shaped so").
 *
 * `fileSink`/`fileSource` remain for callers that need a stream (any Writable/Readable works with
 * `download`/`upload`).
 */
import * as fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** Size of the blocks a file is written or read in. */
export const FILE_BLOCK = 1024 * 1024;
/**
 * Blocks per transfer: one being filled while others are on their way to the disk (downloads) or
 * the socket (uploads). Four keep the disk and the network busy at once; memory is bounded by them.
 */
export const FILE_BLOCKS = 4;
/** A socket read into less room than this is not worth it: the block goes to the disk first. */
const MIN_READ = 64 * 1024;

/** What `net.connect({ onread })` takes: the socket reads into memory we give it, without allocating. */
export interface DirectRead {
  buffer(): Uint8Array;
  callback(bytesRead: number, buffer: Uint8Array): boolean;
}

/**
 * Writes a download into a file, in order, one write at a time (at explicit positions when resuming
 * at an offset, else at the file's own position, so a pipe or device works too). Bytes come either
 * straight from a socket into reused blocks (`directRead`), or as a socket's own chunks (`write`),
 * which are gathered into ≥ 1 MiB and written with one writev: copying them into blocks would cost
 * a memcpy of every byte, more than the extra allocations it saves (bench/findings.md).
 */
export class BlockFileWriter {
  /** Bytes received so far (queued or in the file). */
  received = 0;
  /** There is room again after `write` or the direct read callback returned false: resume the socket. */
  onSpace: () => void = () => undefined;
  /** The first failed write to the file. */
  onError: (err: Error) => void = () => undefined;
  /** After every read from the socket, with `received`. */
  onProgress?: (bytes: number) => void;

  private readonly free: Buffer[] = [];
  private allocated = 0;
  private current: Buffer | undefined;
  private fill = 0;
  /** Chunks of `write` not yet queued. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Bytes queued or being written: with `chunkBytes`, what `write` may hold before it says stop. */
  private queuedBytes = 0;
  private readonly queue: Array<{ block?: Buffer; chunks: Buffer[]; length: number }> = [];
  private writing: Promise<void> | undefined;
  /** null: the file's own position (a fresh download, which may also go to a pipe or a device). */
  private position: number | null;
  private failure: Error | undefined;
  /** Bytes read into the spare that found no free block; taken in before the socket resumes. */
  private pending: Buffer | undefined;
  private waitingForSpace = false;
  /**
   * Handed to a direct-read socket when no block is free. The socket is stopped then (the callback
   * returned false), but Node keeps the last buffer it got for its next read after resuming: that
   * must not be a block that is being written, so it is this one, copied into a block afterwards.
   */
  private readonly spare = Buffer.allocUnsafe(MIN_READ);

  constructor(private readonly file: FileHandle, start = 0, private readonly blockSize = FILE_BLOCK, private readonly blocks = FILE_BLOCKS) {
    this.position = start > 0 ? start : null;
  }

  /** For `net.connect({ onread })`: plain TCP sockets we open ourselves read straight into the blocks. */
  readonly directRead: DirectRead = {
    buffer: () => {
      const block = this.pending ? undefined : this.currentBlock();
      return block ? block.subarray(this.fill) : this.spare;
    },
    callback: (n, buffer) => {
      if (this.failure) return true; // the socket is being destroyed
      this.received += n;
      if (buffer === this.spare) this.copyIn(this.spare.subarray(0, n));
      else {
        this.fill += n;
        if ((this.current as Buffer).length - this.fill < MIN_READ) this.flushBlock();
      }
      this.onProgress?.(this.received);
      return this.roomLeft();
    },
  };

  /** Takes a chunk the socket allocated (it is kept, not copied). False: stop reading until `onSpace`. */
  write(chunk: Buffer): boolean {
    if (this.failure) return true;
    this.received += chunk.length;
    if (this.fill > 0) this.flushBlock();
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (this.chunkBytes >= this.blockSize) this.flushChunks();
    this.onProgress?.(this.received);
    return this.roomLeft();
  }

  /** Writes what is left and resolves once every byte is in the file (rejects if a write failed). */
  async finish(): Promise<void> {
    while (this.pending && this.writing) await this.writing;
    if (this.pending && !this.failure) this.copyIn(Buffer.alloc(0));
    this.flushBlock();
    this.flushChunks();
    await this.settle();
    if (this.failure) throw this.failure;
  }

  /** Resolves once no write is in flight or queued (errors aside), e.g. before the file is closed. */
  async settle(): Promise<void> {
    // Each finished write starts the next queued one before its promise settles.
    while (this.writing) await this.writing;
  }

  private currentBlock(): Buffer | undefined {
    if (!this.current) {
      this.current = this.free.pop();
      if (!this.current && this.allocated < this.blocks) {
        this.allocated++;
        this.current = Buffer.allocUnsafe(this.blockSize);
      }
    }
    return this.current;
  }

  private roomLeft(): boolean {
    const ok = !this.pending && this.queuedBytes + this.chunkBytes < this.blockSize * this.blocks
      && (this.current !== undefined || this.free.length > 0 || this.allocated < this.blocks);
    if (!ok) this.waitingForSpace = true;
    return ok;
  }

  /** Copies bytes into blocks (what the spare got); a rest that finds no block waits in `pending`. */
  private copyIn(bytes: Buffer): void {
    if (this.chunkBytes > 0) this.flushChunks();
    const all = this.pending ? Buffer.concat([this.pending, bytes]) : bytes;
    this.pending = undefined;
    let off = 0;
    while (off < all.length) {
      const block = this.currentBlock();
      if (!block) {
        // A copy: the bytes may be in the spare, which the socket reads into again.
        this.pending = Buffer.from(all.subarray(off));
        return;
      }
      const n = all.copy(block, this.fill, off);
      this.fill += n;
      off += n;
      if (block.length - this.fill < MIN_READ) this.flushBlock();
    }
  }

  private flushBlock(): void {
    if (!this.current || this.fill === 0) return;
    this.enqueue({ block: this.current, chunks: [this.current.subarray(0, this.fill)], length: this.fill });
    this.current = undefined;
    this.fill = 0;
  }

  private flushChunks(): void {
    if (this.chunkBytes === 0) return;
    this.enqueue({ chunks: this.chunks, length: this.chunkBytes });
    this.chunks = [];
    this.chunkBytes = 0;
  }

  private enqueue(item: { block?: Buffer; chunks: Buffer[]; length: number }): void {
    this.queue.push(item);
    this.queuedBytes += item.length;
    this.writeNext();
  }

  private writeNext(): void {
    if (this.writing || this.failure) return;
    const next = this.queue.shift();
    if (!next) return;
    this.writing = this.writeAll(next.chunks).then(() => {
      this.writing = undefined;
      this.queuedBytes -= next.length;
      if (next.block) this.free.push(next.block);
      // Bytes the spare got wait for a block: they go in before the socket reads again.
      if (this.pending) this.copyIn(Buffer.alloc(0));
      if (this.waitingForSpace && this.roomLeft()) {
        this.waitingForSpace = false;
        this.onSpace();
      }
      this.writeNext();
    }, (err: Error) => {
      this.writing = undefined;
      this.failure = err;
      this.onError(err);
    });
  }

  /** A write may be short (a full disk shows as a short write before ENOSPC): continue with the rest. */
  private async writeAll(buffers: Buffer[]): Promise<void> {
    let rest = buffers;
    while (rest.length > 0) {
      const { bytesWritten } = rest.length === 1
        ? await this.file.write(rest[0], 0, rest[0].length, this.position)
        : await this.file.writev(rest, this.position ?? undefined);
      if (bytesWritten === 0) throw new Error('the file took no bytes');
      if (this.position !== null) this.position += bytesWritten;
      rest = dropBytes(rest, bytesWritten);
    }
  }
}

/** The buffers after their first `n` bytes. */
function dropBytes(buffers: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < buffers.length && n >= buffers[i].length) n -= buffers[i++].length;
  const rest = buffers.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = rest[0].subarray(n);
  return rest;
}

/**
 * Reads a regular file for an upload (positional reads, so each reader starts at byte 0), ahead of
 * the socket: the next block is read while the main thread sends the last one. A block is read
 * into again only after `release`, once the socket has taken its bytes, which also bounds what waits
 * in the socket's queue. `readsInFlight` > 1 lets a slow disk work on several blocks at once; from
 * the page cache one is enough, and 1 MiB blocks beat smaller ones (bench/findings.md).
 */
export class BlockFileReader {
  private readonly blocks: Buffer[] = [];
  private readonly free: Buffer[] = [];
  /** Issued reads in file order; each gives its bytes (a view into its block), or undefined past the end. */
  private readonly reads: Array<Promise<Buffer | undefined>> = [];
  private inFlight = 0;
  private position = 0;
  /** A read came back short or empty: the file ends there; no more reads are issued. */
  private ended = false;
  /** `next` gave the short last block: it returns nothing more. */
  private done = false;
  private wake: (() => void) | undefined;

  /** `start`: the first byte to send (a resumed upload). */
  constructor(private readonly file: FileHandle, private readonly blockSize = FILE_BLOCK, blocks = FILE_BLOCKS, private readonly readsInFlight = 1, start = 0) {
    this.position = start;
    for (let i = 0; i < blocks; i++) this.blocks.push(Buffer.allocUnsafe(blockSize));
    this.free.push(...this.blocks);
    this.readAhead();
  }

  /** The next bytes of the file, a view into a block to `release` when sent; undefined at the end. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      if (this.done) return undefined;
      const read = this.reads.shift();
      if (read) {
        const piece = await read;
        // A short block is the end even if a later read found bytes (the file grew meanwhile):
        // sending those would leave a gap.
        if (!piece || piece.length < this.blockSize) this.done = true;
        if (!piece) return undefined;
        this.readAhead();
        return piece;
      }
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  /** The socket is done with a view `next` returned: its block may be read into again. */
  release(piece: Buffer): void {
    const block = this.blocks.find((b) => b.buffer === piece.buffer && b.byteOffset === piece.byteOffset);
    if (block && !this.free.includes(block)) this.free.push(block);
    this.readAhead();
  }

  private readAhead(): void {
    while (!this.ended && this.inFlight < this.readsInFlight) {
      const block = this.free.pop();
      if (!block) return;
      const at = this.position;
      this.position += block.length;
      this.inFlight++;
      const read = this.fill(block, at).finally(() => { this.inFlight--; this.readAhead(); });
      read.catch(() => undefined);
      this.reads.push(read);
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    }
  }

  /** Reads one block at `at`; a short read is continued, so only the end of the file cuts a block short. */
  private async fill(block: Buffer, at: number): Promise<Buffer | undefined> {
    let n = 0;
    while (n < block.length) {
      const { bytesRead } = await this.file.read(block, n, block.length - n, at + n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n < block.length) this.ended = true;
    if (n === 0) {
      this.free.push(block);
      return undefined;
    }
    return block.subarray(0, n);
  }
}

/** Opens a download's target: truncated, or (resuming at `offset`) kept and written from there. */
export function openTarget(path: string, offset = 0): Promise<FileHandle> {
  return fs.promises.open(path, offset > 0 ? 'r+' : 'w');
}

/** Opens an upload's source. */
export function openSource(path: string): Promise<FileHandle> {
  return fs.promises.open(path, 'r');
}

// ---------------------------------------------------------------- streams

/** Bytes a file sink may buffer before the download pump pauses the data socket. */
export const FILE_WRITE_BUFFER = 4 * 1024 * 1024;
/** Size of each read from a file being uploaded. */
export const FILE_READ_CHUNK = 1024 * 1024;

/** A write stream for a download's target; `closeSink` it when the transfer is done. */
export function fileSink(path: string): fs.WriteStream {
  return fs.createWriteStream(path, { highWaterMark: FILE_WRITE_BUFFER });
}

/** Ends a download's target and waits until its buffered bytes are on disk (or the write failed). */
export function closeSink(sink: fs.WriteStream): Promise<void> {
  return new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** A read stream for an upload's source. */
export function fileSource(path: string): fs.ReadStream {
  return fs.createReadStream(path, { highWaterMark: FILE_READ_CHUNK });
}
