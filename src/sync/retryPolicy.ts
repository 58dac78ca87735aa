/**
 * When a failed upload on save goes again without the user asking. The queue (uploadQueue.ts)
 * keeps failed uploads and sends them again on a save or on Retry; this adds the rest:
 * - an upload that could not reach the server at all (down, network, a name not resolved — or, in
 *   a new code-server window, settings that reach the extension late) goes again by itself after
 *   3 s, 10 s, 30 s, then every minute, until it succeeds or the user acts;
 * - a refusal by the server (a reply: permission, login, a full disk…) or a conflict waits for the
 *   user: trying again by itself would only repeat the refusal, or the question;
 * - a save or Retry sends every failed upload again (the queue does that), so the waits start over
 *   from 3 s: the user is back at work, the server may be too;
 * - a change of the extension's settings (a fixed profile) sends every failed upload but conflicts
 *   again at once, and an upload that failed while the settings changed under it goes again at once;
 * - an attempt of an upload replaces its scheduled retry: never two attempts for one failure.
 * It decides and keeps the timers; the caller's `retry` does the sending. Timers are the global
 * ones, so tests can drive them with fake timers.
 */
import { isFtpError, type FtpErrorKind } from '../ftp/errors';
import { ProxyError } from '../ftp/proxy';
import { UploadConflictError } from './transfer';

/** Waits before the 1st, 2nd, 3rd… automatic retry in a row; the last one repeats. */
export const AUTO_RETRY_DELAYS_MS: readonly number[] = [3_000, 10_000, 30_000, 60_000];

/** Failures where no server answered: nothing was refused, so trying again later may work. */
const UNREACHABLE: readonly FtpErrorKind[] = ['connect', 'connection-lost', 'timeout'];

export function isUnreachable(error: Error): boolean {
  // A proxy that is down is as unreachable as a server; one that refuses our password is not.
  if (error instanceof ProxyError) return error.failure === 'unreachable' || error.failure === 'timeout';
  return isFtpError(error) && UNREACHABLE.includes(error.kind);
}

/**
 * What follows a failure: `now` — sent again at once (the settings changed during the attempt);
 * `later` — sent again by itself after the next wait; `wait` — for a save, Retry or a settings change.
 */
export type AfterFailure = 'now' | 'later' | 'wait';

export interface RetryPolicyOptions {
  /** Sends these failed uploads again now (the queue's retry; keys no longer failed are skipped there). */
  retry: (keys: readonly string[]) => void;
  /** Overrides AUTO_RETRY_DELAYS_MS. */
  delaysMs?: readonly number[];
}

interface Upload {
  /** The settings version its running attempt started under; undefined while not running. */
  runningUnder?: number;
  /** Why its last attempt failed; undefined while running or before a failure. */
  failure?: Error;
  /** Failures in a row that could not reach the server since the user last acted: picks the wait. */
  unreachable: number;
  timer?: NodeJS.Timeout;
}

export class RetryPolicy {
  private readonly uploads = new Map<string, Upload>();
  private readonly delaysMs: readonly number[];
  private settingsVersion = 0;
  private disposed = false;

  constructor(private readonly options: RetryPolicyOptions) {
    this.delaysMs = options.delaysMs ?? AUTO_RETRY_DELAYS_MS;
  }

  /** An attempt of `key` starts (after a save, Retry, a settings change or a scheduled retry): it replaces any retry scheduled. */
  started(key: string): void {
    if (this.disposed) return;
    const upload = this.uploadOf(key);
    this.cancel(upload);
    upload.runningUnder = this.settingsVersion;
    upload.failure = undefined;
  }

  /** The attempt of `key` failed with `error`: schedules what follows, and says what it is. */
  failed(key: string, error: Error): AfterFailure {
    if (this.disposed) return 'wait';
    const upload = this.uploadOf(key);
    const stale = upload.runningUnder !== undefined && upload.runningUnder !== this.settingsVersion;
    upload.runningUnder = undefined;
    upload.failure = error;
    this.cancel(upload);
    // A conflict was just asked about: asking again by itself would nag.
    if (error instanceof UploadConflictError) return 'wait';
    // The failure may be the old settings' (a wrong profile): the new ones get their chance.
    if (stale) {
      this.options.retry([key]);
      return 'now';
    }
    if (!isUnreachable(error)) {
      upload.unreachable = 0;
      return 'wait';
    }
    upload.unreachable++;
    const wait = this.delaysMs[Math.min(upload.unreachable, this.delaysMs.length) - 1];
    upload.timer = setTimeout(() => {
      upload.timer = undefined;
      this.options.retry([key]);
    }, wait);
    return 'later';
  }

  /** The upload of `key` succeeded, or the user let it go: nothing more to retry. */
  forget(key: string): void {
    const upload = this.uploads.get(key);
    if (upload) this.cancel(upload);
    this.uploads.delete(key);
  }

  /**
   * The user saved a file or chose Retry: the queue sends every failed upload again, and the
   * waits of the next failures start over from the first one.
   */
  userActed(): void {
    for (const upload of this.uploads.values()) upload.unreachable = 0;
  }

  /** The extension's settings changed: every failed upload but conflicts goes again now, waits start over. */
  settingsChanged(): void {
    if (this.disposed) return;
    this.settingsVersion++;
    this.userActed();
    const failed = [...this.uploads].filter(([, u]) => u.failure && !(u.failure instanceof UploadConflictError));
    // They go now: a retry scheduled for later would be a second attempt.
    for (const [, upload] of failed) this.cancel(upload);
    if (failed.length > 0) this.options.retry(failed.map(([key]) => key));
  }

  /** Whether a retry of `key` is waiting for its time. */
  scheduled(key: string): boolean {
    return this.uploads.get(key)?.timer !== undefined;
  }

  /** No retry fires after this, scheduled or not. */
  dispose(): void {
    this.disposed = true;
    for (const upload of this.uploads.values()) this.cancel(upload);
    this.uploads.clear();
  }

  private uploadOf(key: string): Upload {
    let upload = this.uploads.get(key);
    if (!upload) {
      upload = { unreachable: 0 };
      this.uploads.set(key, upload);
    }
    return upload;
  }

  private cancel(upload: Upload): void {
    clearTimeout(upload.timer);
    upload.timer = undefined;
  }
}
