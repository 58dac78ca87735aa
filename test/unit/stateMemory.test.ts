import * as assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { stateMemory } from '../../src/vscode/stateMemory';

/** globalState as VS Code keeps it: values stored as JSON, written by update(). */
class Memento implements vscode.Memento {
  readonly stored = new Map<string, string>();
  updates = 0;
  keys(): readonly string[] { return [...this.stored.keys()]; }
  get<T>(key: string, fallback?: T): T {
    const v = this.stored.get(key);
    return v === undefined ? fallback as T : JSON.parse(v) as T;
  }
  update(key: string, value: unknown): Thenable<void> {
    this.updates++;
    this.stored.set(key, JSON.stringify(value));
    return Promise.resolve();
  }
}

describe('what is learned about servers, kept in globalState', () => {
  it('is known again through another memory on the same state (the next window)', () => {
    const state = new Memento();
    stateMemory<{ epsv: boolean }>(state, 'k').set('none ftp.example.com:21', { epsv: true });
    assert.deepEqual(stateMemory<{ epsv: boolean }>(state, 'k').get('none ftp.example.com:21'), { epsv: true });
    assert.equal(stateMemory(state, 'k').get('none other:21'), undefined);
  });

  it('writes only what changed, and forgets a key set to undefined', () => {
    const state = new Memento();
    const m = stateMemory<{ epsv: boolean }>(state, 'k');
    m.set('a', { epsv: true });
    m.set('a', { epsv: true });
    assert.equal(state.updates, 1, 'the same value again is not written');
    m.set('a', { epsv: false });
    assert.deepEqual(m.get('a'), { epsv: false });
    m.set('a', undefined);
    assert.equal(m.get('a'), undefined);
    assert.deepEqual(state.get('k'), {});
  });

  it('keeps the newest servers only', () => {
    const state = new Memento();
    const m = stateMemory<string>(state, 'k', 3);
    for (const key of ['a', 'b', 'c']) m.set(key, 'passive');
    m.set('a', 'active'); // a is the newest now
    m.set('d', 'passive');
    assert.deepEqual(Object.keys(state.get<Record<string, string>>('k', {})), ['c', 'a', 'd']);
    assert.equal(m.get('b'), undefined);
  });
});
