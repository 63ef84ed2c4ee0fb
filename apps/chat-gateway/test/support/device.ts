import {
  createChatClient,
  type ChatClient,
  type ChatClientOptions,
  type MessageDto,
  type OutboxEntry,
} from '@jobsphere/chat-client';
import { tokenFor } from './gateway.js';

/**
 * One device of one person, as JobSphere's front-ends run it: the SDK on real socket.io-client,
 * plus what the test needs to see: every `message:new` the server pushed (in arrival order,
 * duplicates included), every send the server stored, and the `sync:required` notices.
 */
export class Device {
  readonly client: ChatClient;
  readonly pushed: MessageDto[] = [];
  /** Stored by the server, by clientMessageId. */
  readonly acked = new Map<string, MessageDto>();
  /** Every answer to a send: how long it took and what it was ('OK' or the error code). */
  readonly attempts: { at: number; ms: number; code: string; clientMessageId: string }[] = [];
  syncRequired = 0;
  drainNotices = 0;
  connects = 0;
  private readonly started = new Map<string, number>();

  constructor(
    readonly name: string,
    userId: string,
    role: 'candidate' | 'recruiter',
    urls: string[] | (() => string[]),
    /** Anything else the SDK takes (e.g. a socket factory that can cut the device off). */
    options: Partial<ChatClientOptions> = {},
  ) {
    this.client = createChatClient({
      url: typeof urls === 'function' ? urls() : urls,
      userId,
      token: () => tokenFor(userId, role),
      timings: { backoff: { initialMs: 100, maxMs: 1_000 }, requestTimeoutMs: 3_000 },
      ...options,
    });
    this.client.on('event', ({ name, payload }) => {
      if (name === 'message:new') this.pushed.push(payload as MessageDto);
      if (name === 'sync:required') this.syncRequired++;
      if (name === 'server:draining') this.drainNotices++;
    });
    this.client.on('connection', ({ state }) => {
      if (state === 'connected') this.connects++;
    });
    this.client.on('outbox', ({ entry, removed }) => this.observe(entry, removed));
    this.client.on('sent', ({ entry, message }) => {
      this.acked.set(entry.clientMessageId, message);
      this.answer(entry.clientMessageId, 'OK');
    });
  }

  async start(): Promise<void> {
    await this.client.connect();
    await this.client.loadConversations();
  }

  send(conversationId: string, body: string): string {
    return this.client.send(conversationId, body).clientMessageId;
  }

  /** Sends and waits until the server stored it: one message at a time, as a person types. */
  sendAndWait(conversationId: string, body: string): Promise<MessageDto> {
    return this.client.whenSent(this.send(conversationId, body));
  }

  /** What this device shows of a conversation (ordered by seq, each message once). */
  shown(conversationId: string): readonly MessageDto[] {
    return this.client.conversation(conversationId)?.messages ?? [];
  }

  get unacked(): number {
    return this.client.pending().length;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  // Attempts are timed from `sending` to the outcome of that attempt. A stored send leaves the
  // outbox still marked `sending` just before `sent`: that is its end, not a new attempt.
  private observe(entry: OutboxEntry, removed: boolean): void {
    if (removed) return;
    if (entry.state === 'sending') this.started.set(entry.clientMessageId, Date.now());
    else if (entry.state === 'queued' && entry.error)
      this.answer(entry.clientMessageId, entry.error.code);
  }

  private answer(clientMessageId: string, code: string): void {
    const at = this.started.get(clientMessageId);
    if (at === undefined) return;
    this.started.delete(clientMessageId);
    this.attempts.push({ at, ms: Date.now() - at, code, clientMessageId });
  }
}
