import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  type JWTVerifyGetKey,
} from 'jose';
import { type JwksConfig } from '../config/identity-config.js';

/** The provider's key set could not be had in time (or was unusable): the token may be fine. */
export class KeySetUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** Faults of the token itself (its `kid`, its algorithm), not of the key set. */
const TOKEN_FAULTS = [
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
];

/**
 * The provider's keys, from its JWKS URL through jose's remote key set: fetched once and shared
 * by concurrent verifications, kept `cacheMaxAgeMs`, fetched again when a token names an unknown
 * `kid` (at most once per `cooldownMs`, so made-up `kid`s cannot flood the provider), each fetch
 * within `timeoutMs`, and a document bounded in bytes and keys. When a refresh fails, keys already
 * known keep verifying (a slow provider does not sign everyone out); a key never seen is refused.
 */
export function createKeySet(config: JwksConfig): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(config.url), {
    timeoutDuration: config.timeoutMs,
    cooldownDuration: config.cooldownMs,
    cacheMaxAge: config.cacheMaxAgeMs,
    [customFetch]: boundedFetch(config),
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (TOKEN_FAULTS.some((fault) => error instanceof fault)) throw error;
      const known = remote.jwks();
      if (known) {
        try {
          return await createLocalJWKSet(known)(header, token);
        } catch {
          // Not among the keys known: the refresh that failed might have brought it.
        }
      }
      throw new KeySetUnavailable(`JWKS ${config.url}: ${describe(error)}`, { cause: error });
    }
  };
}

/** fetch, with the body read up to `maxBytes` and at most `maxKeys` keys passed on to jose. */
function boundedFetch(config: JwksConfig): FetchImplementation {
  return async (url, init) => {
    const response = await fetch(url, init);
    if (response.status !== 200 || !response.body) return response;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > config.maxBytes) {
        await response.body.cancel().catch(() => undefined);
        throw new KeySetUnavailable(`key set larger than ${config.maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let keys: unknown;
    try {
      keys = (JSON.parse(text) as { keys?: unknown }).keys;
    } catch {
      throw new KeySetUnavailable('key set is not JSON');
    }
    if (Array.isArray(keys) && keys.length > config.maxKeys)
      throw new KeySetUnavailable(`key set holds more than ${config.maxKeys} keys`);
    return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

function describe(error: unknown): string {
  if (error instanceof errors.JWKSTimeout) return 'no answer within the deadline';
  return error instanceof Error ? error.message.slice(0, 200) : String(error);
}
