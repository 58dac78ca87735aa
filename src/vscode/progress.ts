/**
 * Long FTP work in the editor: a notification with a Cancel button that aborts the work's
 * AbortSignal (the core and src/sync stop on it), and a reporter for bytes or a message. Every
 * transfer, sync and connection test goes through here, so all look and cancel alike.
 */
import * as vscode from 'vscode';
import { formatBytes } from '../ftp/format';

export interface ProgressReporter {
  /** Aborted when the user presses Cancel. */
  readonly signal: AbortSignal;
  /** Bytes moved so far: "1.5 MB of 12 MB" (of `totalBytes`, which also moves the bar, when known). */
  bytes(done: number): void;
  /** Any other message; `fraction` (0–1) of the whole moves the bar. */
  report(message: string, fraction?: number): void;
}

export interface ProgressOptions {
  title: string;
  /** A Cancel button that aborts the signal (default true). */
  cancellable?: boolean;
  /** Size of the whole, for `bytes()`. */
  totalBytes?: number;
  /**
   * Show nothing until this long after the first report: a quick transfer should not flash a
   * notification, and waiting for a connection (or for the user to type a password) is no
   * transfer — VS Code reads .vscode/settings.json & co. while the password prompt is open.
   */
  showAfterFirstReportMs?: number;
}

/** Reports closer together than this are merged, the last one shown: no redraw per chunk. */
const REPORT_EVERY_MS = 200;

interface Update {
  message: string;
  fraction?: number;
}

export async function withProgress<T>(options: ProgressOptions, work: (reporter: ProgressReporter) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let latest: Update | undefined;
  /** Set while the notification is up. */
  let show: ((update: Update) => void) | undefined;
  let lastShown = -Infinity;
  let trailing: NodeJS.Timeout | undefined;
  let delay: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const flush = () => {
    trailing = undefined;
    if (!latest || !show) return;
    lastShown = Date.now();
    show(latest);
  };
  const open = () => {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: options.title, cancellable: options.cancellable ?? true },
      (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        // VS Code's bar adds up increments; we know fractions of the whole.
        let shownFraction = 0;
        show = ({ message, fraction }) => {
          let increment: number | undefined;
          if (fraction !== undefined) {
            const f = Math.min(1, Math.max(shownFraction, fraction));
            increment = (f - shownFraction) * 100;
            shownFraction = f;
          }
          progress.report({ message, increment });
        };
        flush();
        return finished;
      },
    );
  };
  const update = (next: Update) => {
    latest = next;
    if (options.showAfterFirstReportMs !== undefined) delay ??= setTimeout(open, options.showAfterFirstReportMs);
    if (!show || trailing) return;
    const wait = lastShown + REPORT_EVERY_MS - Date.now();
    if (wait <= 0) flush();
    else trailing = setTimeout(flush, wait);
  };

  const total = options.totalBytes !== undefined && options.totalBytes > 0 ? options.totalBytes : undefined;
  const reporter: ProgressReporter = {
    signal: controller.signal,
    bytes: (done) => update(total ? { message: `${formatBytes(done)} of ${formatBytes(total)}`, fraction: done / total } : { message: formatBytes(done) }),
    report: (message, fraction) => update({ message, fraction }),
  };
  if (options.showAfterFirstReportMs === undefined) open();
  try {
    return await work(reporter);
  } finally {
    clearTimeout(delay);
    clearTimeout(trailing);
    finish();
  }
}
