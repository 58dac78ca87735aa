/**
 * The core's events as log lines for every sink, the editor's log channel and the CLI's
 * `--verbose`, so both say the same thing the same way. Commands and replies are protocol detail
 * (trace), data channels and TLS are how it was done (debug), connects and transfers are what
 * happened (info), a fallback or a server's oddity is worth a look (warn). Secrets: the core masks PASS/ACCT and echoed passwords before it
 * emits; nothing here adds text the event did not carry, and a sink may mask more.
 */
import { formatRate } from './format';
import type { FtpEvent } from './types';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn';

export interface LogLine {
  level: LogLevel;
  /** Without the connection id (sinks place it); may hold several lines (a multi-line reply). */
  text: string;
}

export function formatEvent(e: FtpEvent): LogLine {
  switch (e.type) {
    case 'command':
      return { level: 'trace', text: `> ${e.text}` };
    case 'reply':
      // Each line of a multi-line reply marked, so none of them reads as ours.
      return { level: 'trace', text: `< ${e.text.replace(/\n/g, '\n< ')}` };
    case 'connect':
      return { level: 'info', text: `connected to ${e.host}:${e.port}${e.address ? ` (${e.address})` : ''}${e.proxy ? ` through the proxy ${e.proxy}` : ''}${e.tls ? ' with TLS' : ''}${e.early ? ' (connection started with the process)' : ''}` };
    case 'tls':
      return {
        level: 'debug',
        text: `TLS on ${e.channel}: ${e.protocol} ${e.cipher}${e.group ? ` (${e.group})` : ''}${e.resumed ? ', session resumed' : ''}${e.authorized ? '' : ', certificate not verified (trusted by fingerprint)'}`,
      };
    case 'data-open':
      return { level: 'debug', text: `data channel ${e.mode} for ${e.command}: local ${e.local} ↔ ${e.proxy ? `proxy ${e.proxy} ↔ ` : ''}remote ${e.remote}${e.tls ? `, TLS${e.resumed ? ' (resumed)' : ''}` : ''}` };
    case 'data-fallback':
      return { level: 'warn', text: `${e.from} data connection failed (${e.reason}); trying ${e.to}` };
    case 'transfer':
      return { level: 'info', text: `${e.direction} ${e.path}: ${e.bytes} bytes in ${e.ms} ms (${formatRate(e.bytes, e.ms)}, ${e.mode}${e.streamChunks === 0 && e.direction !== 'upload' ? ', straight into place' : ''})` };
    case 'close':
      return { level: 'info', text: `closed${e.reason ? `: ${e.reason}` : ''}` };
    case 'warning':
      return { level: 'warn', text: e.message };
    case 'in-advance':
      return { level: 'debug', text: `data connection in advance (${e.via}) to ${e.target}: ${e.state}${e.reason ? ` (${e.reason})` : ''}` };
    case 'learned':
      return { level: 'info', text: e.detail };
  }
}
