/**
 * The block file writer and reader on their own, with small blocks so every path is taken: reads
 * straight into blocks, the spare a stopped socket reads into after it resumes, gathered chunks,
 * back-pressure, the short last block and a failing write.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlockFileReader, BlockFileWriter } from '../../src/ftp/localFile';

const BLOCK = 128 * 1024;

describe('BlockFileWriter and BlockFileReader', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpw-blocks-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Feeds `data` as Node feeds an `onread` socket: the buffer for each read is asked for after the previous callback. */
  async function feedDirect(writer: BlockFileWriter, data: Buffer): Promise<{ stops: number }> {
    let stops = 0;
    let target = writer.directRead.buffer();
    let off = 0;
    while (off < data.length) {
      const n = Math.min(target.length, data.length - off, 1 + Math.floor(Math.random() * 100_000));
      data.copy(target, 0, off, off + n);
      off += n;
      const more = writer.directRead.callback(n, target);
      target = writer.directRead.buffer();
      if (!more) {
        stops++;
        await new Promise<void>((resolve) => { writer.onSpace = resolve; });
      }
    }
    return { stops };
  }

  it('writes reads made straight into its blocks, in order, stopping the socket while the blocks are on their way to the file', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 999);
    const file = await fs.promises.open(path.join(dir, 'out.bin'), 'w');
    try {
      const writer = new BlockFileWriter(file, 0, BLOCK, 2);
      const { stops } = await feedDirect(writer, data);
      await writer.finish();
      assert.equal(writer.received, data.length);
      assert.ok(stops > 0, 'two blocks cannot hold 3 MiB: the socket was stopped at least once');
    } finally {
      await file.close();
    }
    assert.ok(fs.readFileSync(path.join(dir, 'out.bin')).equals(data));
  });

  it('gathers chunks a socket allocated and writes them together, with back-pressure', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 17);
    const file = await fs.promises.open(path.join(dir, 'out.bin'), 'w');
    try {
      const writer = new BlockFileWriter(file, 0, BLOCK, 2);
      let stops = 0;
      for (let off = 0; off < data.length;) {
        const n = Math.min(data.length - off, 1 + Math.floor(Math.random() * 70_000));
        // A copy, as a socket's chunk would be its own memory.
        const more = writer.write(Buffer.from(data.subarray(off, off + n)));
        off += n;
        if (!more) {
          stops++;
          await new Promise<void>((resolve) => { writer.onSpace = resolve; });
        }
      }
      await writer.finish();
      assert.ok(stops > 0);
    } finally {
      await file.close();
    }
    assert.ok(fs.readFileSync(path.join(dir, 'out.bin')).equals(data));
  });

  it('resumes at an offset, keeping the bytes before it', async () => {
    const data = randomBytes(500_000);
    const target = path.join(dir, 'out.bin');
    fs.writeFileSync(target, data.subarray(0, 123_456));
    const file = await fs.promises.open(target, 'r+');
    try {
      const writer = new BlockFileWriter(file, 123_456, BLOCK, 2);
      await feedDirect(writer, data.subarray(123_456));
      await writer.finish();
    } finally {
      await file.close();
    }
    assert.ok(fs.readFileSync(target).equals(data));
  });

  it('reports a failed write once and rejects finish with it', async () => {
    const target = path.join(dir, 'ro.bin');
    fs.writeFileSync(target, '');
    const file = await fs.promises.open(target, 'r'); // writes fail with EBADF
    try {
      const writer = new BlockFileWriter(file, 0, BLOCK, 2);
      const errors: Error[] = [];
      writer.onError = (e) => errors.push(e);
      writer.write(randomBytes(BLOCK + 1));
      await assert.rejects(writer.finish(), /EBADF|bad file/i);
      assert.equal(errors.length, 1);
    } finally {
      await file.close();
    }
  });

  for (const [size, inFlight] of [[0, 1], [1, 1], [BLOCK, 1], [5 * BLOCK + 3, 1], [BLOCK, 3], [7 * BLOCK + 3, 3]]) {
    it(`reads a ${size}-byte file block by block, ${inFlight} read(s) at a time, reusing at most its blocks`, async () => {
      const data = randomBytes(size);
      const source = path.join(dir, 'in.bin');
      fs.writeFileSync(source, data);
      const file = await fs.promises.open(source, 'r');
      try {
        const reader = new BlockFileReader(file, BLOCK, 3, inFlight);
        const got: Buffer[] = [];
        const held: Buffer[] = [];
        for (;;) {
          const piece = await reader.next();
          if (!piece) break;
          got.push(Buffer.from(piece));
          held.push(piece);
          // Give blocks back late, as a socket with a full queue would.
          if (held.length === 2) reader.release(held.shift() as Buffer);
        }
        for (const piece of held) reader.release(piece);
        assert.ok(Buffer.concat(got).equals(data));
        assert.equal(await reader.next(), undefined);
      } finally {
        await file.close();
      }
    });
  }
});
