/** Waiting for what a client tells through its events, instead of sleeping or reading its fields. */
import type { FtpClient } from '../../src/ftp/client';
import type { FtpEvent } from '../../src/ftp/types';

/**
 * The first event of `client` that matches, among those seen already (`seen`) or still to come;
 * rejects after `timeoutMs` with what it waited for.
 */
export function eventOf<T extends FtpEvent['type']>(client: FtpClient, seen: FtpEvent[], type: T, match: (e: Extract<FtpEvent, { type: T }>) => boolean = () => true, timeoutMs = 10_000): Promise<Extract<FtpEvent, { type: T }>> {
  const matches = (e: FtpEvent): e is Extract<FtpEvent, { type: T }> => e.type === type && match(e as Extract<FtpEvent, { type: T }>);
  const already = seen.find(matches);
  if (already) return Promise.resolve(already);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.off('event', on); reject(new Error(`no '${type}' event of the kind awaited within ${timeoutMs} ms`)); }, timeoutMs);
    const on = (e: FtpEvent) => {
      if (!matches(e)) return;
      clearTimeout(timer);
      client.off('event', on);
      resolve(e);
    };
    client.on('event', on);
  });
}
