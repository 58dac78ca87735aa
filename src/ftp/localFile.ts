/**
 * Local file streams sized for bulk transfers. Node's defaults (64 KiB reads, a 16 KiB write
 * high-water mark) make a 100 MiB transfer thousands of small steps, each a thread-pool round trip
 * and a 'drain': measured on loopback, a 4 MiB write mark takes a download from ~126 to ~99 ms and
 * 1 MiB reads trim an upload by ~8%. Memory stays bounded by these sizes, not by the file.
 */
import * as fs from 'node:fs';

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
