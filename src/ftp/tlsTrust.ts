/**
 * Certificate checks for FTPS. We always connect with rejectUnauthorized=false and decide
 * ourselves, so a self-signed certificate can be trusted once by fingerprint (pinned) instead of
 * turning verification off for good.
 */
import { isIP } from 'node:net';
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
export async function checkCertificate(socket: tls.TLSSocket, host: string, options: TlsOptions = {}): Promise<void> {
  if (options.rejectUnauthorized === false) return;
  const fp = socket.getPeerCertificate()?.fingerprint256 ?? '';
  if (socket.authorized) return;
  const pinned = options.trustedFingerprints ?? [];
  if (fp && pinned.some((p) => sameFingerprint(p, fp))) return;
  const reason = String(socket.authorizationError ?? 'unverified');
  const info = certificateInfo(socket, host, pinned.length > 0 ? `fingerprint-changed (${reason})` : reason);
  if (options.onUntrustedCertificate && await options.onUntrustedCertificate(info)) return;
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
  return isIP(host) ? undefined : host;
}
