/**
 * What kind of address a host is, for hosts that are addresses or names already (a socket's peer,
 * a URL's host, a reply's address). Node's `net.isIPv6` runs a 2 KB regular expression that V8
 * compiles at its first call: 6–8 ms, and each first login paid it right before its write (the
 * passive data channel asks it of the control connection's peer). A colon says as much here: no
 * IPv4 address or host name has one, every IPv6 address (`::ffff:1.2.3.4` too) does.
 */
import { isIPv4 } from 'node:net';

export function isIPv6Address(host: string): boolean {
  return host.includes(':');
}

/** An IP address of either family, not a host name. */
export function isIPAddress(host: string): boolean {
  return isIPv6Address(host) || isIPv4(host);
}
