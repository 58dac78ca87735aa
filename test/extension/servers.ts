/**
 * What setup.ts (plain Node) and the tests (extension host) agree on: the workspace folders and the
 * names of the environment variables that describe each real server. No `vscode` import here.
 */

/** Profiles of the real servers the tests start (setup.ts), with a password login each. */
export const REAL_SERVERS = ['vsftpd', 'pureftpd'] as const;
export type RealServerName = (typeof REAL_SERVERS)[number];

/** The multi-root workspace the window opens: one folder per server profile. */
export const FOLDERS: readonly { name: string; uri: string }[] = [
  { name: 'demo', uri: 'ftp://demo/' },
  { name: 'vsftpd', uri: 'ftp://vsftpd/' },
  { name: 'pureftpd', uri: 'ftp://pureftpd/' },
];

/** A profile on vsftpd reached through a SOCKS5 proxy (setup.ts, proxy.test.ts); no workspace folder of its own. */
export const PROXIED_PROFILE = 'proxied';

/**
 * A profile on vsftpd reached through a port (FTPW_TEST_FLAKY_PORT) where a test puts a forwarder
 * of its own (test/support/serverAddress.ts), and takes it away: a server that goes offline and
 * comes back (offline.test.ts), connections cut mid-transfer (copyResume.test.ts).
 */
export const FLAKY_PROFILE = 'flaky';
export const FLAKY_PORT_ENV = 'FTPW_TEST_FLAKY_PORT';

const variable = (name: RealServerName, what: string): string => `FTPW_TEST_${name.toUpperCase()}_${what}`;

/** Environment variables the extension host gets per real server. */
export const ENV = {
  port: (name: RealServerName) => variable(name, 'PORT'),
  /** The server's folder on this disk: what it serves as '/'. */
  root: (name: RealServerName) => variable(name, 'ROOT'),
  password: (name: RealServerName) => variable(name, 'PASSWORD'),
  /** "uid:gid" of the FTP user, so files the tests put on disk can be changed by the server. */
  owner: (name: RealServerName) => variable(name, 'OWNER'),
};
