import * as assert from 'node:assert/strict';
import * as FakeTimers from '@sinonjs/fake-timers';
import { UploadQueue } from '../../src/sync/uploadQueue';

/** The coalescing window and the uploads' latency run on this clock (installed per test). */
let clock: FakeTimers.Clock;
/** Time an upload takes, on the fake clock. */
const elapse = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stand-in server that can be switched off; records what it received. */
class Destination {
  up = true;
  /** ms each upload takes. */
  latency = 5;
  readonly received: string[] = [];
  running = 0;
  maxRunning = 0;
  async upload(key: string): Promise<void> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await elapse(this.latency);
      if (!this.up) throw new Error('421 Service not available');
      this.received.push(key);
    } finally {
      this.running--;
    }
  }
}

describe('upload queue', () => {
  let queue: UploadQueue | undefined;
  beforeEach(() => {
    clock = FakeTimers.install();
  });
  afterEach(() => {
    queue?.dispose();
    clock.uninstall();
  });

  function make(dest: Destination, extra: Partial<ConstructorParameters<typeof UploadQueue>[0]> = {}) {
    queue = new UploadQueue({ upload: (key) => dest.upload(key), delayMs: 20, ...extra });
    return queue;
  }

  /** Lets time run until nothing is queued or uploading (failed uploads may remain). */
  async function idle(q: UploadQueue): Promise<void> {
    const idle = q.whenIdle();
    await clock.runAllAsync();
    await idle;
  }

  it('turns quick saves of one file into one upload', async () => {
    const dest = new Destination();
    const q = make(dest);
    q.enqueue('a.txt');
    q.enqueue('a.txt');
    await clock.tickAsync(5);
    q.enqueue('a.txt');
    assert.equal(q.pending, 1);
    await clock.tickAsync(19);
    assert.equal(dest.running, 0, 'the window starts again with each save');
    await clock.tickAsync(1);
    assert.equal(q.items()[0].state, 'uploading');
    await idle(q);
    assert.deepEqual(dest.received, ['a.txt']);
    assert.equal(q.pending, 0);
  });

  it('uploads once more after a save that came in during the upload', async () => {
    const dest = new Destination();
    dest.latency = 40;
    const q = make(dest);
    q.enqueue('a.txt');
    await clock.tickAsync(20); // the window has passed: the upload has started
    assert.equal(q.items()[0].state, 'uploading');
    q.enqueue('a.txt');
    q.enqueue('a.txt');
    await idle(q);
    assert.deepEqual(dest.received, ['a.txt', 'a.txt']);
  });

  it('uploads different files in parallel up to its limit', async () => {
    const dest = new Destination();
    dest.latency = 30;
    const q = make(dest, { concurrency: 2 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.enqueue(k);
    await idle(q);
    assert.deepEqual([...dest.received].sort(), ['a', 'b', 'c', 'd', 'e']);
    assert.equal(dest.maxRunning, 2);
  });

  it('keeps a failed upload pending with its reason, and tells about it once', async () => {
    const dest = new Destination();
    dest.up = false;
    const told: [string, string, boolean][] = [];
    const q = make(dest, { onFailure: (key, error, first) => told.push([key, error.message, first]) });
    q.enqueue('a.txt');
    await idle(q);
    assert.equal(q.pending, 1);
    assert.deepEqual(q.failed.map((i) => [i.key, i.state, i.error?.message]), [['a.txt', 'failed', '421 Service not available']]);
    q.retry();
    await idle(q);
    assert.equal(q.failed[0].failures, 2);
    assert.deepEqual(told, [
      ['a.txt', '421 Service not available', true],
      ['a.txt', '421 Service not available', false],
    ]);
  });

  it('retries failed uploads on the next save, of any file', async () => {
    const dest = new Destination();
    dest.up = false;
    const q = make(dest);
    q.enqueue('a.txt');
    await idle(q);
    assert.equal(q.failed.length, 1);
    dest.up = true;
    q.enqueue('b.txt');
    await idle(q);
    assert.deepEqual([...dest.received].sort(), ['a.txt', 'b.txt']);
    assert.equal(q.pending, 0);
  });

  it('retries on the next save only the failed uploads its filter allows (held-back conflicts wait for their own save)', async () => {
    const dest = new Destination();
    dest.up = false;
    const q = make(dest, { retryOnEnqueue: (item) => item.key !== 'conflicted.txt' });
    q.enqueue('conflicted.txt');
    q.enqueue('a.txt');
    await idle(q);
    dest.up = true;
    q.enqueue('b.txt');
    await idle(q);
    assert.deepEqual([...dest.received].sort(), ['a.txt', 'b.txt']);
    assert.deepEqual(q.failed.map((i) => i.key), ['conflicted.txt']);
    q.enqueue('conflicted.txt');
    await idle(q);
    assert.equal(q.pending, 0);
  });

  it('retries on command, and a success clears the failure', async () => {
    const dest = new Destination();
    dest.up = false;
    let successes = 0;
    const q = make(dest, { onSuccess: () => successes++ });
    q.enqueue('a.txt');
    await idle(q);
    dest.up = true;
    q.retry();
    await idle(q);
    assert.deepEqual(dest.received, ['a.txt']);
    assert.equal(q.pending, 0);
    assert.equal(successes, 1);
  });

  it('drops a failed upload only when told to forget it', async () => {
    const dest = new Destination();
    dest.up = false;
    const q = make(dest, { retryFailedOnEnqueue: false });
    q.enqueue('a.txt');
    await idle(q);
    q.enqueue('b.txt');
    await idle(q);
    assert.deepEqual(q.failed.map((i) => i.key).sort(), ['a.txt', 'b.txt']);
    q.forget('a.txt');
    assert.deepEqual(q.failed.map((i) => i.key), ['b.txt']);
  });

  it('reports each change of state', async () => {
    const dest = new Destination();
    const seen: string[] = [];
    const q = make(dest, { onChange: () => seen.push(q.items().map((i) => `${i.key}:${i.state}`).join(',')) });
    q.enqueue('a.txt');
    await idle(q);
    assert.deepEqual(seen, ['a.txt:queued', 'a.txt:uploading', '']);
  });
});
