/**
 * A clientMessageId: 128 random bits as 32 hex characters (the server accepts
 * `[A-Za-z0-9_-]{1,64}`). `crypto.getRandomValues` works outside secure contexts too, unlike
 * `crypto.randomUUID`, so a page served over plain http on a LAN address still gets one.
 */
export function randomId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export const CLIENT_MESSAGE_ID = /^[A-Za-z0-9_-]{1,64}$/;
