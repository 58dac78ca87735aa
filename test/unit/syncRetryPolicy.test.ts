import * as assert from 'node:assert/strict';
import * as FakeTimers from '@sinonjs/fake-timers';
import { FtpError } from '../../src/ftp/errors';
import { RetryPolicy } from '../../src/sync/retryPolicy';
import { UploadConflictError } from '../../src/sync/transfer';
import { UploadQueue } from '../../src/sync/uploadQueue';

const down = () => new FtpError('connect', 'Could not connect to demo:21: connection refused');
const lost = () => new FtpError('connection-lost', 'The server closed the connection');
const slow = () => new FtpError('timeout', 'No reply within 30 s');
const refused = () => new FtpError('permission', '553 Could not create file.', { code: 553 });
const conflict = () => new UploadConflictError('index.html');

interface Asked {
  at: number;
  keys: string[];
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

describe('automatic retry of failed uploads', () => {
  let clock: FakeTimers.Clock;
  let policy: RetryPolicy;
  /** Each retry the policy asked for: when (ms of fake time) and of which uploads. */
  let asked: Asked[];

  beforeEach(() => {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    asked = [];
    policy = new RetryPolicy({ retry: (keys) => asked.push({ at: clock.now, keys: [...keys] }) });
  });
  afterEach(() => {
    policy.dispose();
    clock.uninstall();
  });

  /** One attempt of `key` that fails at once with `error`. */
  function attemptFails(key: string, error: Error) {
    policy.started(key);
    return policy.failed(key, error);
  }

  /** The server stays out of reach: every retry asked for is an attempt that fails at once. */
  function serverStaysDown() {
    policy = new RetryPolicy({
      retry: (keys) => {
        for (const key of keys) {
          asked.push({ at: clock.now, keys: [key] });
          attemptFails(key, down());
        }
      },
    });
  }

  it('tries an upload that could not reach the server again after 3 s, 10 s, 30 s, then every minute', () => {
    serverStaysDown();
    assert.equal(attemptFails('index.html', down()), 'later');
    clock.tick(3 * SECOND - 1);
    assert.equal(asked.length, 0, 'nothing before 3 s');
    clock.tick(8 * MINUTE);
    const waits = asked.map((a, i) => a.at - (i === 0 ? 0 : asked[i - 1].at));
    assert.deepEqual(waits, [3, 10, 30, 60, 60, 60, 60, 60, 60, 60].map((s) => s * SECOND));
  });

  it('retries by itself after a lost connection and a timeout as well', () => {
    assert.equal(attemptFails('a.css', lost()), 'later');
    assert.equal(attemptFails('b.js', slow()), 'later');
    clock.tick(3 * SECOND);
    assert.deepEqual(asked, [{ at: 3 * SECOND, keys: ['a.css'] }, { at: 3 * SECOND, keys: ['b.js'] }]);
  });

  it('never retries a refusal by the server by itself, however long it waits', () => {
    // The extension test of this waits 2.5 s, less than the first 3 s wait: this one waits an hour.
    assert.equal(attemptFails('index.html', refused()), 'wait');
    clock.tick(60 * MINUTE);
    assert.deepEqual(asked, []);
    assert.equal(policy.scheduled('index.html'), false);
  });

  it('stops retrying by itself once the server answers with a refusal', () => {
    attemptFails('index.html', down());
    clock.tick(3 * SECOND);
    assert.equal(asked.length, 1);
    assert.equal(attemptFails('index.html', refused()), 'wait');
    clock.tick(60 * MINUTE);
    assert.equal(asked.length, 1);
  });

  it('never retries a conflict or a local failure by itself', () => {
    assert.equal(attemptFails('index.html', conflict()), 'wait');
    assert.equal(attemptFails('big.iso', new Error('EACCES: permission denied, open big.iso')), 'wait');
    assert.equal(attemptFails('x.txt', new FtpError('data-channel', 'The data connection could not be opened', { mode: 'passive' })), 'wait');
    clock.tick(60 * MINUTE);
    assert.deepEqual(asked, []);
  });

  it('starts the waits over from 3 s after a save or Retry', () => {
    attemptFails('index.html', down());
    for (let i = 0; i < 3; i++) {
      clock.tick(MINUTE);
      attemptFails('index.html', down());
    }
    const before = asked.length;
    // The next wait would be a minute; the user saves (the queue sends every failed upload again).
    policy.userActed();
    attemptFails('index.html', down());
    clock.tick(3 * SECOND);
    assert.equal(asked.length, before + 1, 'retried 3 s after the save\'s attempt failed');
  });

  it('sends every failed upload but conflicts again at once when the settings change', () => {
    attemptFails('tls.html', new FtpError('tls', 'The server refused TLS (AUTH TLS answered 530)'));
    attemptFails('down.html', down());
    attemptFails('conflict.html', conflict());
    clock.tick(SECOND);
    policy.settingsChanged();
    assert.deepEqual(asked, [{ at: SECOND, keys: ['tls.html', 'down.html'] }]);
    assert.equal(policy.scheduled('down.html'), false, 'sent now: no second attempt at 3 s');
    clock.tick(10 * MINUTE);
    assert.equal(asked.length, 1);
  });

  it('sends an upload that failed while the settings changed under it again at once, even a refusal', () => {
    policy.started('index.html');
    policy.settingsChanged();
    assert.deepEqual(asked, [], 'still running: nothing to send yet');
    assert.equal(policy.failed('index.html', refused()), 'now');
    assert.deepEqual(asked, [{ at: 0, keys: ['index.html'] }]);
    // Its next attempt runs under the new settings: a failure then is its own.
    assert.equal(attemptFails('index.html', refused()), 'wait');
  });

  it('keeps a conflict that failed while the settings changed waiting for its question', () => {
    policy.started('index.html');
    policy.settingsChanged();
    assert.equal(policy.failed('index.html', conflict()), 'wait');
    assert.deepEqual(asked, []);
  });

  it('starts the waits over after a settings change', () => {
    serverStaysDown();
    attemptFails('index.html', down());
    clock.tick(3 * SECOND + 10 * SECOND + 30 * SECOND); // next wait: a minute
    const before = asked.length;
    policy.settingsChanged();
    assert.equal(asked.length, before + 1, 'sent at once');
    clock.tick(3 * SECOND);
    assert.equal(asked.length, before + 2, 'then 3 s after that attempt failed');
  });

  it('drops a scheduled retry when an attempt of the same upload starts, even one slower than the wait', () => {
    attemptFails('index.html', down());
    clock.tick(SECOND);
    policy.started('index.html'); // a save's attempt
    assert.equal(policy.scheduled('index.html'), false);
    clock.tick(20 * SECOND); // a slow attempt, longer than the 3 s wait
    assert.deepEqual(asked, [], 'no second attempt while one runs');
    assert.equal(policy.failed('index.html', down()), 'later');
    clock.tick(10 * SECOND);
    assert.deepEqual(asked, [{ at: 31 * SECOND, keys: ['index.html'] }]);
  });

  it('forgets an upload that succeeded: no retry, and its next failure waits 3 s again', () => {
    attemptFails('index.html', down());
    policy.forget('index.html');
    clock.tick(10 * MINUTE);
    assert.deepEqual(asked, []);
    attemptFails('index.html', down());
    clock.tick(3 * SECOND);
    assert.equal(asked.length, 1);
  });

  it('retries nothing once disposed', () => {
    attemptFails('a.html', down());
    attemptFails('b.html', lost());
    attemptFails('c.html', refused());
    policy.dispose();
    clock.tick(60 * MINUTE);
    assert.equal(attemptFails('d.html', down()), 'wait');
    policy.settingsChanged();
    clock.tick(60 * MINUTE);
    assert.deepEqual(asked, []);
    assert.equal(clock.countTimers(), 0);
  });

  it('with the upload queue: a save while the server is down goes up by itself once it is back', async () => {
    let serverUp = false;
    const attempts: number[] = [];
    const queue: UploadQueue = new UploadQueue({
      upload: async (key) => {
        policy.started(key);
        attempts.push(clock.now);
        if (!serverUp) throw down();
      },
      onFailure: (key, error) => policy.failed(key, error),
      onSuccess: (key) => policy.forget(key),
    });
    policy = new RetryPolicy({ retry: (keys) => queue.retry(keys) });
    try {
      policy.userActed();
      queue.enqueue('index.html');
      await clock.tickAsync(20 * SECOND);
      serverUp = true;
      await clock.tickAsync(10 * MINUTE);
      // The save's attempt after the queue's 300 ms, then 3 s, 10 s and 30 s later (that one succeeds);
      // each retry starts 1 ms late, as the queue's setTimeout(0) does in Node.
      assert.deepEqual(attempts, [300, 3_301, 13_302, 43_303]);
      assert.equal(queue.pending, 0);
    } finally {
      queue.dispose();
    }
  });
});
