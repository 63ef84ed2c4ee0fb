/**
 * MongoDB with authentication for tests: a wire-protocol front on a free loopback port that does
 * what a real server (or DocumentDB) does about users and leaves everything else to a MongoDB
 * without authentication behind it (the emulator, the Node wire server; never MONGODB_URI,
 * whose server would want its own credentials).
 *
 * - SCRAM-SHA-256 (the driver's default when the server advertises no mechanisms), verified
 *   against keys derived from each user's password, never the password itself.
 * - Users and roles: createUser, updateUser, dropUser, usersInfo, for a user with the `root` role;
 *   every other command needs an authenticated connection (code 13 Unauthorized otherwise).
 * - A password change does not touch connections already authenticated (as in MongoDB): only
 *   new connections see it. `dropConnections()` ends them all, as a failover does.
 *
 * Passwords must be ASCII (SASLprep is the identity there).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { type Document, BSON, Binary } from 'bson';
import { startMongoWireServer, type MongoHandle } from './index.js';

export interface MongoUser {
  readonly user: string;
  readonly roles: readonly { role: string; db: string }[];
}

export interface AuthAttempt {
  readonly user: string;
  readonly ok: boolean;
  readonly at: number;
}

export interface AuthenticatedMongo {
  /** Connection string without credentials (pass them as the driver's `auth` option). */
  readonly uri: string;
  readonly port: number;
  /** The MongoDB behind the front. */
  readonly backend: MongoHandle;
  readonly description: string;
  readonly attempts: readonly AuthAttempt[];
  addUser(user: string, password: string, roles: MongoUser['roles']): void;
  setPassword(user: string, password: string): void;
  users(): MongoUser[];
  /** Connections currently open to the front. */
  connectionCount(): number;
  /** Ends every client connection, as a failover does: drivers reconnect and authenticate again. */
  dropConnections(): void;
  stop(): Promise<void>;
}

const ITERATIONS = 15_000; // MongoDB's default for SCRAM-SHA-256
const OP_MSG = 2013;
/** Commands a connection may run before it authenticates (the driver's handshake and monitoring). */
const BEFORE_AUTH = new Set([
  'hello',
  'ismaster',
  'buildinfo',
  'ping',
  'saslstart',
  'saslcontinue',
  'endsessions',
  'getlasterror',
]);
const USER_ADMIN = new Set(['createuser', 'updateuser', 'dropuser', 'usersinfo']);

interface Session {
  user?: string | undefined;
  conversation?:
    { user: string; clientFirstBare: string; serverFirst: string; nonce: string } | undefined;
}

interface StoredUser {
  roles: { role: string; db: string }[];
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

function keysFor(password: string, salt = randomBytes(16)) {
  if (!/^[\x20-\x7e]*$/.test(password)) throw new Error('test passwords must be printable ASCII');
  const salted = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const clientKey = hmac(salted, 'Client Key');
  return {
    salt,
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: hmac(salted, 'Server Key'),
  };
}

/** Starts a local MongoDB behind an authenticating front that has one root user. */
export async function startMongoWithAuth(options: {
  rootUser: string;
  rootPassword: string;
  dbName?: string;
}): Promise<AuthenticatedMongo> {
  const backend = await startMongoWireServer(options.dbName ? { dbName: options.dbName } : {});
  const backendUrl = new URL(backend.uri.replace(/^mongodb:/, 'http:'));
  const users = new Map<string, StoredUser>();
  const attempts: AuthAttempt[] = [];
  const sockets = new Set<Socket>();

  const addUser: AuthenticatedMongo['addUser'] = (user, password, roles) => {
    if (users.has(user)) throw new Error(`user ${user} exists`);
    users.set(user, { roles: roles.map((r) => ({ ...r })), ...keysFor(password) });
  };
  addUser(options.rootUser, options.rootPassword, [{ role: 'root', db: 'admin' }]);

  const server: Server = createServer((client) => {
    sockets.add(client);
    const upstream = createConnection({ host: backendUrl.hostname, port: Number(backendUrl.port) });
    const session: Session = {};
    let buffered = Buffer.alloc(0);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    upstream.on('data', (chunk: Buffer) => client.write(chunk));

    client.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 16 && buffered.length >= buffered.readInt32LE(0)) {
        const length = buffered.readInt32LE(0);
        const message = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        let reply: Buffer | undefined;
        try {
          reply = handle(message, session);
        } catch {
          // A message this front cannot read: the server behind it answers it, for a logged-in
          // connection only.
          reply = session.user
            ? undefined
            : opMsgReply(message.readInt32LE(4), {
                ok: 0,
                errmsg: 'unreadable command before authentication',
                code: 13,
                codeName: 'Unauthorized',
              });
        }
        if (reply) client.write(reply);
        else upstream.write(message);
      }
    });
  });

  /** Answers the message itself (auth, users, refusals) or returns undefined to forward it. */
  function handle(message: Buffer, session: Session): Buffer | undefined {
    if (message.readInt32LE(12) !== OP_MSG) return undefined; // legacy handshake (OP_QUERY)
    const requestId = message.readInt32LE(4);
    // flagBits (4), then section kind 0 (the command document) comes first.
    if (message.readUInt8(20) !== 0) return undefined;
    // The command document is the first section; document sequences (kind 1) may follow it.
    const bodyLength = message.readInt32LE(21);
    const body = BSON.deserialize(message.subarray(21, 21 + bodyLength), { promoteBuffers: false });
    const name = Object.keys(body)[0] ?? '';
    const command = name.toLowerCase();
    const respond = (doc: Document) => opMsgReply(requestId, doc);
    const fail = (code: number, codeName: string, errmsg: string) =>
      respond({ ok: 0, errmsg, code, codeName });

    if (command === 'saslstart') {
      if (body.mechanism !== 'SCRAM-SHA-256')
        return fail(2, 'BadValue', `Unsupported mechanism ${String(body.mechanism)}`);
      const text = Buffer.from((body.payload as Binary).buffer).toString('utf8');
      const match = /^n,,(n=([^,]*),r=([^,]*))$/.exec(text);
      if (!match) return fail(17, 'ProtocolError', 'bad client-first message');
      const user = match[2]!.replace(/=2C/g, ',').replace(/=3D/g, '=');
      const stored = users.get(user);
      const nonce = `${match[3]}${randomBytes(18).toString('base64')}`;
      const salt = stored?.salt ?? randomBytes(16);
      const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${ITERATIONS}`;
      session.conversation = { user, clientFirstBare: match[1]!, serverFirst, nonce };
      return respond({
        conversationId: 1,
        done: false,
        payload: new Binary(Buffer.from(serverFirst)),
        ok: 1,
      });
    }
    if (command === 'saslcontinue') {
      const conversation = session.conversation;
      session.conversation = undefined;
      const text = Buffer.from((body.payload as Binary).buffer).toString('utf8');
      const match = /^(c=biws,r=([^,]*)),p=([^,]*)$/.exec(text);
      const stored = conversation ? users.get(conversation.user) : undefined;
      let ok = false;
      let serverSignature = Buffer.alloc(0);
      if (conversation && match && match[2] === conversation.nonce && stored) {
        const authMessage = `${conversation.clientFirstBare},${conversation.serverFirst},${match[1]}`;
        const clientSignature = createHmac('sha256', stored.storedKey).update(authMessage).digest();
        const proof = Buffer.from(match[3]!, 'base64');
        if (proof.length === clientSignature.length) {
          const clientKey = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]!));
          const candidate = createHash('sha256').update(clientKey).digest();
          ok = timingSafeEqual(candidate, stored.storedKey);
        }
        serverSignature = createHmac('sha256', stored.serverKey).update(authMessage).digest();
      }
      attempts.push({ user: conversation?.user ?? '', ok, at: Date.now() });
      if (!ok) return fail(18, 'AuthenticationFailed', 'Authentication failed.');
      session.user = conversation!.user;
      return respond({
        conversationId: 1,
        done: true,
        payload: new Binary(Buffer.from(`v=${serverSignature.toString('base64')}`)),
        ok: 1,
      });
    }
    if (!session.user && !BEFORE_AUTH.has(command))
      return fail(13, 'Unauthorized', `command ${name} requires authentication`);
    if (USER_ADMIN.has(command)) {
      const isRoot = users.get(session.user ?? '')?.roles.some((r) => r.role === 'root');
      if (!isRoot)
        return fail(13, 'Unauthorized', `not authorized on admin to execute command { ${name} }`);
      return respond(userAdmin(command, body));
    }
    return undefined;
  }

  function userAdmin(command: string, body: Document): Document {
    const error = (code: number, codeName: string, errmsg: string) => ({
      ok: 0,
      errmsg,
      code,
      codeName,
    });
    switch (command) {
      case 'createuser': {
        const user = String(body.createUser);
        if (users.has(user))
          return error(51003, 'Location51003', `User "${user}@admin" already exists`);
        addUser(user, String(body.pwd), (body.roles as { role: string; db: string }[]) ?? []);
        return { ok: 1 };
      }
      case 'updateuser': {
        const user = String(body.updateUser);
        if (!users.has(user))
          return error(11, 'UserNotFound', `Could not find user "${user}" for db "admin"`);
        if (typeof body.pwd === 'string') setPassword(user, body.pwd);
        if (Array.isArray(body.roles)) users.get(user)!.roles = body.roles as StoredUser['roles'];
        return { ok: 1 };
      }
      case 'dropuser': {
        const user = String(body.dropUser);
        if (!users.delete(user)) return error(11, 'UserNotFound', `User "${user}@admin" not found`);
        return { ok: 1 };
      }
      default: {
        const wanted = body.usersInfo as unknown;
        const name =
          typeof wanted === 'string'
            ? wanted
            : typeof wanted === 'object' && wanted !== null && 'user' in wanted
              ? String(wanted.user)
              : undefined;
        const list = [...users.entries()]
          .filter(([user]) => name === undefined || user === name)
          .map(([user, stored]) => ({
            _id: `admin.${user}`,
            user,
            db: 'admin',
            roles: stored.roles,
          }));
        return { users: list, ok: 1 };
      }
    }
  }

  const setPassword: AuthenticatedMongo['setPassword'] = (user, password) => {
    const stored = users.get(user);
    if (!stored) throw new Error(`no user ${user}`);
    Object.assign(stored, keysFor(password));
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const db = new URL(backend.uri.replace(/^mongodb:/, 'http:')).pathname;
  return {
    uri: `mongodb://127.0.0.1:${port}${db}`,
    port,
    backend,
    description: `authenticating front (SCRAM-SHA-256) on 127.0.0.1:${port} before ${backend.description}`,
    attempts,
    addUser,
    setPassword,
    users: () => [...users.entries()].map(([user, stored]) => ({ user, roles: stored.roles })),
    connectionCount: () => sockets.size,
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.stop();
    },
  };
}

function opMsgReply(responseTo: number, doc: Document): Buffer {
  const body = BSON.serialize(doc);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(Math.floor(Math.random() * 0x7fffffff), 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(0, 16);
  header.writeUInt8(0, 20);
  return Buffer.concat([header, body]);
}
