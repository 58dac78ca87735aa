/**
 * Uploads waiting to happen, for upload on save. Saves of the same file in quick succession
 * become one upload (of whatever is on disk when it starts); a save during that file's upload
 * makes one more afterwards. A failed upload is never dropped: it stays in the queue as failed,
 * with its reason, until an upload of it succeeds — on the next save, or on an explicit retry —
 * or the user lets it go.
 */

export type UploadState = 'queued' | 'uploading' | 'failed';

export interface UploadItem {
  key: string;
  state: UploadState;
  /** Why the last attempt failed (kept while a retry is queued or running). */
  error?: Error;
  /** Failed attempts in a row. */
  failures: number;
}

export interface UploadQueueOptions {
  /** Does one upload. Throw to leave the item pending as failed. */
  upload: (key: string, signal: AbortSignal) => Promise<void>;
  /** Saves within this window are coalesced (default 300 ms). */
  delayMs?: number;
  /** Uploads at once (default 2). */
  concurrency?: number;
  /** A new save retries every failed upload too (default true): the user is back at work, the server may be too. */
  retryFailedOnEnqueue?: boolean;
  /** Which failed uploads a new save retries (default: all). */
  retryOnEnqueue?: (item: UploadItem) => boolean;
  /** Something changed (for a status bar). */
  onChange?: () => void;
  /** An upload failed; `first` is true when the item was not failing already, so the user is told once. */
  onFailure?: (key: string, error: Error, first: boolean) => void;
  /** An upload of `key` succeeded. */
  onSuccess?: (key: string) => void;
}

interface Entry extends UploadItem {
  /** The coalescing window has passed: may start. */
  ready: boolean;
  /** Saved again while uploading: upload once more afterwards. */
  dirty: boolean;
  timer?: NodeJS.Timeout;
  controller?: AbortController;
}

export class UploadQueue {
  private readonly entries = new Map<string, Entry>();
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  private disposed = false;
  private readonly delayMs: number;
  private readonly concurrency: number;

  constructor(private readonly options: UploadQueueOptions) {
    this.delayMs = options.delayMs ?? 300;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
  }

  /** A save of `key`. */
  enqueue(key: string): void {
    if (this.disposed) return;
    this.schedule(key);
    if (this.options.retryFailedOnEnqueue ?? true) {
      const wanted = this.options.retryOnEnqueue ?? (() => true);
      for (const e of this.entries.values()) if (e.state === 'failed' && e.key !== key && wanted(e)) this.schedule(e.key);
    }
    this.changed();
  }

  /** Tries the failed uploads again (all, or the given ones) now. */
  retry(keys?: readonly string[]): void {
    for (const e of [...this.entries.values()]) {
      if (e.state === 'failed' && (!keys || keys.includes(e.key))) this.schedule(e.key, 0);
    }
    this.changed();
  }

  /** The user gave up on a failed upload (e.g. chose to keep the server's copy). */
  forget(key: string): void {
    const e = this.entries.get(key);
    if (!e || e.state === 'uploading') return;
    clearTimeout(e.timer);
    this.entries.delete(key);
    this.changed();
    this.checkIdle();
  }

  items(): UploadItem[] {
    return [...this.entries.values()].map(({ key, state, error, failures }) => ({ key, state, error, failures }));
  }

  get failed(): UploadItem[] {
    return this.items().filter((i) => i.state === 'failed');
  }

  /** Queued, uploading and failed uploads: everything not yet on the server. */
  get pending(): number {
    return this.entries.size;
  }

  /** Resolves when nothing is queued or uploading (failed uploads may remain). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  dispose(): void {
    this.disposed = true;
    for (const e of this.entries.values()) {
      clearTimeout(e.timer);
      e.controller?.abort();
    }
  }

  private schedule(key: string, delay = this.delayMs): void {
    let e = this.entries.get(key);
    if (!e) {
      e = { key, state: 'queued', failures: 0, ready: false, dirty: false };
      this.entries.set(key, e);
    }
    if (e.state === 'uploading') {
      e.dirty = true;
      return;
    }
    // A failed item keeps its error until it succeeds, so the status can still say why.
    e.state = e.state === 'failed' ? 'queued' : e.state;
    e.ready = false;
    clearTimeout(e.timer);
    const entry = e;
    e.timer = setTimeout(() => {
      entry.timer = undefined;
      entry.ready = true;
      this.pump();
    }, delay);
  }

  private pump(): void {
    if (this.disposed) return;
    for (const e of this.entries.values()) {
      if (this.running >= this.concurrency) break;
      if (e.state === 'queued' && e.ready) void this.start(e);
    }
    this.checkIdle();
  }

  private async start(e: Entry): Promise<void> {
    this.running++;
    e.state = 'uploading';
    e.ready = false;
    e.dirty = false;
    e.controller = new AbortController();
    this.changed();
    let error: Error | undefined;
    try {
      await this.options.upload(e.key, e.controller.signal);
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    this.running--;
    e.controller = undefined;
    if (this.disposed) return;
    if (!error) {
      this.options.onSuccess?.(e.key);
      if (e.dirty) {
        e.state = 'queued';
        e.ready = true;
        e.failures = 0;
        e.error = undefined;
      } else {
        this.entries.delete(e.key);
      }
    } else {
      const first = e.failures === 0;
      e.failures++;
      e.error = error;
      e.state = 'failed';
      // A save arrived during the failed attempt: that save deserves its own try.
      if (e.dirty) this.schedule(e.key);
      this.options.onFailure?.(e.key, error, first);
    }
    this.changed();
    this.pump();
  }

  private isIdle(): boolean {
    return [...this.entries.values()].every((e) => e.state === 'failed');
  }

  private checkIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private changed(): void {
    this.options.onChange?.();
  }
}
