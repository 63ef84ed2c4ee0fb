import type {
  Ack,
  ClientToServerEvents,
  ConversationDto,
  ErrorBody,
  MessageDto,
  PresenceDto,
  ServerToClientEvents,
  SyncInput,
  SyncResult,
  TypingEvent,
} from '@jobsphere/chat-domain';
import { io, type Socket } from 'socket.io-client';
import { ChatApi } from './api.js';
import type { Identity } from './identity.js';

export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline';

export interface PendingMessage {
  clientMessageId: string;
  body: string;
  state: 'pending' | 'failed';
}

export interface ConversationState {
  dto: ConversationDto;
  /** Ascending by seq, no duplicates. */
  messages: MessageDto[];
  /** True once its history was fetched: only then is it kept up to date by `sync`. */
  loaded: boolean;
  pending: PendingMessage[];
  /** The highest read position of the other members, from `conversation:read` events. */
  peerReadSeq: number;
  /** Who is typing, with the timer that clears the indicator if no update comes. */
  typing: Map<string, ReturnType<typeof setTimeout>>;
}

export type Change =
  | { kind: 'connection'; detail?: string }
  | { kind: 'conversations' }
  | { kind: 'thread'; conversationId: string }
  | { kind: 'presence' }
  | { kind: 'incoming'; message: MessageDto }
  | { kind: 'error'; message: string };

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const ACK_TIMEOUT_MS = 8_000;
const TYPING_REFRESH_MS = 3_000;
const TYPING_IDLE_MS = 4_000;

/** Socket + REST state of one signed-in user; the view renders it on every `Change`. */
export class ChatClient {
  readonly conversations = new Map<string, ConversationState>();
  readonly presence = new Map<string, PresenceDto>();
  connection: ConnectionState = 'connecting';
  openId: string | undefined;

  private readonly api: ChatApi;
  private readonly socket: ChatSocket;
  private typingSentAt = 0;
  private typingConversation: string | undefined;
  private typingIdle: ReturnType<typeof setTimeout> | undefined;
  private readInFlight = new Map<string, number>();
  private lastRenewal = 0;

  constructor(
    private identity: Identity,
    private readonly notify: (change: Change) => void,
    /** Mints a fresh token for the same identity (dev only); resolves to the new identity. */
    private readonly renew: (identity: Identity) => Promise<Identity>,
  ) {
    this.api = new ChatApi(() => this.identity.token);
    this.socket = io(location.origin, {
      auth: { token: identity.token },
      transports: ['websocket'],
      autoConnect: false,
      // A local gateway restarts in a second or two: retry often rather than back off to 5 s.
      reconnectionDelay: 500,
      reconnectionDelayMax: 2_000,
    });
    this.wire();
  }

  get me(): string {
    return this.identity.userId;
  }

  start(): void {
    this.setConnection('connecting');
    this.socket.connect();
  }

  stop(): void {
    this.socket.disconnect();
  }

  get totalUnread(): number {
    let total = 0;
    for (const c of this.conversations.values()) total += c.dto.unreadCount;
    return total;
  }

  /** Conversations, most recent activity first. */
  sorted(): ConversationState[] {
    return [...this.conversations.values()].sort((a, b) =>
      b.dto.lastActivityAt.localeCompare(a.dto.lastActivityAt),
    );
  }

  /** The members other than me (a direct conversation has exactly one). */
  others(conversation: ConversationDto): string[] {
    return conversation.members.map((m) => m.userId).filter((id) => id !== this.me);
  }

  async openDirect(userId: string): Promise<void> {
    const dto = await this.api.openDirect(userId);
    this.upsert(dto);
    this.queryPresence(this.others(dto));
    await this.select(dto.id);
  }

  async select(conversationId: string): Promise<void> {
    const state = this.conversations.get(conversationId);
    if (!state) return;
    if (this.openId !== conversationId) this.stopTyping();
    this.openId = conversationId;
    this.notify({ kind: 'thread', conversationId });
    if (!state.loaded) {
      const page = await this.api.history(conversationId);
      state.loaded = true;
      this.addMessages(state, page.messages);
      this.notify({ kind: 'thread', conversationId });
    }
    this.markReadIfVisible();
  }

  send(body: string): void {
    const state = this.openId ? this.conversations.get(this.openId) : undefined;
    if (!state || body.trim() === '') return;
    const pending: PendingMessage = { clientMessageId: randomId(), body, state: 'pending' };
    state.pending.push(pending);
    // The server stops our typing indicator when the message arrives.
    this.typingConversation = undefined;
    clearTimeout(this.typingIdle);
    this.notify({ kind: 'thread', conversationId: state.dto.id });
    this.emitSend(state, pending);
  }

  /** Resends with the same clientMessageId: the server stores it at most once. */
  retry(conversationId: string, clientMessageId: string): void {
    const state = this.conversations.get(conversationId);
    const pending = state?.pending.find((p) => p.clientMessageId === clientMessageId);
    if (!state || !pending) return;
    pending.state = 'pending';
    this.notify({ kind: 'thread', conversationId });
    this.emitSend(state, pending);
  }

  /** Called on every keystroke in the composer. */
  composing(hasText: boolean): void {
    const conversationId = this.openId;
    if (!conversationId || !this.socket.connected) return;
    if (!hasText) {
      this.stopTyping();
      return;
    }
    const now = Date.now();
    if (this.typingConversation !== conversationId || now - this.typingSentAt > TYPING_REFRESH_MS) {
      this.typingConversation = conversationId;
      this.typingSentAt = now;
      this.socket.emit('typing:start', { conversationId });
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping(): void {
    clearTimeout(this.typingIdle);
    const conversationId = this.typingConversation;
    this.typingConversation = undefined;
    if (conversationId && this.socket.connected)
      this.socket.emit('typing:stop', { conversationId });
  }

  /** Marks the open conversation read up to its newest message while the window is visible. */
  markReadIfVisible(): void {
    const state = this.openId ? this.conversations.get(this.openId) : undefined;
    if (!state || document.visibilityState !== 'visible' || !this.socket.connected) return;
    const newest = state.messages.at(-1)?.seq ?? 0;
    const inFlight = this.readInFlight.get(state.dto.id) ?? 0;
    if (newest <= state.dto.lastReadSeq || newest <= inFlight) return;
    this.readInFlight.set(state.dto.id, newest);
    const conversationId = state.dto.id;
    this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emit('conversation:read', { conversationId, seq: newest }, (err, ack) => {
        this.readInFlight.delete(conversationId);
        if (err || !ack.ok) return;
        state.dto.lastReadSeq = Math.max(state.dto.lastReadSeq, ack.data.lastReadSeq);
        state.dto.unreadCount = ack.data.unreadCount;
        this.notify({ kind: 'conversations' });
      });
  }

  private emitSend(state: ConversationState, pending: PendingMessage): void {
    const payload = {
      conversationId: state.dto.id,
      clientMessageId: pending.clientMessageId,
      body: pending.body,
    };
    this.socket.timeout(ACK_TIMEOUT_MS).emit('message:send', payload, (err, ack) => {
      if (err || !ack.ok) {
        pending.state = 'failed';
        if (ack && !ack.ok)
          this.notify({ kind: 'error', message: `Not sent: ${ack.error.message}` });
      } else {
        state.pending = state.pending.filter((p) => p.clientMessageId !== pending.clientMessageId);
        this.addMessages(state, [ack.data.message]);
        this.notify({ kind: 'conversations' });
      }
      this.notify({ kind: 'thread', conversationId: state.dto.id });
      this.markReadIfVisible();
    });
  }

  private wire(): void {
    const socket = this.socket;
    socket.on('connect', () => {
      this.setConnection('online');
      this.catchUp().catch((error: unknown) =>
        this.notify({ kind: 'error', message: describe(error) }),
      );
    });
    socket.on('disconnect', (reason) => {
      for (const state of this.conversations.values()) this.clearTyping(state);
      if (reason === 'io client disconnect') {
        this.setConnection('offline', 'signed out');
      } else if (reason === 'io server disconnect') {
        // Kicked (token expired or the instance is draining): Socket.IO does not retry by itself.
        this.setConnection('reconnecting', 'the server closed the connection');
        this.reconnectWithFreshToken();
      } else {
        this.setConnection('reconnecting', reason);
      }
    });
    socket.io.on('reconnect_attempt', (attempt) =>
      this.setConnection('reconnecting', `attempt ${attempt}`),
    );
    socket.on('connect_error', (error: Error & { data?: ErrorBody }) => {
      if (socket.active) {
        // Network-level failure: the manager keeps retrying with backoff.
        this.setConnection('reconnecting', error.message);
      } else if (error.data?.code === 'UNAUTHORIZED' || error.data?.code === 'UNAVAILABLE') {
        this.setConnection('reconnecting', error.data.message);
        this.reconnectWithFreshToken();
      } else {
        this.setConnection('offline', error.data?.message ?? error.message);
      }
    });
    socket.on('server:draining', () => this.setConnection('reconnecting', 'server restarting'));
    socket.on('auth:expiring', () => {
      this.renew(this.identity).then(
        (identity) => {
          this.identity = identity;
          socket.auth = { token: identity.token };
          socket.emit('auth:refresh', { token: identity.token }, () => undefined);
        },
        (error: unknown) => this.notify({ kind: 'error', message: describe(error) }),
      );
    });
    socket.on('conversation:created', (dto) => {
      this.upsert(dto);
      this.queryPresence(this.others(dto));
    });
    socket.on('message:new', (message) => this.onMessage(message));
    socket.on('conversation:read', ({ conversationId, userId, lastReadSeq }) => {
      const state = this.conversations.get(conversationId);
      if (!state) return;
      if (userId === this.me) {
        // Read on another of my devices.
        state.dto.lastReadSeq = Math.max(state.dto.lastReadSeq, lastReadSeq);
        state.dto.unreadCount = state.messages.filter(
          (m) => m.seq > state.dto.lastReadSeq && m.senderId !== this.me,
        ).length;
        this.notify({ kind: 'conversations' });
      } else {
        state.peerReadSeq = Math.max(state.peerReadSeq, lastReadSeq);
      }
      this.notify({ kind: 'thread', conversationId });
    });
    socket.on('typing', (event) => this.onTyping(event));
    socket.on('presence', (event) => {
      this.presence.set(event.userId, event);
      this.notify({ kind: 'presence' });
    });
    socket.on('chat:error', ({ event, error }) =>
      this.notify({ kind: 'error', message: `${event}: ${error.message}` }),
    );
  }

  /**
   * After every (re)connect: refresh the list, then ask `sync` for what each loaded
   * conversation missed since its last seq, then presence. Messages never get lost
   * or doubled: they are merged by seq.
   */
  private async catchUp(): Promise<void> {
    const list = await this.api.listConversations();
    for (const dto of list.conversations) this.upsert(dto, false);
    this.notify({ kind: 'conversations' });

    const loaded = [...this.conversations.values()].filter((c) => c.loaded);
    let wanted = loaded.map((c) => ({
      conversationId: c.dto.id,
      afterVersion: c.messages.at(-1)?.version ?? 0,
    }));
    for (let round = 0; wanted.length > 0 && round < 20; round++) {
      const result = await this.sync({ conversations: wanted });
      wanted = [];
      for (const entry of result.conversations) {
        const state = this.conversations.get(entry.conversationId);
        if (!state) continue;
        this.addMessages(state, entry.messages);
        this.notify({ kind: 'thread', conversationId: state.dto.id });
        if (entry.hasMore && entry.messages.length > 0) {
          wanted.push({ conversationId: state.dto.id, afterVersion: entry.version });
        }
      }
    }
    this.markReadIfVisible();
    this.queryPresence([...this.conversations.values()].flatMap((c) => this.others(c.dto)));
    // Messages that failed while offline go out again (same clientMessageId, stored once).
    for (const state of this.conversations.values()) {
      for (const p of state.pending)
        if (p.state === 'failed') this.retry(state.dto.id, p.clientMessageId);
    }
  }

  private onMessage(message: MessageDto): void {
    const state = this.conversations.get(message.conversationId);
    if (!state) {
      // A conversation this client has not heard of yet: fetch it, then its history.
      this.api.getConversation(message.conversationId).then(
        (dto) => {
          this.upsert(dto);
          this.queryPresence(this.others(dto));
        },
        (error: unknown) => this.notify({ kind: 'error', message: describe(error) }),
      );
      return;
    }
    const fresh = this.addMessages(state, [message]);
    if (fresh === 0) return;
    this.clearTyping(state, message.senderId);
    if (message.senderId !== this.me && message.seq > state.dto.lastReadSeq)
      state.dto.unreadCount += 1;
    this.notify({ kind: 'conversations' });
    this.notify({ kind: 'thread', conversationId: state.dto.id });
    if (message.senderId !== this.me) this.notify({ kind: 'incoming', message });
    this.markReadIfVisible();
  }

  private onTyping({ conversationId, userId, typing, expiresInMs }: TypingEvent): void {
    const state = this.conversations.get(conversationId);
    if (!state || userId === this.me) return;
    this.clearTyping(state, userId);
    if (typing) {
      state.typing.set(
        userId,
        setTimeout(() => this.clearTyping(state, userId), expiresInMs ?? 5_000),
      );
    }
    this.notify({ kind: 'thread', conversationId });
  }

  private clearTyping(state: ConversationState, userId?: string): void {
    const ids = userId ? [userId] : [...state.typing.keys()];
    let changed = false;
    for (const id of ids) {
      const timer = state.typing.get(id);
      if (timer === undefined) continue;
      clearTimeout(timer);
      state.typing.delete(id);
      changed = true;
    }
    if (changed) this.notify({ kind: 'thread', conversationId: state.dto.id });
  }

  /** Merges by seq; returns how many messages were new. Keeps the list preview current. */
  private addMessages(state: ConversationState, messages: MessageDto[]): number {
    const known = new Set(state.messages.map((m) => m.seq));
    const fresh = messages.filter((m) => !known.has(m.seq));
    if (fresh.length === 0) return 0;
    state.messages = [...state.messages, ...fresh].sort((a, b) => a.seq - b.seq);
    const last = state.messages.at(-1)!;
    if (last.seq >= state.dto.lastSeq) {
      const { id, seq, senderId, body, createdAt } = last;
      state.dto.lastSeq = seq;
      state.dto.lastMessage = { id, seq, senderId, body, createdAt };
      if (createdAt > state.dto.lastActivityAt) state.dto.lastActivityAt = createdAt;
    }
    return fresh.length;
  }

  /** How far the other members have read: "Seen" holds across reloads. */
  private peerReadSeqOf(dto: ConversationDto): number {
    return Math.max(
      0,
      ...dto.members.filter((m) => m.userId !== this.me).map((m) => m.lastReadSeq),
    );
  }

  private upsert(dto: ConversationDto, notify = true): void {
    const existing = this.conversations.get(dto.id);
    if (existing) {
      // Keep what the socket told us if it is newer than this REST snapshot.
      const lastSeq = Math.max(existing.dto.lastSeq, dto.lastSeq);
      existing.dto = {
        ...dto,
        lastSeq,
        lastMessage: lastSeq > dto.lastSeq ? existing.dto.lastMessage : dto.lastMessage,
      };
      existing.peerReadSeq = Math.max(existing.peerReadSeq, this.peerReadSeqOf(dto));
    } else {
      this.conversations.set(dto.id, {
        dto,
        messages: [],
        loaded: false,
        pending: [],
        peerReadSeq: this.peerReadSeqOf(dto),
        typing: new Map(),
      });
    }
    if (notify) this.notify({ kind: 'conversations' });
  }

  private queryPresence(userIds: string[]): void {
    const unique = [...new Set(userIds)].slice(0, 200);
    if (unique.length === 0 || !this.socket.connected) return;
    this.queryPresenceOf(unique).then(
      ({ users }) => {
        for (const user of users) this.presence.set(user.userId, user);
        this.notify({ kind: 'presence' });
      },
      (error: unknown) => this.notify({ kind: 'error', message: describe(error) }),
    );
  }

  private sync(payload: SyncInput): Promise<SyncResult> {
    return new Promise((resolve, reject) =>
      this.socket.timeout(ACK_TIMEOUT_MS).emit('sync', payload, settle(resolve, reject)),
    );
  }

  private queryPresenceOf(userIds: string[]): Promise<{ users: PresenceDto[] }> {
    return new Promise((resolve, reject) =>
      this.socket
        .timeout(ACK_TIMEOUT_MS)
        .emit('presence:query', { userIds }, settle(resolve, reject)),
    );
  }

  private reconnectWithFreshToken(): void {
    // At most one renewal per 5 s, so a gateway that keeps refusing does not spin.
    const wait = Math.max(0, this.lastRenewal + 5_000 - Date.now());
    setTimeout(() => {
      this.lastRenewal = Date.now();
      this.renew(this.identity).then(
        (identity) => {
          this.identity = identity;
          this.socket.auth = { token: identity.token };
          this.socket.connect();
        },
        (error: unknown) => {
          this.setConnection('offline', describe(error));
          setTimeout(() => this.reconnectWithFreshToken(), 5_000);
        },
      );
    }, wait);
  }

  private setConnection(state: ConnectionState, detail?: string): void {
    this.connection = state;
    this.notify(detail === undefined ? { kind: 'connection' } : { kind: 'connection', detail });
  }
}

/** An ack with a timeout as a promise: a timeout or an error ack rejects. */
function settle<T>(resolve: (data: T) => void, reject: (error: Error) => void) {
  return (err: Error | null, ack: Ack<T>) => {
    if (err) reject(err);
    else if (!ack.ok) reject(new Error(ack.error.message));
    else resolve(ack.data);
  };
}

/** `crypto.randomUUID` needs a secure context; a LAN address over http is not one. */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
