/**
 * The one home of the defaults: ports, timeouts, pool and listing-cache settings. It sits in the
 * lowest layer so the core, src/remote, the CLI and the editor glue all read the same numbers.
 * The settings in package.json (`contributes.configuration`, in seconds) document the same values;
 * test/unit/defaults.test.ts fails when one side changes alone.
 */
import type { DataMode, Security } from './types';

/** Control port of plain FTP and of explicit FTPS, which upgrades on the same port (RFC 959, 4217). */
export const ftpPort = 21;
/** Control port of implicit FTPS: TLS from the first byte needs a port of its own. */
export const implicitFtpsPort = 990;

export function defaultPort(security: Security | undefined): number {
  return security === 'implicit' ? implicitFtpsPort : ftpPort;
}

/** Connect and greeting. Long enough for a slow TLS handshake over a bad link. */
export const connectTimeoutMs = 15_000;
/** Any reply to a command. Servers may think a while over a big folder's `MLSD`/`LIST`. */
export const replyTimeoutMs = 30_000;
/** A data connection opening (passive: ours; active: the server connecting back). */
export const dataConnectTimeoutMs = 10_000;
/** A transfer moving no bytes at all: the data connection is dead, not slow. */
export const dataIdleTimeoutMs = 60_000;

/** Passive first: it survives NAT and firewalls on this side; auto falls back to active. */
export const dataMode: DataMode = 'auto';
/** Open the next passive data connection when a transfer ends: one round trip less next time. */
export const passiveInAdvance = true;
/** Connect to the control peer, not to a PASV reply's address (often private; a bounce risk). */
export const trustPasvAddress = false;
/** Direct connections: FTP is not HTTP, and a proxy for web traffic seldom carries it (README, "Proxies"). */
export const proxy = 'none';

/** Connections per server: many servers allow only 2–8 per address and count other clients too. */
export const poolSize = 2;
/** The most a profile or setting may ask for. */
export const poolMaxSize = 10;
/**
 * Connections a search leaves to the editor: with the default pool of 2 a search walks and
 * downloads on one while opening and saving files keeps the other.
 */
export const poolBackgroundReserve = 1;
/**
 * Connections a search in the extension may hold at once, besides the one kept for the editor (the
 * pool grows to this + poolBackgroundReserve if poolSize is smaller). Every small file costs ~3
 * round trips on its connection whatever the client does (vsftpd answers one command at a time and
 * sends each 226 only once the data is acknowledged; bench/results-2026-12-07b-search-speed.md), so
 * connections are what makes a cold search fast: 2,000 files at 50 ms need 12 for 30 s. As many as
 * rclone opens by default; a server that allows fewer says so with 421, which shrinks the search's
 * share (never the editor's), and the connections above poolSize close soon after the search
 * (poolSurplusIdleTimeoutMs).
 */
export const searchConnections = 12;
/** The most `ftpWorkspace.search.connections` and `--connections` may ask for. */
export const searchMaxConnections = 16;
/** A search reads no file larger than this (bytes): huge files are logs and dumps, rarely worth the transfer. */
export const searchMaxFileSize = 5 * 1024 * 1024;
/** The content cache of text search keeps at most this much on disk (bytes). */
export const searchCacheBytes = 200 * 1024 * 1024;
/**
 * Find in Files lists no folder again when the index's last whole walk ended at most this long ago
 * (ms): the search after a search, or after a refresh, answers from the index and the content
 * cache in a moment, and its summary says how old the listings are.
 */
export const searchListingsMaxAgeMs = 2 * 60_000;
/** An index older than this is walked again in the background when used (ms). */
export const searchIndexMaxAgeMs = 10 * 60_000;
/** `ftp-workspace find|grep`: connections at once (a CLI run has no editor to leave one to). */
export const searchCliConnections = searchConnections;
/** Close a connection unused this long. */
export const poolIdleTimeoutMs = 60_000;
/**
 * Close a connection above the user's poolSize (one a search opened) unused this long: a server's
 * slots are shared with other clients, and the search again needs few connections (its cache).
 */
export const poolSurplusIdleTimeoutMs = 10_000;
/**
 * How long a server's "too many connections" (421) is remembered after our connections closed:
 * long enough that searches in a row are not refused again and again, short enough that slots
 * other clients held at the time are tried again.
 */
export const poolLimitMemoryMs = 10 * 60_000;
/** `NOOP` on an unused connection this often, until it is closed, so the server keeps it. */
export const poolKeepaliveMs = 30_000;

/** How long a folder listing answers stat/readDirectory before asking the server again. */
export const listingCacheTtlMs = 5_000;
/** Checking open folders for others' changes costs round trips: off unless asked for. */
export const pollIntervalMs = 0;
/** Saves go to a temporary name and are renamed over the target: a cut save leaves the old file. */
export const safeSave = 'rename';
/**
 * Resumable transfers (CLI --resume, linked folders' sync): files from this size on go on from a
 * partial copy after a cut; smaller ones are sent again whole, which costs less than the checks.
 */
export const resumeThresholdBytes = 1024 * 1024;
/** Times a resumable transfer goes on after a cut before it fails. */
export const resumeRetries = 5;
/** Compare the server's checksum of an upload with ours where it offers one (HASH, XSHA256…): one round trip. */
export const verifyUploads = true;
