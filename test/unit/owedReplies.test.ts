import * as assert from 'node:assert/strict';
import { OwedReplies } from '../../src/ftp/owedReplies';

describe('OwedReplies', () => {
  function deferred() {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  }

  it('names what is owed, oldest first, until it comes', async () => {
    const owed = new OwedReplies();
    const final = deferred();
    const epsv = deferred();
    owed.add('final reply to RETR /a.txt', final.promise);
    owed.add('reply to EPSV (data connection in advance)', epsv.promise);
    assert.deepEqual(owed.pending, ['final reply to RETR /a.txt', 'reply to EPSV (data connection in advance)']);
    final.resolve();
    await final.promise;
    await Promise.resolve();
    assert.deepEqual(owed.pending, ['reply to EPSV (data connection in advance)']);
  });

  it('settles only once everything owed so far has come, a failure included', async () => {
    const owed = new OwedReplies();
    const first = deferred();
    const second = deferred();
    owed.add('one', first.promise);
    owed.add('two', second.promise);
    let settled = false;
    const done = owed.settle().then(() => { settled = true; });
    first.resolve();
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'still waits for the second');
    second.reject(new Error('connection lost'));
    await done;
    assert.deepEqual(owed.pending, []);
  });

  it('settles at once when nothing is owed', async () => {
    await new OwedReplies().settle();
  });
});
