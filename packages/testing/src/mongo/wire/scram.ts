// SCRAM (RFC 5802) as mongod speaks it over saslStart / saslContinue, for SCRAM-SHA-1 (what
// Amazon DocumentDB offers) and SCRAM-SHA-256. Keys are derived from each password once; the
// password itself is never kept. Passwords must be printable ASCII (SASLprep is the identity).
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

interface Keys {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const PARAMS: Record<
  ScramMechanism,
  { hash: 'sha1' | 'sha256'; iterations: number; size: number }
> = {
  'SCRAM-SHA-1': { hash: 'sha1', iterations: 10_000, size: 20 },
  'SCRAM-SHA-256': { hash: 'sha256', iterations: 15_000, size: 32 },
};

function deriveKeys(mechanism: ScramMechanism, user: string, password: string): Keys {
  if (!/^[\x20-\x7e]*$/.test(password)) throw new Error('test passwords must be printable ASCII');
  const { hash, iterations, size } = PARAMS[mechanism];
  // SCRAM-SHA-1 in MongoDB salts the legacy digest md5("user:mongo:password"), not the password.
  const secret =
    mechanism === 'SCRAM-SHA-1'
      ? createHash('md5').update(`${user}:mongo:${password}`).digest('hex')
      : password;
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(secret, salt, iterations, size, hash);
  const hmac = (key: Buffer, text: string) => createHmac(hash, key).update(text).digest();
  return {
    salt,
    iterations,
    storedKey: createHash(hash).update(hmac(salted, 'Client Key')).digest(),
    serverKey: hmac(salted, 'Server Key'),
  };
}

interface Conversation {
  mechanism: ScramMechanism;
  user: string;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
}

export type ScramStep =
  | { ok: true; payload: Buffer; done: boolean; user?: string }
  | { ok: false; code: number; codeName: string; errmsg: string };

/** The users of one server and the conversations of its connections (one per connection). */
export class ScramUsers {
  private readonly users = new Map<string, Partial<Record<ScramMechanism, Keys>>>();

  constructor(readonly mechanisms: readonly ScramMechanism[]) {}

  addUser(user: string, password: string): void {
    const keys: Partial<Record<ScramMechanism, Keys>> = {};
    for (const mechanism of this.mechanisms)
      keys[mechanism] = deriveKeys(mechanism, user, password);
    this.users.set(user, keys);
  }

  /** `saslStart`: the server-first message, or a refusal of the mechanism. */
  start(mechanism: string, payload: Buffer): { step: ScramStep; conversation?: Conversation } {
    if (!(this.mechanisms as readonly string[]).includes(mechanism))
      return {
        step: {
          ok: false,
          code: 334,
          codeName: 'MechanismUnavailable',
          errmsg: `Received authentication for mechanism ${mechanism} which is not enabled`,
        },
      };
    const m = mechanism as ScramMechanism;
    const match = /^n,,(n=([^,]*),r=([^,]*))$/.exec(payload.toString('utf8'));
    if (!match)
      return {
        step: {
          ok: false,
          code: 17,
          codeName: 'ProtocolError',
          errmsg: 'bad client-first message',
        },
      };
    const user = match[2]!.replace(/=2C/g, ',').replace(/=3D/g, '=');
    const keys = this.users.get(user)?.[m];
    const nonce = `${match[3]}${randomBytes(18).toString('base64')}`;
    // An unknown user gets a plausible salt: the failure comes at the proof, as in mongod.
    const salt = keys?.salt ?? randomBytes(16);
    const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${PARAMS[m].iterations}`;
    return {
      step: { ok: true, payload: Buffer.from(serverFirst), done: false },
      conversation: { mechanism: m, user, clientFirstBare: match[1]!, serverFirst, nonce },
    };
  }

  /** `saslContinue`: checks the client's proof and answers the server signature. */
  finish(conversation: Conversation | undefined, payload: Buffer): ScramStep {
    const failed: ScramStep = {
      ok: false,
      code: 18,
      codeName: 'AuthenticationFailed',
      errmsg: 'Authentication failed.',
    };
    if (!conversation) return failed;
    const match = /^(c=biws,r=([^,]*)),p=([^,]*)$/.exec(payload.toString('utf8'));
    const keys = this.users.get(conversation.user)?.[conversation.mechanism];
    if (!match || match[2] !== conversation.nonce || !keys) return failed;
    const { hash } = PARAMS[conversation.mechanism];
    const authMessage = `${conversation.clientFirstBare},${conversation.serverFirst},${match[1]}`;
    const clientSignature = createHmac(hash, keys.storedKey).update(authMessage).digest();
    const proof = Buffer.from(match[3]!, 'base64');
    if (proof.length !== clientSignature.length) return failed;
    const clientKey = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]!));
    if (!timingSafeEqual(createHash(hash).update(clientKey).digest(), keys.storedKey))
      return failed;
    const serverSignature = createHmac(hash, keys.serverKey).update(authMessage).digest();
    return {
      ok: true,
      payload: Buffer.from(`v=${serverSignature.toString('base64')}`),
      done: true,
      user: conversation.user,
    };
  }
}

export type { Conversation as ScramConversation };
