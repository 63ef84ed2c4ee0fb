import { createChatClient, type ChatClient, type MessageDto } from '@jobsphere/chat-client';

/**
 * One device of one user behind the load balancer's single URL: the SDK's client (its outbox,
 * reconnects, sync by version and dedupe), with what the proof counts on the side: what the
 * server acknowledged, what it pushed live and how often it said `server:draining`.
 */
export class Device {
  readonly client: ChatClient;
  /** Messages this device sent and the server acknowledged as stored. */
  readonly acked = new Map<string, MessageDto>();
  /** `message:new` events per message id, to count duplicates on the wire. */
  readonly liveDeliveries = new Map<string, number>();
  drainNotices = 0;

  constructor(
    readonly name: string,
    url: string,
    userId: string,
    token: string,
    private readonly conversationId: string,
  ) {
    this.client = createChatClient({ url, userId, token });
    this.client.on('sent', ({ message }) => this.acked.set(message.id, message));
    this.client.on('event', ({ name, payload }) => {
      if (name === 'server:draining') this.drainNotices++;
      if (name === 'message:new') {
        const id = (payload as { id?: unknown }).id;
        if (typeof id === 'string')
          this.liveDeliveries.set(id, (this.liveDeliveries.get(id) ?? 0) + 1);
      }
    });
  }

  /** Connects (the SDK retries by itself) and opens the conversation. */
  async start(): Promise<void> {
    await this.client.connect();
    await this.client.open(this.conversationId);
  }

  /** Queues a message; the SDK sends it until stored, with this clientMessageId every time. */
  send(clientMessageId: string, body: string): void {
    this.client.send(this.conversationId, body, clientMessageId);
  }

  /** Messages still in the outbox. */
  get unacked(): number {
    return this.client.pending().length;
  }

  /** What this device shows: each message once, by id. */
  shown(): ReadonlySet<string> {
    return new Set(this.client.conversation(this.conversationId)?.messages.map((m) => m.id) ?? []);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
