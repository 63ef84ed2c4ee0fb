// Real processes for the client's integration tests: redis-server, the store (a real MongoDB
// when given, else the emulator) and gateway instances started from the gateway's build,
// the way apps/chat-gateway/test/support/gateway.ts starts them.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  signTestToken,
  startMongo,
  startNodeService,
  startRedis,
  type ManagedProcess,
  type MongoHandle,
  type RedisServer,
} from '@jobsphere/testing';
import {
  createChatClient,
  memoryStorage,
  type ChatClient,
  type ChatClientOptions,
  socketIoFactory,
  type MessageDto,
  type SocketFactory,
  type StorageAdapter,
} from '../../src/index.js';

export const JWT_SECRET = 'client-test-secret-client-test-secret-1234';
// Not an import: the gateway depends (through the try page) on this package, so it is started
// as a built file; turbo.json makes this package's tests wait for the gateway's build.
export const GATEWAY_MAIN = fileURLToPath(
  new URL('../../../../apps/chat-gateway/dist/main.js', import.meta.url),
);

export interface Gateway {
  name: string;
  url: string;
  process: ManagedProcess;
}

export interface Environment {
  redis: RedisServer;
  mongo: MongoHandle;
  gateways: Gateway[];
  start(name: string): Promise<Gateway>;
  dispose(): Promise<void>;
}

export async function startEnvironment(
  names: string[],
  env: Record<string, string> = {},
): Promise<Environment> {
  if (!existsSync(GATEWAY_MAIN))
    throw new Error(`${GATEWAY_MAIN} is missing: run \`pnpm turbo run build\` first.`);
  const disposers: (() => Promise<void>)[] = [];
  try {
    const [redis, mongo] = await Promise.all([startRedis(), startMongo()]);
    disposers.push(
      () => redis.dispose(),
      () => mongo.stop(),
    );
    const gatewayEnv = {
      PATH: process.env['PATH'],
      NODE_ENV: 'test',
      JWT_SECRET,
      LOG_LEVEL: 'info',
      REDIS_URL: redis.url,
      MONGODB_URI: mongo.uri,
      RATE_LIMIT_SEND_PER_10S: '100000',
      ...env,
    };
    const gateways: Gateway[] = [];
    const start = async (name: string) => {
      const service = await startNodeService({ script: GATEWAY_MAIN, env: gatewayEnv });
      disposers.push(() => service.process.dispose());
      const gateway = { name, url: service.url, process: service.process };
      gateways.push(gateway);
      return gateway;
    };
    for (const name of names) await start(name);
    console.log(
      `client integration: Redis ${redis.url}, store = ${mongo.description}, gateways ${names.join(', ')}`,
    );
    return {
      redis,
      mongo,
      gateways,
      start,
      dispose: async () => {
        for (const dispose of disposers.reverse()) await dispose().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const dispose of disposers.reverse()) await dispose().catch(() => undefined);
    throw error;
  }
}

export function tokenFor(
  userId: string,
  role: 'candidate' | 'recruiter' = 'candidate',
  ttlSeconds = 3600,
): Promise<string> {
  return signTestToken({ secret: JWT_SECRET, userId, role, ttlSeconds });
}

/** One device of one person: a real ChatClient on real socket.io-client, with what it saw. */
export class Device {
  client: ChatClient;
  /** Every message:new the server pushed to this device (duplicates included). */
  readonly pushed: MessageDto[] = [];
  /** clientMessageIds this device passed to send(), in order. */
  readonly sentIds: string[] = [];
  readonly acked = new Set<string>();
  /** `auth:expiring` notices, and how often the connection came (back) up. */
  expiring = 0;
  connects = 0;
  reloads = 0;
  readonly storage: StorageAdapter = memoryStorage();

  constructor(
    readonly name: string,
    private readonly options: ChatClientOptions,
  ) {
    this.client = this.create();
  }

  /** Requests this device sent, by event (counted on the socket, under the client). */
  readonly requests = new Map<string, number>();

  private create(): ChatClient {
    const socketFactory: SocketFactory = (url, options) => {
      const socket = socketIoFactory(url, options);
      const emit = socket.emit.bind(socket);
      socket.emit = (event: string, ...args: unknown[]) => {
        this.requests.set(event, (this.requests.get(event) ?? 0) + 1);
        return emit(event, ...args);
      };
      return socket;
    };
    const client = createChatClient({ ...this.options, storage: this.storage, socketFactory });
    client.on('event', ({ name, payload }) => {
      if (name === 'message:new') this.pushed.push(payload as MessageDto);
      if (name === 'auth:expiring') this.expiring++;
    });
    client.on('connection', ({ state }) => {
      if (state === 'connected') this.connects++;
    });
    client.on('sent', ({ entry }) => this.acked.add(entry.clientMessageId));
    return client;
  }

  async start(): Promise<void> {
    await this.client.connect();
    await this.client.loadConversations();
  }

  send(conversationId: string, body: string): void {
    this.sentIds.push(this.client.send(conversationId, body).clientMessageId);
  }

  /** The page goes away (whatever is pending stays in storage) and a new one starts. */
  async reload(conversationId: string): Promise<void> {
    await this.client.close();
    this.reloads++;
    this.client = this.create();
    await this.start();
    await this.client.open(conversationId);
  }

  /** One line for a failure message: connection, outbox, sync. */
  describe(conversationId: string): string {
    const c = this.client;
    const pending = c.pending().map((p) => `${p.state}${p.error ? `(${p.error.code})` : ''}`);
    const counts = new Map<string, number>();
    for (const p of pending) counts.set(p, (counts.get(p) ?? 0) + 1);
    const status = c.status;
    return (
      `${this.name}: ${status.state}${status.error ? ` (${status.error.code}: ${status.error.message})` : ''} ` +
      `at ${status.url ?? '?'}, pending ${JSON.stringify(Object.fromEntries(counts))}, ` +
      `syncing ${c.syncing}, shown ${c.conversation(conversationId)?.messages.length ?? 0}, ` +
      `syncs sent ${this.requests.get('sync') ?? 0}`
    );
  }

  /** Scrolls up through the whole history, as a person reading back would. */
  async readAll(conversationId: string): Promise<readonly MessageDto[]> {
    await this.client.open(conversationId);
    while (await this.client.loadOlder(conversationId));
    return this.client.conversation(conversationId)?.messages ?? [];
  }
}

/** The store's view: every message, paged through REST. */
export async function storedMessages(
  url: string,
  token: string,
  conversationId: string,
): Promise<MessageDto[]> {
  const all: MessageDto[] = [];
  for (let after = 0; ;) {
    const response = await fetch(
      `${url}/conversations/${conversationId}/messages?after=${after}&limit=100`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    const page = (await response.json()) as { messages: MessageDto[]; hasMore: boolean };
    if (!response.ok) throw new Error(`history: ${response.status} ${JSON.stringify(page)}`);
    all.push(...page.messages);
    if (!page.hasMore || page.messages.length === 0) return all;
    after = page.messages.at(-1)!.seq;
  }
}
