/**
 * The client's address: the socket's peer, or, behind `trustedHops` proxies (the ALB is one),
 * the address the outermost trusted proxy saw in X-Forwarded-For. Entries a client added itself
 * sit further left and are never believed.
 */
export function clientIp(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedHops: number,
): string {
  const direct = normalize(peer ?? 'unknown');
  if (trustedHops === 0 || forwardedFor === undefined) return direct;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const chain = header
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  // The last hop appended the peer of the proxy before it; count back `trustedHops` entries.
  const entry = chain.at(-trustedHops) ?? chain[0];
  return entry ? normalize(entry).slice(0, 64) : direct;
}

function normalize(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
