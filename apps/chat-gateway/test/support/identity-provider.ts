import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

export const ISSUER = 'https://idp.jobsphere.test/realms/jobsphere';
export const AUDIENCE = 'jobsphere-chat';

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

/**
 * An identity provider on loopback as the gateway meets one: a JWKS endpoint (real HTTP) whose
 * keys can be rotated, that counts its fetches and can be made slow, and tokens signed with its
 * keys. The keys are generated per run.
 */
export class TestIdentityProvider {
  private readonly keys = new Map<string, SigningKey>();
  private published: string[] = [];
  /** Fetches of the JWKS so far. */
  fetches = 0;
  /** Delay before each JWKS answer (a provider that is slow or stalled). */
  delayMs = 0;
  /** Copies of the first published key added under other kids (a bloated or hostile key set). */
  padding = 0;
  private readonly server: Server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    this.fetches++;
    const keys = this.published.map((kid) => this.keys.get(kid)!.publicJwk);
    for (let i = 0; i < this.padding; i++) keys.push({ ...keys[0], kid: `padding-${i}` });
    const body = JSON.stringify({ keys });
    const timer = setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    }, this.delayMs);
    res.on('close', () => clearTimeout(timer));
  });

  private constructor() {}

  static async start(): Promise<TestIdentityProvider> {
    const provider = new TestIdentityProvider();
    await new Promise<void>((resolve) => provider.server.listen(0, '127.0.0.1', resolve));
    return provider;
  }

  get jwksUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  /** A new key pair; published in the JWKS unless `publish` is false. */
  async addKey(kid: string, alg: 'RS256' | 'ES256', publish = true): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    this.keys.set(kid, { kid, alg, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) });
    if (publish) this.published.push(kid);
  }

  /** The JWKS from now on: these keys only (a rotation adds one, then drops the old one). */
  publish(...kids: string[]): void {
    this.published = kids;
  }

  publicPem(kid: string): string {
    return this.keys.get(kid)!.publicPem;
  }

  /** A token signed with key `kid`: issuer, audience and expiry as the gateway expects unless overridden. */
  async token(
    kid: string,
    claims: JWTPayload = {},
    options: { issuer?: string; audience?: string; ttlSeconds?: number } = {},
  ): Promise<string> {
    const key = this.keys.get(kid)!;
    return new SignJWT({ role: 'candidate', ...claims })
      .setProtectedHeader({ alg: key.alg, kid, typ: 'JWT' })
      .setSubject(typeof claims.sub === 'string' ? claims.sub : 'idp-user')
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 600))
      .sign(key.privateKey);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** An unsigned token (`alg: none`) with the claims a valid one would carry. */
export function unsignedToken(claims: JWTPayload): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({
    iss: ISSUER,
    aud: AUDIENCE,
    exp: Math.floor(Date.now() / 1000) + 600,
    role: 'candidate',
    ...claims,
  })}.`;
}

/** HS256 signed with `secret` (e.g. a public key's PEM: the HS/RS confusion attack). */
export function hs256Token(secret: string, claims: JWTPayload, kid?: string): Promise<string> {
  return new SignJWT({ role: 'candidate', ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...(kid && { kid }) })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(secret));
}
