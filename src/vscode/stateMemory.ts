/**
 * A small per-server record kept in VS Code's globalState, so that what was learned about a server
 * (which data mode worked, what it offered) is known again in the next window.
 */
import type * as vscode from 'vscode';

/** The newest `max` keys are kept; setting undefined forgets a key. */
export interface StateMemory<T> {
  get(key: string): T | undefined;
  set(key: string, value: T | undefined): void;
}

export function stateMemory<T>(state: vscode.Memento, storageKey: string, max = 64): StateMemory<T> {
  const all = () => state.get<Record<string, T>>(storageKey, {});
  return {
    get: (key) => all()[key],
    set: (key, value) => {
      const before = all();
      if (JSON.stringify(before[key]) === JSON.stringify(value)) return;
      // Insertion order is age: the key moves to the end, the oldest go first.
      const { [key]: _old, ...rest } = before;
      const next: Record<string, T> = value === undefined ? rest : { ...rest, [key]: value };
      const keys = Object.keys(next);
      for (const old of keys.slice(0, Math.max(0, keys.length - max))) delete next[old];
      void state.update(storageKey, next);
    },
  };
}
