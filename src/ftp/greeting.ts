/**
 * What a server's greeting says about how it works that FEAT does not: kept apart from the login,
 * as small flags a session reads where it matters.
 */
import type { Reply } from './reply';

export interface GreetingTraits {
  /**
   * The server reads no command while a transfer runs, and answers one that came during it right
   * behind the transfer's final reply, in order. vsftpd is one (its transfer loop does not look at
   * the control connection), and it writes an upload's 226 only after the lingering close of the
   * data connection, a round trip after our last byte: commands sent at the data's end then cost
   * no round trip of their own.
   */
  commandsWaitForTransfer: boolean;
}

/** vsftpd's own greeting, unless its ftpd_banner replaced it: "220 (vsFTPd 3.0.3)". */
const VSFTPD = /^\(vsFTPd \d+\.\d+(\.\d+)*\)$/;

export function greetingTraits(greeting: Reply): GreetingTraits {
  return { commandsWaitForTransfer: greeting.code === 220 && VSFTPD.test(greeting.message.trim()) };
}
