/**
 * Certificate checks for FTPS. We always connect with rejectUnauthorized=false and decide
 * ourselves, so a self-signed certificate can be trusted once by fingerprint (pinned) instead of
 * turning verification off for good.
 */
import { isIPAddress } from './address';
import * as tls from 'node:tls';
import { FtpError } from './errors';
import type { CertificateInfo, TlsOptions } from './types';

export function certificateInfo(socket: tls.TLSSocket, host: string, reason: string): CertificateInfo {
  const cert = socket.getPeerCertificate();
  const name = (o: unknown) => (o && typeof o === 'object' ? Object.entries(o).map(([k, v]) => `${k}=${String(v)}`).join(', ') : '');
  return {
    host,
    fingerprint256: cert?.fingerprint256 ?? '',
    subject: name(cert?.subject),
    issuer: name(cert?.issuer),
    validFrom: cert?.valid_from ?? '',
    validTo: cert?.valid_to ?? '',
    reason,
  };
}

/** Throws FtpError('tls') unless the peer is verified, pinned, or trusted by the user now. */
/** What a full handshake's certificate check found: kept with the TLS session it gave. */
export interface VerifiedPeer { fingerprint256: string; authorized: boolean }

/**
 * A resumed TLS 1.3 session shows no certificate: the check made at the full handshake stands for
 * it — resuming proves the peer holds that session's secret. So a session is offered only where
 * that check would pass again without asking the user (a fingerprint asked about is not resumed).
 */
export function trustedWithoutAsking(peer: VerifiedPeer, options: TlsOptions = {}): boolean {
  return options.rejectUnauthorized === false || peer.authorized || (options.trustedFingerprints ?? []).some((p) => sameFingerprint(p, peer.fingerprint256));
}

/** `resumedFrom`: the session this connection resumed was verified as this. */
export async function checkCertificate(socket: tls.TLSSocket, host: string, options: TlsOptions = {}, resumedFrom?: VerifiedPeer): Promise<VerifiedPeer> {
  const fp = socket.getPeerCertificate()?.fingerprint256 || resumedFrom?.fingerprint256 || '';
  const authorized = socket.authorized || (resumedFrom?.authorized ?? false);
  if (options.rejectUnauthorized === false || authorized) return { fingerprint256: fp, authorized };
  const pinned = options.trustedFingerprints ?? [];
  if (fp && pinned.some((p) => sameFingerprint(p, fp))) return { fingerprint256: fp, authorized };
  const reason = String(socket.authorizationError ?? 'unverified');
  const info = certificateInfo(socket, host, pinned.length > 0 ? `fingerprint-changed (${reason})` : reason);
  if (options.onUntrustedCertificate && await options.onUntrustedCertificate(info)) return { fingerprint256: fp, authorized };
  throw new FtpError('tls', pinned.length > 0
    ? `The certificate of ${host} changed since you trusted it (now ${fp}); refusing to connect. If the server's certificate was replaced on purpose, trust the new one.`
    : `The certificate of ${host} is not trusted (${reason}); fingerprint ${fp}.`);
}

export function sameFingerprint(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/[^0-9a-f]/gi, '').toLowerCase();
  return norm(a) === norm(b);
}

/** SNI may only carry a host name, never an IP address (RFC 6066). */
export function serverNameFor(host: string): string | undefined {
  return isIPAddress(host) ? undefined : host;
}

// ---------------------------------------------------------------- key-exchange group

/** Key-exchange groups that both OpenSSL (Node) and BoringSSL (Electron) know, in OpenSSL's default order. */
const GROUPS = ['X25519', 'P-256', 'P-384', 'P-521'];
/** getEphemeralKeyInfo() names → group-list names. */
const GROUP_NAMES: Record<string, string> = { x25519: 'X25519', prime256v1: 'P-256', 'p-256': 'P-256', secp384r1: 'P-384', 'p-384': 'P-384', secp521r1: 'P-521', 'p-521': 'P-521' };

/** The key-exchange group a client TLS socket negotiated, as a group-list name; undefined if not known. */
export function negotiatedGroup(socket: tls.TLSSocket): string | undefined {
  const info = socket.getEphemeralKeyInfo() as { name?: unknown } | null;
  return typeof info?.name === 'string' ? GROUP_NAMES[info.name.toLowerCase()] : undefined;
}

/**
 * tls.connect options that put `group` first. A TLS 1.3 ClientHello carries a key share for its
 * first group only (X25519 by default); a server that does not take that group answers with a
 * HelloRetryRequest, one more round trip per handshake. vsftpd 3.0.3 does this on every
 * connection: it allows only P-256 (seen with `openssl s_client -msg`: two ServerHellos). The
 * group the server chose on the control connection is the one to offer on its data connections.
 */
export function preferGroup(group: string | undefined): { ecdhCurve?: string } {
  if (!group || group === GROUPS[0] || !GROUPS.includes(group)) return {};
  return { ecdhCurve: [group, ...GROUPS.filter((g) => g !== group)].join(':') };
}

/** tls.connect with `group` offered first; without it if this TLS library refuses the list. */
export function connectPreferring(options: tls.ConnectionOptions, group: string | undefined, onSecure?: () => void): tls.TLSSocket {
  const preferred = preferGroup(group);
  if (preferred.ecdhCurve) {
    try {
      return tls.connect({ ...options, ...preferred }, onSecure);
    } catch {
      // A group name this build does not know: the default list still works, one round trip slower.
    }
  }
  return tls.connect(options, onSecure);
}
