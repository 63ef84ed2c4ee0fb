/**
 * A claim of a token's payload by the name an identity service is configured with: a top-level
 * claim first (names may hold dots: Auth0's `https://…/roles`), else a dotted path (Keycloak's
 * `realm_access.roles`). The gateway reads the user id and role with it, and the client SDK the
 * user id, so both read the same claim the same way.
 */
export function claimValue(payload: Record<string, unknown>, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A user, company or service id as a token carries it: letters, digits or `_ . : @ -`, 1–64. */
export const TOKEN_ID = /^[A-Za-z0-9_.:@-]{1,64}$/;
export const TOKEN_ID_RULE = '1-64 letters, digits or _ . : @ -';
