// An in-memory model of the gateway's contract (notes/contract.md) behind a fake socket and a
// fake fetch, for unit tests on a fake clock: seq and version per conversation, idempotent
// send, sync by version with pages, read state, fan-out to every device but the sender's, and
// knobs to lose, duplicate, delay and reorder what travels.
import { createClock, type Clock as FakeClock } from '@sinonjs/fake-timers';
import type {
  Clock,
  ConversationDto,
  ErrorBody,
  FetchLike,
  MessageDto,
  SocketFactory,
  SocketLike,
} from '../../src/index.js';

type Listener = (...args: never[]) => void;

/** An error body as it travels (codes newer than chat-domain's included). */
export type WireError = Omit<ErrorBody, 'code'> & { code: string };

interface Payload {
  conversationId: string;
  clientMessageId: string;
  body: string;
  seq: number;
  userIds: string[];
  token: string;
  conversations: { conversationId: string; afterVersion: number }[];
  epoch?: string;
  positions: { conversationId: string; seq: number }[];
  replyTo?: string;
  mentions?: string[];
  messageId: string;
  emoji: string;
  on: boolean;
  muted?: boolean;
  pinned?: boolean;
  archived?: boolean;
  unread?: boolean;
}

export interface ServerConversation {
  id: string;
  kind: 'direct' | 'group';
  title?: string;
  jobId?: string;
  members: string[];
  version: number;
  lastSeq: number;
  messages: MessageDto[];
  reads: Map<string, number>;
  /** Delivered positions, apart from reads (the real store's `advanceDelivered`). */
  delivered: Map<string, number>;
  /** Each member's own organisation (the real store's `organise`); absent: nothing. */
  organised?: Map<string, { muted: boolean; pinned: boolean; archived: boolean; unread: boolean }>;
  /** Idempotency: (sender, clientMessageId) to the stored message. */
  byClientId: Map<string, MessageDto>;
  createdAt: string;
  lastActivityAt: string;
  request?: { from: string; to: string; state: 'pending' | 'declined' };
  blocked?: boolean;
}

/** One socket as the server sees it; its client side is the SocketLike given to the SDK. */
export class FakeSocket implements SocketLike {
  connected = false;
  userId: string | undefined;
  /** Live events waiting to travel, when the gateway delivers by hand. */
  readonly wire: [string, unknown][] = [];
  readonly emitted: [string, unknown][] = [];
  private readonly listeners = new Map<string, Listener[]>();
  private readonly any: ((event: string, ...args: unknown[]) => void)[] = [];
  closedByClient = false;

  constructor(
    readonly gateway: FakeGateway,
    readonly url: string,
    readonly token: string,
  ) {}

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  onAny(listener: (event: string, ...args: unknown[]) => void): this {
    this.any.push(listener);
    return this;
  }

  emit(event: string, ...args: unknown[]): this {
    if (!this.connected) return this;
    this.emitted.push([event, args[0]]);
    const ack =
      typeof args.at(-1) === 'function' ? (args.at(-1) as (r: unknown) => void) : undefined;
    this.gateway.handle(this, event, args[0], ack);
    return this;
  }

  disconnect(): this {
    if (this.closedByClient) return this;
    this.closedByClient = true;
    const was = this.connected;
    this.connected = false;
    this.gateway.forget(this);
    if (was) this.fire('disconnect', 'io client disconnect');
    return this;
  }

  // ----- server side -----

  accept(): void {
    this.connected = true;
    this.fire('connect');
  }

  refuse(data: WireError | undefined, message = data?.message ?? 'websocket error'): void {
    this.gateway.forget(this);
    this.fire('connect_error', Object.assign(new Error(message), data ? { data } : {}));
  }

  /** The server (or the network) ends the connection. */
  drop(reason = 'transport close'): void {
    if (!this.connected) return;
    this.connected = false;
    this.gateway.forget(this);
    this.fire('disconnect', reason);
  }

  /** Delivers a server event now. */
  deliver(event: string, payload: unknown): void {
    if (!this.connected) return;
    for (const listener of this.any) listener(event, payload);
  }

  private fire(event: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(event) ?? [])
      (listener as (...a: unknown[]) => void)(...args);
  }
}

export interface GatewayOptions {
  /** Messages per conversation in one sync page. */
  syncPageSize?: number;
  /** When true, live events wait on each socket's `wire` until the test moves them. */
  manualDelivery?: boolean;
}

export class FakeGateway {
  readonly clock: FakeClock = createClock(Date.UTC(2026, 0, 5, 9, 0, 0));
  readonly conversations = new Map<string, ServerConversation>();
  readonly sockets = new Set<FakeSocket>();
  /** Every socket ever opened, in order. */
  readonly attempts: FakeSocket[] = [];
  readonly online = new Set<string>();
  /** Decides each handshake: undefined accepts, a body refuses, 'hang' never answers. */
  handshake: (socket: FakeSocket) => WireError | undefined | 'hang' | 'network' = () => undefined;
  /** Answers instead of the model (garbage, errors); undefined falls through to the model. */
  override: (event: string, payload: unknown, socket: FakeSocket) => unknown = () => undefined;
  /** Requests whose ack is swallowed (the server did the work; the answer is lost). */
  loseAcks = 0;
  /** Requests left unanswered while true (a stalled server). */
  stall = false;
  readonly requests: [string, unknown][] = [];
  syncPageSize: number;
  manualDelivery: boolean;
  /** Messages one whole sync answer carries, over all its conversations. */
  syncAnswerBudget = Number.POSITIVE_INFINITY;
  /** The real gateway's sync cursor lags this far behind young changes (0: it does not). */
  settleMs = 0;
  /** The store's epoch (a restore changes it); undefined: a server from before epochs. */
  epoch: string | undefined = 'epoch-1';
  /** An older gateway refused a whole sync for one conversation the caller is not in. */
  private ids = 0;

  constructor(options: GatewayOptions = {}) {
    this.syncPageSize = options.syncPageSize ?? 200;
    this.manualDelivery = options.manualDelivery ?? false;
  }

  /** The clock as the SDK takes it. */
  readonly sdkClock: Clock = {
    now: () => this.clock.now,
    setTimeout: (callback, ms) => this.clock.setTimeout(callback, ms),
    clearTimeout: (handle) => this.clock.clearTimeout(handle as never),
  };

  readonly factory: SocketFactory = (url, options) => {
    const socket = new FakeSocket(this, url, options.token);
    this.attempts.push(socket);
    socket.userId = userOf(options.token);
    // Like a network: the answer comes later, after the client listens.
    queueMicrotask(() => {
      const verdict = this.handshake(socket);
      if (verdict === 'hang') return;
      if (verdict === 'network') return socket.refuse(undefined, 'websocket error');
      if (verdict) return socket.refuse(verdict);
      if (!socket.userId) return socket.refuse({ code: 'UNAUTHORIZED', message: 'invalid token' });
      this.sockets.add(socket);
      this.online.add(socket.userId);
      socket.accept();
    });
    return socket;
  };

  readonly fetch: FetchLike = async (url, init) => {
    const { pathname, searchParams } = new URL(url);
    const userId = userOf(init.headers['authorization']?.replace(/^Bearer /, '') ?? '');
    const reply = (status: number, body: unknown) => ({
      ok: status < 400,
      status,
      headers: { get: () => null },
      text: async () => JSON.stringify(body),
    });
    if (!userId) return reply(401, { error: { code: 'UNAUTHORIZED', message: 'no token' } });
    const notMember = reply(404, { error: { code: 'NOT_A_MEMBER', message: 'not a member' } });
    this.calls.push(`${init.method} ${pathname}${searchParams.size > 0 ? `?${searchParams}` : ''}`);
    const trust = this.trustRoute(userId, init.method, pathname, init.body);
    if (trust) return reply(trust[0], trust[1]);
    if (pathname === '/conversations' && init.method === 'GET') {
      const requests = searchParams.get('box') === 'requests';
      const mine = [...this.conversations.values()]
        .filter((c) => c.members.includes(userId))
        .filter((c) => (c.request?.to === userId) === requests)
        .sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
      return reply(200, {
        conversations: mine.map((c) => this.dto(c, userId)),
        totalUnread: 0,
        ...(this.epoch !== undefined && { epoch: this.epoch }),
      });
    }
    if (pathname === '/conversations' && init.method === 'POST') {
      const body = JSON.parse(init.body ?? '{}') as { userId: string };
      const existing = [...this.conversations.values()].find(
        (c) => c.kind === 'direct' && c.members.includes(userId) && c.members.includes(body.userId),
      );
      return reply(200, this.dto(existing ?? this.open([userId, body.userId]), userId));
    }
    const one = /^\/conversations\/([^/]+)(\/messages)?$/.exec(pathname);
    const c = one ? this.conversations.get(decodeURIComponent(one[1]!)) : undefined;
    if (!c || !c.members.includes(userId)) return notMember;
    if (!one![2]) return reply(200, this.dto(c, userId));
    const limit = Number(searchParams.get('limit') ?? 50);
    const before = searchParams.get('before');
    const sorted = [...c.messages].sort((a, b) => a.seq - b.seq);
    const older = before === null ? sorted : sorted.filter((m) => m.seq < Number(before));
    const page = older.slice(-limit);
    return reply(200, { messages: page, hasMore: older.length > page.length });
  };

  /** Every REST call, `METHOD /path?query`, in order. */
  readonly calls: string[] = [];

  /** The trust routes (requests, edit and delete, blocks, reports), or undefined for others. */
  private trustRoute(
    userId: string,
    method: string,
    pathname: string,
    body: string | undefined,
  ): [number, unknown] | undefined {
    const revise = /^\/conversations\/([^/]+)\/messages\/([^/]+)$/.exec(pathname);
    if (revise && (method === 'PATCH' || method === 'DELETE')) {
      const c = this.conversations.get(revise[1]!);
      const m = c?.messages.find((x) => x.id === revise[2]);
      if (!c || !m || m.senderId !== userId)
        return [403, { error: { code: 'FORBIDDEN', message: 'not yours' } }];
      const text = method === 'PATCH' ? (JSON.parse(body ?? '{}') as { body: string }).body : '';
      return [200, this.edit(c.id, m.id, text, method === 'DELETE')];
    }
    const answer = /^\/conversations\/([^/]+)\/(accept|decline)$/.exec(pathname);
    if (answer && method === 'POST') {
      const c = this.conversations.get(answer[1]!);
      if (!c?.request || c.request.to !== userId)
        return [409, { error: { code: 'CONFLICT', message: 'no request' } }];
      if (answer[2] === 'accept') delete c.request;
      else c.request.state = 'declined';
      this.fanOut(c.members, 'conversation:updated', {
        conversationId: c.id,
        blocked: c.blocked ?? false,
        request: c.request ?? null,
      });
      return [200, this.dto(c, userId)];
    }
    if (/^\/users\/[^/]+\/block$/.test(pathname)) return [200, { blocked: method === 'PUT' }];
    if (pathname === '/reports' && method === 'POST')
      return [201, { id: 'r1', status: 'open', createdAt: new Date(this.clock.now).toISOString() }];
    return undefined;
  }

  // ----- the model -----

  open(members: string[], extra: Partial<ServerConversation> = {}): ServerConversation {
    const now = new Date(this.clock.now).toISOString();
    const c: ServerConversation = {
      id: `c${++this.ids}`,
      kind: members.length > 2 ? 'group' : 'direct',
      members,
      version: 1,
      lastSeq: 0,
      messages: [],
      reads: new Map(),
      delivered: new Map(),
      byClientId: new Map(),
      createdAt: now,
      lastActivityAt: now,
      ...extra,
    };
    this.conversations.set(c.id, c);
    return c;
  }

  /** Appends a message as if `senderId` sent it from another device (no ack, fan-out to all). */
  append(
    conversationId: string,
    senderId: string,
    body: string,
    clientMessageId?: string,
    except?: FakeSocket,
    extra: Pick<MessageDto, 'replyTo' | 'mentions'> = {},
  ): MessageDto {
    const c = this.conversations.get(conversationId)!;
    const key = `${senderId}\u0000${clientMessageId}`;
    const existing = clientMessageId === undefined ? undefined : c.byClientId.get(key);
    if (existing) return c.messages.find((m) => m.id === existing.id) ?? existing;
    const message: MessageDto = {
      id: `m${++this.ids}`,
      conversationId,
      seq: ++c.lastSeq,
      version: ++c.version,
      senderId,
      clientMessageId: clientMessageId ?? `srv${this.ids}`,
      kind: 'user',
      body,
      createdAt: new Date(this.clock.now).toISOString(),
      ...extra,
    };
    c.messages.push(message);
    if (clientMessageId !== undefined) c.byClientId.set(key, message);
    c.lastActivityAt = message.createdAt;
    c.reads.set(senderId, message.seq);
    this.fanOut(c.members, 'message:new', message, except);
    return message;
  }

  /**
   * The store restored from a snapshot: the conversation keeps its first `keep` messages, its
   * version and seq go back to theirs, and the store gets a new epoch.
   */
  restore(conversationId: string, keep: number, epoch: string): void {
    const c = this.conversations.get(conversationId)!;
    c.messages = c.messages.slice(0, keep);
    c.version = c.messages.at(-1)?.version ?? 0;
    c.lastSeq = c.messages.at(-1)?.seq ?? 0;
    c.byClientId = new Map(c.messages.map((m) => [`${m.senderId}\u0000${m.clientMessageId}`, m]));
    this.epoch = epoch;
  }

  /** Edits a message (or deletes it: a tombstone) and tells every device of every member. */
  edit(conversationId: string, messageId: string, body: string, deleted = false): MessageDto {
    const c = this.conversations.get(conversationId)!;
    const index = c.messages.findIndex((m) => m.id === messageId);
    const at = new Date(this.clock.now).toISOString();
    const edited = {
      ...c.messages[index]!,
      body,
      version: ++c.version,
      ...(deleted ? { deletedAt: at } : { editedAt: at }),
    };
    c.messages[index] = edited;
    this.fanOut(c.members, 'message:updated', edited);
    return edited;
  }

  /** A version allocated and never used (a write that failed after taking it). */
  burn(conversationId: string): void {
    this.conversations.get(conversationId)!.version++;
  }

  removeMember(conversationId: string, userId: string): void {
    const c = this.conversations.get(conversationId)!;
    c.members = c.members.filter((m) => m !== userId);
  }

  /** Sends an event to every live socket of these users, except one. */
  fanOut(userIds: string[], event: string, payload: unknown, except?: FakeSocket): void {
    for (const socket of this.sockets) {
      if (socket === except || !socket.userId || !userIds.includes(socket.userId)) continue;
      if (this.manualDelivery) socket.wire.push([event, payload]);
      else socket.deliver(event, payload);
    }
  }

  /** Every socket of this user (most recent last). */
  socketsOf(userId: string): FakeSocket[] {
    return [...this.sockets].filter((s) => s.userId === userId);
  }

  handle(socket: FakeSocket, event: string, payload: unknown, ack?: (r: unknown) => void): void {
    this.requests.push([event, payload]);
    if (this.stall) return;
    const answer = (response: unknown) => {
      if (this.loseAcks > 0) {
        this.loseAcks--;
        return;
      }
      queueMicrotask(() => {
        if (socket.connected) ack?.(response);
      });
    };
    const overridden = this.override(event, payload, socket);
    if (overridden !== undefined) return answer(overridden);
    const userId = socket.userId!;
    const fail = (code: string, message = code) => answer({ ok: false, error: { code, message } });
    const p = payload as Payload;
    switch (event) {
      case 'message:send': {
        const c = this.conversations.get(p.conversationId);
        if (!c || !c.members.includes(userId)) return fail('NOT_A_MEMBER');
        const before = c.messages.length;
        const target = c.messages.find((m) => m.id === p.replyTo);
        if (p.replyTo !== undefined && !target) return fail('INVALID_PAYLOAD');
        const mentions = (p.mentions ?? []).filter((id) => id !== userId && c.members.includes(id));
        const message = this.append(c.id, userId, p.body, p.clientMessageId, socket, {
          ...(target && {
            replyTo: {
              id: target.id,
              seq: target.seq,
              senderId: target.senderId,
              body: target.body,
            },
          }),
          ...(mentions.length > 0 && { mentions }),
        });
        if (mentions.length > 0 && c.messages.length > before)
          this.fanOut(mentions, 'mention:new', {
            conversationId: c.id,
            messageId: message.id,
            seq: message.seq,
            senderId: userId,
          });
        return answer({ ok: true, data: { message, duplicate: c.messages.length === before } });
      }
      case 'message:react': {
        const c = this.conversations.get(p.conversationId);
        if (!c || !c.members.includes(userId)) return fail('NOT_A_MEMBER');
        const index = c.messages.findIndex((m) => m.id === p.messageId);
        if (index < 0) return fail('NOT_FOUND');
        const entries = (this.reactions.get(p.messageId) ?? []).filter(
          (r) => !(r.userId === userId && r.emoji === p.emoji),
        );
        if (p.on) entries.push({ userId, emoji: p.emoji });
        this.reactions.set(p.messageId, entries);
        const counts = (viewer?: string) => {
          const byEmoji = new Map<string, { emoji: string; count: number; mine?: true }>();
          for (const r of entries) {
            const e = byEmoji.get(r.emoji) ?? { emoji: r.emoji, count: 0 };
            e.count++;
            if (r.userId === viewer) e.mine = true;
            byEmoji.set(r.emoji, e);
          }
          return [...byEmoji.values()];
        };
        const { reactions: _old, ...rest } = c.messages[index]!;
        const shared = { ...rest, version: ++c.version, reactions: counts() };
        c.messages[index] = shared;
        this.fanOut(
          c.members,
          'message:reacted',
          { message: shared, userId, emoji: p.emoji, on: p.on },
          socket,
        );
        return answer({ ok: true, data: { ...shared, reactions: counts(userId) } });
      }
      case 'sync': {
        const out: unknown[] = [];
        let budget = this.syncAnswerBudget;
        // Versions of another epoch are void: every conversation from the start.
        const restart = p.epoch !== undefined && p.epoch !== this.epoch;
        for (const { conversationId, afterVersion: asked } of p.conversations) {
          const afterVersion = restart ? 0 : asked;
          const c = this.conversations.get(conversationId);
          if (!c || !c.members.includes(userId)) {
            // The contract's way: that entry says so, the others are answered.
            out.push({ conversationId, error: { code: 'NOT_A_MEMBER', message: 'not a member' } });
            continue;
          }
          const changed = c.messages
            .filter((m) => m.version > afterVersion)
            .sort((a, b) => a.version - b.version);
          if (changed.length > 0 && budget === 0) {
            // The answer is full: come back for this one (the real gateway's answer caps).
            out.push({
              conversationId,
              messages: [],
              version: afterVersion,
              hasMore: true,
              lastReadSeq: c.reads.get(userId) ?? 0,
            });
            continue;
          }
          const page = changed.slice(0, Math.min(this.syncPageSize, budget));
          budget -= page.length;
          const hasMore = changed.length > page.length;
          out.push({
            conversationId,
            messages: page,
            version: hasMore ? page.at(-1)!.version : this.settled(c, page, afterVersion),
            hasMore,
            lastReadSeq: c.reads.get(userId) ?? 0,
            ...(restart && { conversation: this.dto(c, userId) }),
            ...this.receipts(c, userId),
            ...this.organisation(c, userId),
          });
        }
        return answer({
          ok: true,
          data: { conversations: out, ...(this.epoch !== undefined && { epoch: this.epoch }) },
        });
      }
      case 'conversation:read': {
        const c = this.conversations.get(p.conversationId);
        if (!c || !c.members.includes(userId)) return fail('NOT_A_MEMBER');
        if (p.seq > c.lastSeq) return fail('INVALID_PAYLOAD', 'beyond the last message');
        const current = c.reads.get(userId) ?? 0;
        const lastReadSeq = Math.max(current, p.seq);
        c.reads.set(userId, lastReadSeq);
        if (lastReadSeq > current)
          this.fanOut(
            c.members,
            'conversation:read',
            { conversationId: c.id, userId, lastReadSeq },
            socket,
          );
        return answer({
          ok: true,
          data: { conversationId: c.id, lastReadSeq, unreadCount: c.lastSeq - lastReadSeq },
        });
      }
      case 'conversation:delivered': {
        const out: { conversationId: string; lastDeliveredSeq: number }[] = [];
        for (const { conversationId, seq } of p.positions) {
          const c = this.conversations.get(conversationId);
          if (!c || !c.members.includes(userId)) continue;
          const current = Math.max(c.delivered.get(userId) ?? 0, c.reads.get(userId) ?? 0);
          const lastDeliveredSeq = Math.max(current, Math.min(seq, c.lastSeq));
          c.delivered.set(userId, lastDeliveredSeq);
          if (lastDeliveredSeq > current)
            this.fanOut(
              c.members,
              'conversation:delivered',
              { conversationId: c.id, userId, lastDeliveredSeq },
              socket,
            );
          out.push({ conversationId, lastDeliveredSeq });
        }
        return answer({ ok: true, data: { conversations: out } });
      }
      case 'conversation:organise': {
        const c = this.conversations.get(p.conversationId);
        if (!c || !c.members.includes(userId)) return fail('NOT_A_MEMBER');
        c.organised ??= new Map();
        const was = c.organised.get(userId) ?? {
          muted: false,
          pinned: false,
          archived: false,
          unread: false,
        };
        const now = {
          muted: p.muted ?? was.muted,
          pinned: p.pinned ?? (p.archived === true ? false : was.pinned),
          archived: p.archived ?? (p.pinned === true ? false : was.archived),
          unread: p.unread ?? was.unread,
        };
        c.organised.set(userId, now);
        const organised = { conversationId: c.id, ...now };
        this.fanOut([userId], 'conversation:organised', organised, socket);
        return answer({ ok: true, data: organised });
      }
      case 'presence:query':
        return answer({
          ok: true,
          data: { users: p.userIds.map((u) => ({ userId: u, online: this.online.has(u) })) },
        });
      case 'auth:refresh':
        return userOf(p.token) === userId
          ? answer({
              ok: true,
              data: { expiresAt: new Date(this.clock.now + 3_600_000).toISOString() },
            })
          : fail('UNAUTHORIZED', 'token belongs to another user');
      case 'typing:start':
      case 'typing:stop':
        return answer({ ok: true, data: null });
      default:
        return fail('UNKNOWN_EVENT');
    }
  }

  /**
   * The cursor a complete sync answer returns. With a settle window (the real gateway's: a
   * version is taken before its write lands), it stops before the first message younger than
   * the window; without one, it is the conversation's version.
   */
  private settled(c: ServerConversation, page: MessageDto[], afterVersion: number): number {
    if (this.settleMs === 0) return c.version;
    let version = afterVersion;
    for (const m of page) {
      if (Date.parse(m.editedAt ?? m.createdAt) > this.clock.now - this.settleMs) break;
      version = m.version;
    }
    return version;
  }

  forget(socket: FakeSocket): void {
    this.sockets.delete(socket);
    if (socket.userId && this.socketsOf(socket.userId).length === 0)
      this.online.delete(socket.userId);
  }

  /** A sync entry's `receipts`: the other members' positions above 0. */
  private receipts(c: ServerConversation, viewer: string) {
    const receipts = c.members
      .filter((u) => u !== viewer)
      .map((u) => ({
        userId: u,
        lastReadSeq: c.reads.get(u) ?? 0,
        lastDeliveredSeq: Math.max(c.delivered.get(u) ?? 0, c.reads.get(u) ?? 0),
      }))
      .filter((r) => r.lastDeliveredSeq > 0);
    return receipts.length > 0 ? { receipts } : {};
  }
  /** Who reacted with what, per message id. */
  private readonly reactions = new Map<string, { userId: string; emoji: string }[]>();

  dto(c: ServerConversation, viewer: string): ConversationDto {
    const last = [...c.messages].sort((a, b) => b.seq - a.seq)[0];
    const read = c.reads.get(viewer) ?? 0;
    return {
      id: c.id,
      kind: c.kind,
      ...(c.title !== undefined && { title: c.title }),
      ...(c.jobId !== undefined && { jobId: c.jobId }),
      members: c.members.map((userId, i) => ({
        userId,
        role: i === 0 ? 'owner' : 'member',
        joinedAt: c.createdAt,
        lastReadSeq: c.reads.get(userId) ?? 0,
      })),
      createdBy: c.members[0]!,
      createdAt: c.createdAt,
      lastActivityAt: c.lastActivityAt,
      ...(last && {
        lastMessage: {
          id: last.id,
          seq: last.seq,
          senderId: last.senderId,
          body: last.body,
          createdAt: last.createdAt,
        },
      }),
      blocked: c.blocked ?? false,
      ...(c.request && { request: { ...c.request } }),
      lastSeq: c.lastSeq,
      lastReadSeq: read,
      unreadCount: Math.max(0, c.lastSeq - read),
      version: c.version,
      ...this.organisation(c, viewer),
    };
  }

  /** `{ organisation }` when the viewer organised the conversation at all (as the server does). */
  private organisation(c: ServerConversation, viewer: string) {
    const own = c.organised?.get(viewer);
    return own && Object.values(own).some(Boolean) ? { organisation: { ...own } } : {};
  }

  /** Runs timers and promise callbacks for `ms` of fake time. */
  async advance(ms = 0): Promise<void> {
    await this.clock.tickAsync(ms);
  }
}

/** Tokens in these tests are `token:<userId>` (anything else is refused). */
export const tokenOf = (userId: string) => `token:${userId}`;
const userOf = (token: string) => (/^token:([\w.-]+)$/.exec(token) ?? [])[1];
