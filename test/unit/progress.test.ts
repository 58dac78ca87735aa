/**
 * src/vscode/progress.ts against a stand-in for the one piece of `vscode` it uses
 * (window.withProgress), with fake timers: when the notification shows, what it says, and that
 * Cancel aborts the work's signal.
 */
import * as assert from 'node:assert/strict';
import Module from 'node:module';
import * as FakeTimers from '@sinonjs/fake-timers';
import type { ProgressOptions, ProgressReporter } from '../../src/vscode/progress';

interface Shown {
  title: string;
  cancellable: boolean;
  reports: { message?: string; increment?: number }[];
  cancel: () => void;
  closed: boolean;
}

const shown: Shown[] = [];
const fakeVscode = {
  ProgressLocation: { Notification: 15 },
  window: {
    withProgress(
      options: { title: string; cancellable: boolean },
      task: (progress: { report: (r: { message?: string; increment?: number }) => void }, token: { onCancellationRequested: (f: () => void) => void }) => Promise<unknown>,
    ): Promise<unknown> {
      const listeners: (() => void)[] = [];
      const s: Shown = { title: options.title, cancellable: options.cancellable, reports: [], cancel: () => listeners.forEach((f) => f()), closed: false };
      shown.push(s);
      return task({ report: (r) => s.reports.push(r) }, { onCancellationRequested: (f) => listeners.push(f) }).finally(() => (s.closed = true));
    },
  },
};

type Run = <T>(options: ProgressOptions, work: (reporter: ProgressReporter) => Promise<T>) => Promise<T>;

describe('progress with cancel', () => {
  let withProgress: Run;
  let clock: ReturnType<typeof FakeTimers.install>;
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const realLoad = loader._load;

  before(async () => {
    loader._load = (request, ...rest) => (request === 'vscode' ? fakeVscode : realLoad(request, ...rest));
    ({ withProgress } = await import('../../src/vscode/progress'));
  });
  after(() => {
    loader._load = realLoad;
  });
  beforeEach(() => {
    shown.length = 0;
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.uninstall());

  it('shows a cancellable notification at once and closes it when the work ends', async () => {
    const result = await withProgress({ title: 'Testing' }, async (p) => {
      p.report('Connect: ok');
      return 42;
    });
    assert.equal(result, 42);
    await Promise.resolve();
    assert.equal(shown.length, 1);
    assert.equal(shown[0].title, 'Testing');
    assert.equal(shown[0].cancellable, true);
    assert.deepEqual(shown[0].reports, [{ message: 'Connect: ok', increment: undefined }]);
    assert.ok(shown[0].closed);
  });

  it('aborts the signal on Cancel', async () => {
    let signal: AbortSignal | undefined;
    const running = withProgress({ title: 'x' }, (p) => {
      signal = p.signal;
      return new Promise<void>((resolve) => p.signal.addEventListener('abort', () => resolve()));
    });
    assert.equal(signal?.aborted, false);
    shown[0].cancel();
    await running;
    assert.equal(signal?.aborted, true);
  });

  it('reports bytes of a known total with the bar, merging reports closer than 200 ms', async () => {
    let finish!: () => void;
    const running = withProgress({ title: 'Uploading a.bin', totalBytes: 4 * 1024 * 1024 }, (p) => {
      p.bytes(1024 * 1024);
      p.bytes(2 * 1024 * 1024); // within 200 ms: shown later, not lost
      return new Promise<void>((resolve) => (finish = resolve));
    });
    assert.deepEqual(shown[0].reports, [{ message: '1.0 MB of 4.0 MB', increment: 25 }]);
    await clock.tickAsync(200);
    assert.deepEqual(shown[0].reports[1], { message: '2.0 MB of 4.0 MB', increment: 25 });
    finish();
    await running;
  });

  it('turns fractions of the whole into increments that never go back or past 100%', async () => {
    await withProgress({ title: 'Sync' }, async (p) => {
      p.report('1/4', 0.5);
      await clock.tickAsync(200);
      p.report('2/4', 0.4);
      await clock.tickAsync(200);
      p.report('4/4', 1.2);
    });
    assert.deepEqual(shown[0].reports.map((r) => r.increment), [50, 0, 50]);
  });

  it('with a delay, shows nothing for quick work and the latest bytes for slow work', async () => {
    await withProgress({ title: 'quick', showAfterFirstReportMs: 1000 }, async (p) => {
      p.bytes(10);
      await clock.tickAsync(500);
    });
    await clock.tickAsync(2000);
    assert.equal(shown.length, 0);

    await withProgress({ title: 'slow', showAfterFirstReportMs: 1000 }, async (p) => {
      await clock.tickAsync(5000); // waiting for a connection: no clock yet
      assert.equal(shown.length, 0);
      p.bytes(512 * 1024);
      await clock.tickAsync(1000);
      assert.equal(shown.length, 1);
      assert.deepEqual(shown[0].reports, [{ message: '512 KB', increment: undefined }]);
    });
  });
});
