import { LIMITS } from '@jobsphere/chat-domain';
import {
  defaultUploader,
  type AttachmentLink,
  type UploadOptions,
  type UploadSlot,
  type Uploader,
} from './attachments.js';
import { systemClock, Timer, type Clock } from './clock.js';
import { Connection, type ConnectionStatus } from './connection.js';
import { Emitter } from './emitter.js';
import { DeliveryAcks } from './delivery.js';
import { ChatError, isRetryable, toChatError } from './errors.js';
import { assertSameUser, resolveUser } from './identity.js';
import {
  isConversation,
  isConversationUpdate,
  isCount,
  isId,
  isMessage,
  isObject,
  isPresence,
  isReadEvent,
  isDeliveredEvent,
  isSettings,
  isOrganisedEvent,
  NOT_ORGANISED,
  organisationOf,
  receiptsOf,
  isTypingEvent,
} from './guards.js';
import { Outbox, type OutboxEntry } from './outbox.js';
import type {
  BlockedUsersPage,
  ConversationDto,
  ConversationUpdate,
  MessageDto,
  OrganiseChange,
  OrganisationDto,
  OrganisedDto,
  PresenceDto,
  ReadEvent,
  ReportReceipt,
  ScheduledSendDto,
  SearchPage,
  SendResult,
  SyncConversationPage,
} from './protocol.js';
import {
  RestClient,
  type CreateGroupInput,
  type OpenDirectInput,
  type ReportInput,
  type ScheduleInput,
  type SearchInput,
  type UploadRequest,
} from './rest.js';
import { Templates } from './templates.js';
import { Syncer } from './sync.js';
import { Timeline, VersionCursor } from './timeline.js';
import { socketIoFactory } from './transport.js';
import { Typing } from './typing.js';
import {
  DEFAULT_LIMITS,
  DEFAULT_TIMINGS,
  type ChatClientLimits,
  type ChatClientOptions,
  type ChatClientTimings,
} from './options.js';
import {
  buildView,
  type ChatChange,
  type ChatClientEvents,
  type Conversation,
  type ConversationView,
  type MessageSource,
} from './state.js';

/**
 * The JobSphere Chat client: one signed-in user on one device. It keeps the connection
 * (token refresh, backoff, draining instances), an outbox that never loses or doubles a
 * message, every conversation ordered by seq and deduplicated by id, caught up by `sync` from
 * its version cursor after every reconnect, `sync:required`, drain and gap; read state,
 * typing and presence. State is read through `conversations()` / `conversation(id)`, kept
 * current through the `change` event.
 */
export class ChatClient {
  /** The signed-in user: the token's (`userIdClaim`, `sub` by default), or the `userId` given. */
  readonly userId: string;
  private readonly events: Emitter<ChatClientEvents>;
  private readonly clock: Clock;
  private readonly limits: ChatClientLimits;
  private readonly timings: ChatClientTimings;
  private readonly connection: Connection;
  private readonly outbox: Outbox;
  private readonly syncer: Syncer;
  private readonly typingState: Typing;
  private readonly api: RestClient;
  /** Message templates (recruiters): list, keep, send filled, schedule. */
  readonly templates: Templates;
  private readonly uploader: Uploader;
  private readonly delivery: DeliveryAcks;
  /** This user's receipts setting as last known (shown until told otherwise). */
  private receiptsShown = true;
  private readonly byId = new Map<string, Conversation>();
  private readonly presenceById = new Map<string, PresenceDto>();
  private readonly unknown = new Map<string, MessageDto[]>();
  private contacts: Set<string> | undefined;
  private sortedViews: readonly ConversationView[] | undefined;
  private split:
    | {
        of: readonly ConversationView[];
        conversations: readonly ConversationView[];
        requests: readonly ConversationView[];
      }
    | undefined;
  private listCursor: string | undefined;
  private listLoaded = false;
  private requestsLoaded = false;
  private refreshing = false;
  private reporting = false;
  private closed = false;

  constructor(options: ChatClientOptions) {
    const claim = options.userIdClaim ?? 'sub';
    this.userId = resolveUser(options.userId, options.token, claim);
    this.uploader = options.uploader ?? defaultUploader();
    this.clock = options.clock ?? systemClock;
    const random = options.random ?? Math.random;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    const t = this.timings;
    this.events = new Emitter((error) =>
      this.reportError(toChatError(error, 'PROTOCOL'), 'a listener threw'),
    );
    const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
    this.connection = new Connection({
      urls,
      token: options.token,
      checkToken: (token) => assertSameUser(token, this.userId, claim),
      socketFactory: options.socketFactory ?? socketIoFactory,
      transports: options.transports ?? ['websocket'],
      clock: this.clock,
      random,
      backoff: t.backoff,
      connectTimeoutMs: t.connectTimeoutMs,
      avoidMs: t.avoidDrainingMs,
      stableAfterMs: t.stableAfterMs,
      onStatus: (status) => {
        this.events.emit('connection', status);
        this.events.emit('change', { kind: 'connection' });
      },
      onEvent: (name, payload) => this.receive(name, payload),
      onConnected: () => this.connected(),
      onDisconnected: () => this.disconnected(),
    });
    this.delivery = new DeliveryAcks({
      clock: this.clock,
      debounceMs: t.deliveredDebounceMs,
      // The server's cap (LIMITS.maxDeliveredBatch).
      maxBatch: 100,
      ready: () => this.connection.connected,
      send: (positions) =>
        this.connection.request('conversation:delivered', { positions }, t.requestTimeoutMs),
      onError: (error) => this.reportError(error, 'a delivered acknowledgement failed'),
    });
    this.outbox = new Outbox({
      storage: options.storage,
      storageKey: options.storageKey ?? `jobsphere-chat:outbox:${this.userId}`,
      cap: this.limits.maxOutbox,
      maxInFlight: this.limits.maxInFlightSends,
      clock: this.clock,
      random,
      backoff: t.backoff,
      deliver: (entry) => this.deliver(entry),
      onSent: (entry, result) => this.sent(entry, result),
      onChange: (entry, removed) => {
        this.touch(entry.conversationId);
        this.events.emit('outbox', { entry, removed });
      },
      onError: (error) => this.reportError(error),
    });
    this.syncer = new Syncer({
      clock: this.clock,
      random,
      backoff: t.backoff,
      batchSize: LIMITS.maxSyncConversations,
      maxPages: this.limits.maxSyncPages,
      request: (payload) => this.connection.request('sync', payload, t.requestTimeoutMs),
      cursorOf: (id) => this.byId.get(id)?.cursor.value,
      restart: (epoch) => this.restart(epoch),
      apply: (page) => this.applySyncPage(page),
      removed: (id, error) => this.removeConversation(id, error),
      onError: (error) => this.reportError(error),
    });
    this.typingState = new Typing({
      clock: this.clock,
      refreshMs: t.typingRefreshMs,
      idleMs: t.typingIdleMs,
      defaultExpiryMs: t.typingExpiryMs,
      maxTypers: 20,
      emit: (event, conversationId) => this.connection.notify(event, { conversationId }),
      onChange: (conversationId) => {
        this.touch(conversationId);
        this.events.emit('typing', {
          conversationId,
          userIds: this.typingState.typers(conversationId),
        });
      },
    });
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    this.api = new RestClient({
      baseUrl: () => options.restUrl ?? this.connection.url,
      token: (force) => this.connection.token(force),
      fetch:
        fetchImpl ??
        (() => Promise.reject(new ChatError('NETWORK', 'no fetch: pass options.fetch'))),
      clock: this.clock,
      timeoutMs: t.restTimeoutMs,
    });
    this.templates = new Templates(this.api, (message) => this.take(message, 'ack'));
  }

  // ----- lifecycle -------------------------------------------------------------------------

  /**
   * Loads the outbox a previous session left, connects, and resolves once connected. It
   * keeps retrying what is worth retrying (unreachable, draining, rate limited) and rejects
   * with a `ChatConnectError` when the server refuses the credentials; with `failFast` it
   * rejects on the first failure (scripts and tools: say what is wrong and exit).
   */
  async connect(options: { failFast?: boolean } = {}): Promise<void> {
    if (this.closed) throw new ChatError('CLOSED', 'the client is closed');
    await this.outbox.load();
    await this.connection.connect(options.failFast ?? false);
  }

  /** Drops the connection and connects again now (a "retry" button). */
  reconnect(): void {
    this.connection.reconnect();
  }

  /** Closes the connection and every timer; resolves once the outbox is saved. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connection.close();
    this.outbox.close();
    this.syncer.stop();
    this.typingState.clear();
    this.delivery.close();
    for (const c of this.byId.values()) c.gap.cancel();
    await this.outbox.flush();
  }

  on<K extends keyof ChatClientEvents>(
    event: K,
    listener: (payload: ChatClientEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  off<K extends keyof ChatClientEvents>(
    event: K,
    listener: (payload: ChatClientEvents[K]) => void,
  ): void {
    this.events.off(event, listener);
  }

  // ----- state -----------------------------------------------------------------------------

  get status(): ConnectionStatus {
    return this.connection.current;
  }

  /**
   * Held conversations, most recent activity first; requests this user received are apart.
   * The same array until something in it changes (a snapshot for `useSyncExternalStore`).
   */
  conversations(): readonly ConversationView[] {
    return this.lists().conversations;
  }

  /** Message requests strangers sent this user and it has not answered, most recent first. */
  requests(): readonly ConversationView[] {
    return this.lists().requests;
  }

  private lists(): {
    conversations: readonly ConversationView[];
    requests: readonly ConversationView[];
  } {
    const all = this.sorted();
    if (this.split?.of !== all) {
      const received = (v: ConversationView) => v.request?.to === this.userId;
      this.split = {
        of: all,
        conversations: all.filter((v) => !received(v)),
        requests: all.filter((v) => received(v) && v.request?.state === 'pending'),
      };
    }
    return this.split;
  }

  private sorted(): readonly ConversationView[] {
    return (this.sortedViews ??= [...this.byId.values()]
      .map((c) => this.view(c))
      .sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt) || (a.id < b.id ? -1 : 1)));
  }

  conversation(conversationId: string): ConversationView | undefined {
    const c = this.byId.get(conversationId);
    return c && this.view(c);
  }

  /** Unread messages over the held conversations (requests received are counted apart). */
  get totalUnread(): number {
    let total = 0;
    for (const v of this.conversations()) total += v.unreadCount;
    return total;
  }

  /** Whether `loadMoreConversations()` has another page. */
  get hasMoreConversations(): boolean {
    return !this.listLoaded || this.listCursor !== undefined;
  }

  presence(userId: string): PresenceDto | undefined {
    return this.presenceById.get(userId);
  }

  /** Everything waiting to be sent, over all conversations, in send order. */
  pending(): readonly OutboxEntry[] {
    return this.outbox.list();
  }

  // ----- actions ---------------------------------------------------------------------------

  /**
   * Queues a message and returns at once with its outbox entry. It is sent when connected,
   * in order per conversation, and retried with the same clientMessageId until the server
   * stores it (`sent` event; it then shows in `messages`) or refuses it (state `failed`).
   * Throws INVALID_PAYLOAD for a blank or too long body, OUTBOX_FULL past the cap.
   */
  send(
    conversationId: string,
    body: string,
    options?:
      | string
      | {
          clientMessageId?: string;
          attachmentIds?: readonly string[];
          /** A message of this conversation to quote (refused with INVALID_PAYLOAD otherwise). */
          replyTo?: string;
          /** Group members to mention; others are dropped by the server. */
          mentions?: readonly string[];
        },
  ): OutboxEntry {
    const { clientMessageId, attachmentIds, replyTo, mentions } =
      typeof options === 'string' ? { clientMessageId: options } : (options ?? {});
    const entry = this.outbox.add(conversationId, body, clientMessageId, attachmentIds, {
      ...(replyTo !== undefined && { replyTo }),
      ...(mentions && { mentions }),
    });
    this.typingState.sent(conversationId);
    return entry;
  }

  /**
   * Resolves with the stored message once the server has it (acknowledged, or seen in a sync);
   * rejects with the reason when it is refused for good, discarded, or the client closes. For
   * scripts and tests: a UI follows `pending` and `messages` instead.
   */
  whenSent(clientMessageId: string): Promise<MessageDto> {
    const entry = this.outbox.get(clientMessageId);
    if (!entry) return Promise.reject(new ChatError('NOT_FOUND', 'no such message is waiting'));
    const stored = () =>
      this.byId
        .get(entry.conversationId)
        ?.timeline.messages.find(
          (m) => m.clientMessageId === clientMessageId && m.senderId === this.userId,
        );
    return new Promise((resolve, reject) => {
      const offs: (() => void)[] = [];
      const settle = (outcome: MessageDto | ChatError) => {
        for (const off of offs) off();
        if (outcome instanceof ChatError) reject(outcome);
        else resolve(outcome);
      };
      offs.push(
        this.on('sent', ({ entry: e, message }) => {
          if (e.clientMessageId === clientMessageId) settle(message);
        }),
        this.on('outbox', ({ entry: e, removed }) => {
          if (e.clientMessageId !== clientMessageId) return;
          if (e.state === 'failed' && e.error)
            return settle(new ChatError(e.error.code, e.error.message));
          if (!removed) return;
          const message = stored();
          // An ack is followed by `sent` right away; anything else removed was discarded.
          if (message) settle(message);
          else
            queueMicrotask(() => settle(new ChatError('NOT_FOUND', 'the message was discarded')));
        }),
        this.on('connection', ({ state }) => {
          if (state === 'closed') settle(new ChatError('CLOSED', 'the client is closed'));
        }),
      );
    });
  }

  // ----- attachments -----------------------------------------------------------------------

  /**
   * Asks for an upload slot for one file (members only; the type must be on the gateway's
   * allow-list, the name must end as the type does, the size within its cap).
   */
  requestUpload(input: UploadRequest): Promise<UploadSlot> {
    return this.api.requestUpload(input);
  }

  /**
   * Uploads a file to a slot, reporting progress (in a browser, as the bytes go; elsewhere at
   * the start and the end). The storage holds it to the declared type and exact size.
   */
  upload(slot: UploadSlot, file: Blob, options: UploadOptions = {}): Promise<void> {
    return this.uploader(slot, file, { ...options, timeoutMs: this.timings.uploadTimeoutMs });
  }

  /**
   * A slot for the file, then the upload: resolves with the id to pass in `attachmentIds` of
   * `send()`. The name and type default to the File's own (`file.name`, `file.type`).
   */
  async attach(
    conversationId: string,
    file: Blob & { name?: string },
    options: UploadOptions & { fileName?: string; contentType?: string } = {},
  ): Promise<string> {
    const fileName = options.fileName ?? file.name;
    const contentType = options.contentType ?? file.type;
    if (!fileName || !contentType)
      throw new ChatError(
        'INVALID_PAYLOAD',
        'a file needs a name and a type (fileName, contentType)',
      );
    const slot = await this.requestUpload({
      conversationId,
      fileName,
      contentType,
      size: file.size,
    });
    await this.upload(slot, file, options);
    return slot.id;
  }

  /** A short-lived link to download a message's attachment. */
  attachmentLink(conversationId: string, attachmentId: string): Promise<AttachmentLink> {
    return this.api.attachmentLink(conversationId, attachmentId);
  }

  /** Sends a failed message again, with the same clientMessageId. */
  retry(clientMessageId: string): boolean {
    return this.outbox.retry(clientMessageId);
  }

  /** Gives up on a waiting or failed message. */
  discard(clientMessageId: string): boolean {
    return this.outbox.discard(clientMessageId);
  }

  /** Call on every keystroke in a composer: `typing:start` throttled, `typing:stop` after a pause. */
  typing(conversationId: string): void {
    this.typingState.keystroke(conversationId);
  }

  stopTyping(conversationId: string): void {
    this.typingState.stop(conversationId);
  }

  /**
   * Marks a conversation read up to `seq` (default: its newest message). The unread count
   * drops at once; the server is told as soon as connected (the furthest position wins).
   */
  markRead(conversationId: string, seq?: number): void {
    const c = this.byId.get(conversationId);
    if (!c) return;
    const target = seq ?? c.timeline.newest?.seq ?? 0;
    if (target <= Math.max(c.lastReadSeq, c.readWanted)) return;
    c.readWanted = target;
    this.touch(c.id);
    this.flushRead(c);
  }

  /** This user's receipts setting as last known: off, nobody's read or delivered is shown. */
  get receipts(): boolean {
    return this.receiptsShown;
  }

  /**
   * Mutes, pins, archives or marks unread a conversation for this user only (what is left out
   * stays). Pinned: at most 10 (CONFLICT past it). Other devices of the user follow live.
   */
  async organise(conversationId: string, change: OrganiseChange): Promise<OrganisationDto> {
    const organised = await this.connection.request(
      'conversation:organise',
      { conversationId, ...change },
      this.timings.requestTimeoutMs,
    );
    this.organised(organised);
    return this.byId.get(conversationId)?.organisation ?? organisationOf(organised);
  }

  /** Loads this user's settings from the server (they also arrive live when changed elsewhere). */
  async loadSettings(): Promise<{ receipts: boolean }> {
    const settings = await this.api.settings();
    this.settingsChanged(settings.receipts);
    return settings;
  }

  /**
   * Turns read and delivered receipts on or off, both ways: off, nobody sees this user's, and
   * this user sees nobody's. Other devices of the user follow.
   */
  async setReceipts(shown: boolean): Promise<void> {
    const settings = await this.api.settings({ receipts: shown });
    this.settingsChanged(settings.receipts);
  }

  /** The first page of the conversation list (most recent first), merged into the state. */
  async loadConversations(): Promise<readonly ConversationView[]> {
    const page = await this.api.listConversations({ limit: this.limits.conversationPageSize });
    this.listLoaded = true;
    this.listCursor = page.nextCursor;
    this.syncer.observeEpoch(page.epoch);
    this.took(page.conversations);
    return this.conversations();
  }

  /** The next page of the conversation list; false when there is none. */
  async loadMoreConversations(): Promise<boolean> {
    if (!this.listLoaded) {
      await this.loadConversations();
      return this.hasMoreConversations;
    }
    if (this.listCursor === undefined) return false;
    const page = await this.api.listConversations({
      limit: this.limits.conversationPageSize,
      cursor: this.listCursor,
    });
    this.listCursor = page.nextCursor;
    this.syncer.observeEpoch(page.epoch);
    this.took(page.conversations);
    return this.listCursor !== undefined;
  }

  /** The message requests box (first page), merged into the state: read it with `requests()`. */
  async loadRequests(): Promise<readonly ConversationView[]> {
    const page = await this.api.listConversations({
      limit: this.limits.conversationPageSize,
      box: 'requests',
    });
    this.requestsLoaded = true;
    this.syncer.observeEpoch(page.epoch);
    this.took(page.conversations);
    return this.requests();
  }

  /**
   * Accepts a request this user received (it joins `conversations()`, the two share presence),
   * or an invitation to a group (its history is fetched: nothing of it came before).
   */
  accept(conversationId: string): Promise<ConversationView> {
    return this.answer(conversationId, 'accept');
  }

  /** Declines a request (it leaves `requests()`, the opener can send no more) or an invitation. */
  decline(conversationId: string): Promise<ConversationView> {
    return this.answer(conversationId, 'decline');
  }

  private async answer(id: string, answer: 'accept' | 'decline'): Promise<ConversationView> {
    const dto = await this.api.answerRequest(id, answer);
    this.upsert(dto);
    this.changed({ kind: 'list' });
    if (answer === 'accept') this.queryPresence(dto.members.map((m) => m.userId));
    // A group's invitee received nothing of it until now: its history comes by sync.
    if (answer === 'accept' && dto.kind === 'group') this.sync([dto.id]);
    return this.view(this.byId.get(dto.id)!);
  }

  /**
   * Leaves a group: nothing of it reaches this user afterwards, and it leaves this client. The
   * last owner hands it over with `handOverTo` (a member who joined), or it is archived.
   */
  async leave(conversationId: string, options: { handOverTo?: string } = {}): Promise<void> {
    await this.api.leave(conversationId, options);
    this.removeConversation(
      conversationId,
      new ChatError('NOT_A_MEMBER', `left conversation ${conversationId}`),
    );
  }

  /**
   * Edits an own message (within the server's edit window): resolves with it as stored, and
   * every device, this one included, shows the new text (`message:updated`).
   */
  async edit(conversationId: string, messageId: string, body: string): Promise<MessageDto> {
    const message = await this.api.revise(conversationId, messageId, body);
    this.take(message, 'ack');
    return message;
  }

  /**
   * Puts this user's reaction on (`on: true`) or off a message; repeating is harmless. Every
   * member's devices get the new counts; this one shows them at once, with `mine`.
   */
  async react(
    conversationId: string,
    messageId: string,
    emoji: string,
    on: boolean,
  ): Promise<MessageDto> {
    const message = await this.connection.request(
      'message:react',
      { conversationId, messageId, emoji, on },
      this.timings.requestTimeoutMs,
    );
    if (!isMessage(message)) throw new ChatError('PROTOCOL', 'unreadable reaction answer');
    this.take(message, 'ack');
    return message;
  }

  /**
   * The message `message` quotes, as this client knows it now: the held message when there is
   * one (an edit or a deletion seen since shows), else the preview the server sent with it.
   */
  quoted(message: MessageDto): MessageDto['replyTo'] {
    const quote = message.replyTo;
    if (!quote) return undefined;
    const held = this.byId
      .get(message.conversationId)
      ?.timeline.messages.find((m) => m.id === quote.id);
    if (!held || held.hidden) return quote;
    return {
      id: held.id,
      seq: held.seq,
      senderId: held.senderId,
      body: held.body.slice(0, LIMITS.previewLength),
      ...(held.deletedAt && { deleted: true as const }),
    };
  }

  /** Deletes an own message: a tombstone (empty body, `deletedAt`) keeps its place everywhere. */
  async delete(conversationId: string, messageId: string): Promise<MessageDto> {
    const message = await this.api.revise(conversationId, messageId);
    this.take(message, 'ack');
    return message;
  }

  /**
   * Answers an action message (one of its `action.actions`, not a link): resolves with the
   * message as answered, which every device shows (`message:updated`). Refused with
   * ALREADY_ANSWERED when another answer won, ACTION_EXPIRED after its expiry.
   */
  async answerAction(
    conversationId: string,
    messageId: string,
    actionId: string,
  ): Promise<MessageDto> {
    const message = await this.api.answerAction(conversationId, messageId, actionId);
    this.take(message, 'ack');
    return message;
  }

  /**
   * Schedules a message to go at `sendAt` (the server sends it then, once, deciding then
   * whether it may); with `followUp`, only if nobody else has written by then.
   */
  schedule(input: ScheduleInput): Promise<ScheduledSendDto> {
    return this.api.schedule(input);
  }

  /** This user's scheduled sends: waiting ones by time, then finished ones. */
  listScheduled(): Promise<ScheduledSendDto[]> {
    return this.api.listScheduled();
  }

  /** Changes a scheduled send's text or time until it goes. */
  editScheduled(id: string, patch: { body?: string; sendAt?: string }): Promise<ScheduledSendDto> {
    return this.api.reviseScheduled(id, patch);
  }

  cancelScheduled(id: string): Promise<ScheduledSendDto> {
    return this.api.reviseScheduled(id);
  }

  /** Nothing goes between the two any more, either way, until `unblock`. */
  async block(userId: string): Promise<void> {
    await this.api.setBlocked(userId, true);
    this.presenceById.delete(userId);
    this.changed({ kind: 'presence', userId });
  }

  async unblock(userId: string): Promise<void> {
    await this.api.setBlocked(userId, false);
  }

  /** Whom this user blocks, newest first (paged by `cursor`). */
  blockedUsers(query: { limit?: number; cursor?: string } = {}): Promise<BlockedUsersPage> {
    return this.api.blockedUsers(query);
  }

  /**
   * Finds messages of this user's conversations (or of `conversationId`) holding every word of
   * `q`, newest first, each with its conversation and the matched words' ranges in its body.
   */
  search(query: SearchInput): Promise<SearchPage> {
    return this.api.search(query);
  }

  /** Reports a message or a direct conversation to the moderators; the other side is told nothing. */
  report(input: ReportInput): Promise<ReportReceipt> {
    return this.api.report(input);
  }

  private took(page: readonly ConversationDto[]): void {
    for (const dto of page) this.upsert(dto);
    this.changed({ kind: 'list' });
    this.queryPresence(page.flatMap((dto) => dto.members.map((m) => m.userId)));
  }

  /** Makes sure a conversation's details and newest messages are held; for opening it. */
  async open(conversationId: string): Promise<ConversationView> {
    let c = this.byId.get(conversationId);
    if (!c?.dto) {
      this.upsert(await this.api.getConversation(conversationId));
      c = this.byId.get(conversationId);
    }
    if (!c) throw new ChatError('NOT_FOUND', 'conversation not held');
    if (!c.historyLoaded) await this.history(c, undefined);
    return this.view(c);
  }

  /** Pages older messages in; resolves with whether even older ones exist. */
  async loadOlder(conversationId: string): Promise<boolean> {
    const c = this.byId.get(conversationId);
    if (!c) return false;
    if (!c.historyLoaded) await this.history(c, undefined);
    else if (!c.timeline.complete) await this.history(c, c.timeline.floor);
    return !c.timeline.complete;
  }

  /** Opens (or finds) a direct conversation with one other person, for a job context. */
  async openDirect(input: OpenDirectInput): Promise<ConversationView> {
    const dto = await this.api.openDirect(input);
    this.upsert(dto);
    this.queryPresence(dto.members.map((m) => m.userId));
    return this.open(dto.id);
  }

  async createGroup(input: CreateGroupInput): Promise<ConversationView> {
    const dto = await this.api.createGroup(input);
    this.upsert(dto);
    this.queryPresence(dto.members.map((m) => m.userId));
    return this.open(dto.id);
  }

  /** Asks the server what changed in every held conversation (also done by itself). */
  sync(conversationIds?: Iterable<string>): void {
    this.syncer.request(conversationIds ?? this.byId.keys());
  }

  /** True while a gap waits, or a sync is pending or on the wire: "caught up" is `!syncing`. */
  get syncing(): boolean {
    if (this.syncer.busy) return true;
    for (const c of this.byId.values()) if (c.gap.active) return true;
    return false;
  }

  // ----- connection events -----------------------------------------------------------------

  private connected(): void {
    this.outbox.setOnline(true);
    this.syncer.request(this.byId.keys());
    this.syncer.setOnline(true);
    for (const c of this.byId.values()) this.flushRead(c);
    this.delivery.flush();
    // Conversations opened (and requests sent) while away never reached this device live.
    if (this.listLoaded)
      this.loadConversations().catch((error: unknown) =>
        this.reportError(toChatError(error), 'the conversation list could not be refreshed'),
      );
    if (this.requestsLoaded)
      this.loadRequests().catch((error: unknown) =>
        this.reportError(toChatError(error), 'the message requests could not be refreshed'),
      );
    this.queryPresence(this.memberIds());
  }

  private disconnected(): void {
    this.outbox.setOnline(false);
    this.syncer.setOnline(false);
    this.typingState.clear();
  }

  private receive(name: string, payload: unknown): void {
    const receivedAt = this.clock.now();
    this.events.emit('event', { name, payload, receivedAt });
    try {
      this.dispatch(name, payload);
    } catch (error) {
      this.reportError(toChatError(error), `handling ${name} failed`);
    }
  }

  private dispatch(name: string, payload: unknown): void {
    switch (name) {
      case 'message:new':
      case 'message:updated':
        if (!isMessage(payload)) return this.garbage(name);
        return this.take(payload, 'live');
      case 'message:reacted':
        return this.reacted(payload);
      case 'mention:new': {
        if (
          !isObject(payload) ||
          !isId(payload['conversationId']) ||
          !isId(payload['messageId']) ||
          !isCount(payload['seq']) ||
          !isId(payload['senderId'])
        )
          return this.garbage(name);
        this.events.emit('mention', {
          conversationId: payload['conversationId'],
          messageId: payload['messageId'],
          seq: payload['seq'],
          senderId: payload['senderId'],
        });
        return;
      }
      case 'conversation:created':
        if (!isConversation(payload)) return this.garbage(name);
        this.upsert(payload);
        this.changed({ kind: 'list' });
        this.queryPresence(payload.members.map((m) => m.userId));
        return;
      case 'conversation:updated':
        if (!isConversationUpdate(payload)) return this.garbage(name);
        return this.updated(payload);
      case 'conversation:read':
        if (!isReadEvent(payload)) return this.garbage(name);
        return this.readEvent(payload);
      case 'conversation:delivered': {
        if (!isDeliveredEvent(payload)) return this.garbage(name);
        const c = this.byId.get(payload.conversationId);
        if (!c || payload.userId === this.userId) return;
        if (payload.lastDeliveredSeq <= (c.deliveredBy.get(payload.userId) ?? 0)) return;
        c.deliveredBy.set(payload.userId, payload.lastDeliveredSeq);
        this.touch(c.id);
        this.events.emit('delivered', payload);
        return;
      }
      case 'conversation:organised':
        if (!isOrganisedEvent(payload)) return this.garbage(name);
        return this.organised(payload);
      case 'settings:updated':
        if (!isSettings(payload)) return this.garbage(name);
        return this.settingsChanged(payload.receipts);
      case 'typing': {
        if (!isTypingEvent(payload)) return this.garbage(name);
        const c = this.byId.get(payload.conversationId);
        if (!c || payload.userId === this.userId) return;
        if (c.dto && !c.dto.members.some((m) => m.userId === payload.userId)) return;
        this.typingState.received(c.id, payload.userId, payload.typing, payload.expiresInMs);
        return;
      }
      case 'presence':
        if (!isPresence(payload)) return this.garbage(name);
        if (!this.presenceById.has(payload.userId) && !this.isContact(payload.userId)) return;
        this.presenceById.set(payload.userId, payload);
        this.events.emit('presence', payload);
        this.changed({ kind: 'presence', userId: payload.userId });
        return;
      case 'sync:required':
        this.syncer.request(this.byId.keys());
        return;
      case 'server:draining': {
        const after =
          isObject(payload) && isCount(payload['reconnectAfterMs'])
            ? payload['reconnectAfterMs']
            : 0;
        this.connection.moveAway(Math.min(after, 60_000));
        return;
      }
      case 'auth:expiring':
        this.refreshToken();
        return;
      case 'chat:error': {
        const body = isObject(payload) ? payload['error'] : undefined;
        const event =
          isObject(payload) && typeof payload['event'] === 'string' ? payload['event'] : '?';
        this.reportError(
          isObject(body) && typeof body['code'] === 'string' && typeof body['message'] === 'string'
            ? ChatError.fromBody(body as never)
            : new ChatError('PROTOCOL', 'unreadable chat:error'),
          `the server refused ${event.slice(0, 64)}`,
        );
        return;
      }
      default:
        return; // An event of a newer server: seen by `event` listeners, ignored here.
    }
  }

  // ----- messages --------------------------------------------------------------------------

  /**
   * A reaction put on or off: the shared event carries counts without `mine`, so it is set here
   * from who reacted (this user on another device) and what this client held before.
   */
  private reacted(payload: unknown): void {
    if (
      !isObject(payload) ||
      !isMessage(payload['message']) ||
      !isId(payload['userId']) ||
      typeof payload['emoji'] !== 'string' ||
      typeof payload['on'] !== 'boolean'
    )
      return this.garbage('message:reacted');
    const { message, userId, emoji, on } = payload as {
      message: MessageDto;
      userId: string;
      emoji: string;
      on: boolean;
    };
    const held = this.byId
      .get(message.conversationId)
      ?.timeline.messages.find((m) => m.id === message.id);
    const mineBefore = new Set(held?.reactions?.filter((r) => r.mine).map((r) => r.emoji));
    const reactions = (message.reactions ?? []).map((r) => {
      const mine = userId === this.userId && r.emoji === emoji ? on : mineBefore.has(r.emoji);
      return { emoji: r.emoji, count: r.count, ...(mine && { mine: true as const }) };
    });
    const { reactions: _shared, ...rest } = message;
    this.take({ ...rest, ...(reactions.length > 0 && { reactions }) }, 'live');
    this.events.emit('reaction', {
      conversationId: message.conversationId,
      messageId: message.id,
      userId,
      emoji,
      on,
    });
  }

  /** A message from any source: cursor first (a gap asks for sync), then the timeline. */
  private take(message: MessageDto, source: MessageSource): void {
    const c = this.byId.get(message.conversationId);
    if (!c) return this.park(message);
    if (c.cursor.observe(message.version)) this.gapSeen(c);
    else c.gapRounds = 0;
    this.merge(c, [message], source);
  }

  /**
   * A gap: sync unless it fills by itself within the grace period (one timer per conversation);
   * a gap that outlives syncs is looked at less and less often (up to 16 s apart).
   */
  private gapSeen(c: Conversation): void {
    if (c.gap.active) return;
    const delay = Math.min(this.timings.gapGraceMs * 2 ** c.gapRounds, 16_000);
    c.gapRounds++;
    c.gap.set(delay, () => {
      if (c.cursor.hasGap && this.byId.get(c.id) === c) this.syncer.request([c.id]);
      else c.gapRounds = 0;
    });
  }

  private merge(
    c: Conversation,
    messages: readonly MessageDto[],
    source: MessageSource,
    historyHasMore?: boolean,
  ): void {
    const valid = messages.filter((m) => m.conversationId === c.id);
    const { added, updated } =
      historyHasMore === undefined
        ? c.timeline.merge(valid)
        : c.timeline.mergeHistory(valid, historyHasMore);
    if (added.length === 0 && updated.length === 0) return;
    for (const m of [...added, ...updated]) {
      if (m.seq > c.lastSeq) c.lastSeq = m.seq;
      if (m.createdAt > c.lastActivityAt) c.lastActivityAt = m.createdAt;
      if (m.senderId === this.userId) {
        // Own messages count as read; one held in the outbox was stored after all.
        if (m.seq > c.lastReadSeq) c.lastReadSeq = m.seq;
        const entry = this.outbox.resolve(m.clientMessageId);
        if (entry) this.events.emit('sent', { entry, message: m, duplicate: true });
      } else {
        if (source === 'live') this.typingState.messageFrom(c.id, m.senderId);
        // Sending counts as reading, for others as for this user: a reply says "seen" too.
        // Not for someone who turned receipts off (their member entry says so).
        const sender =
          m.kind !== 'system' &&
          c.dto?.members.some((x) => x.userId === m.senderId && x.receipts !== false);
        if (sender && m.seq > (c.readBy.get(m.senderId) ?? 0)) c.readBy.set(m.senderId, m.seq);
      }
    }
    this.touch(c.id);
    // This device holds them now: "delivered", acknowledged in the next batch.
    let newest = 0;
    for (const m of added) if (m.senderId !== this.userId && m.seq > newest) newest = m.seq;
    if (newest > 0) this.delivery.note(c.id, newest);
    for (const message of added) {
      // Reloaded after an epoch change: shown before as it is, or in an older state.
      const before = c.shownBefore?.get(message.id);
      if (before === undefined)
        this.events.emit('message', { conversationId: c.id, message, source });
      else if (message.version !== before)
        this.events.emit('message:updated', { conversationId: c.id, message, source });
    }
    for (const message of updated)
      this.events.emit('message:updated', { conversationId: c.id, message, source });
  }

  /**
   * The store's epoch changed (restored from a snapshot, or reset): the versions and messages
   * held describe a store that is gone. Every conversation starts over from version 0 and its
   * timeline is rebuilt from what the store answers, replacing what was shown, so nothing the
   * store no longer holds stays and nothing is shown twice.
   */
  private restart(epoch: string): void {
    for (const c of this.byId.values()) {
      c.shownBefore = new Map(c.timeline.messages.map((m) => [m.id, m.version]));
      c.timeline = new Timeline(this.limits.maxMessagesPerConversation, 1);
      c.cursor = new VersionCursor(0);
      c.gap.cancel();
      c.gapRounds = 0;
      c.lastSeq = 0;
      c.lastReadSeq = 0;
      c.readWanted = 0;
      c.readBy.clear();
      c.deliveredBy.clear();
      // The sync from the start carries the conversation's details as the store has them.
      c.metaVersion = -1;
      c.historyLoaded = false;
      this.touch(c.id);
    }
    this.delivery.reset();
    this.events.emit('restart', { epoch });
    this.syncer.request(this.byId.keys());
    this.changed({ kind: 'list' });
  }

  /**
   * A sync page. Its `version` is where the server vouches nothing older is still on its way
   * (it may lag behind the newest messages, which can have older neighbours in flight); the
   * messages it carries count as seen too, so the cursor moves on over them when they join up.
   */
  private applySyncPage(page: SyncConversationPage): void {
    const c = this.byId.get(page.conversationId);
    if (!c) return;
    const messages = (page.messages as unknown[]).filter(isMessage);
    if (messages.length < page.messages.length) this.garbage('sync');
    for (const m of messages) if (m.conversationId === c.id) c.cursor.observe(m.version);
    c.cursor.advanceTo(page.version);
    // The conversation itself changed after the cursor (title, members, archived).
    if (page.conversation !== undefined) {
      const details: unknown = page.conversation;
      if (isConversation(details) && details.id === c.id) this.details(c, details);
      else this.garbage('sync conversation');
    }
    this.merge(c, messages, 'sync');
    if (page.lastReadSeq > c.lastReadSeq) {
      c.lastReadSeq = page.lastReadSeq;
      this.touch(c.id);
    }
    // Others' positions move no version: every page carries those this user may see.
    for (const r of receiptsOf(page.receipts)) this.positions(c, r);
    // So does this user's own organisation (absent: nothing organised).
    this.organisationIs(c, organisationOf(page.organisation));
    if (page.hasMore) return;
    c.shownBefore = undefined;
    // Still a hole (a change in flight, or one the server does not vouch for yet): look again
    // later, less often each time it stays.
    if (c.cursor.hasGap) this.gapSeen(c);
    else c.gapRounds = 0;
  }

  /** A message of a conversation not held: hold it briefly, fetch the conversation. */
  private park(message: MessageDto): void {
    const waiting = this.unknown.get(message.conversationId);
    if (waiting) {
      if (waiting.length < 50) waiting.push(message);
      return;
    }
    if (this.unknown.size >= this.limits.maxUnknownConversations) return;
    this.unknown.set(message.conversationId, [message]);
    this.api.getConversation(message.conversationId).then(
      (dto) => {
        const parked = this.unknown.get(dto.id) ?? [];
        this.unknown.delete(message.conversationId);
        if (dto.id !== message.conversationId) return;
        // Everything from just before the first message seen on: sync fills what is between.
        const first = parked.reduce((a, b) => (b.version < a.version ? b : a), message);
        this.upsert(dto, { version: Math.max(0, first.version - 1), floor: first.seq });
        const c = this.byId.get(dto.id);
        if (!c) return;
        for (const m of parked) c.cursor.observe(m.version);
        this.merge(c, parked, 'live');
        this.syncer.request([c.id]);
        this.changed({ kind: 'list' });
        this.queryPresence(dto.members.map((m) => m.userId));
      },
      (error: unknown) => {
        this.unknown.delete(message.conversationId);
        const e = toChatError(error);
        if (e.code !== 'NOT_A_MEMBER' && e.code !== 'NOT_FOUND')
          this.reportError(e, 'a new conversation could not be loaded');
      },
    );
  }

  private deliver(entry: OutboxEntry): Promise<SendResult> {
    return this.connection
      .request(
        'message:send',
        {
          conversationId: entry.conversationId,
          clientMessageId: entry.clientMessageId,
          body: entry.body,
          ...(entry.attachmentIds && { attachmentIds: [...entry.attachmentIds] }),
          ...(entry.replyTo !== undefined && { replyTo: entry.replyTo }),
          ...(entry.mentions && { mentions: [...entry.mentions] }),
        },
        this.timings.requestTimeoutMs,
      )
      .then((data: unknown) => {
        if (
          !isObject(data) ||
          !isMessage(data['message']) ||
          data['message'].clientMessageId !== entry.clientMessageId
        )
          throw new ChatError('PROTOCOL', 'unreadable answer to message:send');
        return { message: data['message'], duplicate: data['duplicate'] === true };
      });
  }

  private sent(entry: OutboxEntry, result: SendResult): void {
    this.take(result.message, 'ack');
    this.events.emit('sent', { entry, message: result.message, duplicate: result.duplicate });
  }

  private history(c: Conversation, before: number | undefined): Promise<void> {
    return (c.history ??= this.api
      .history(c.id, {
        limit: this.limits.historyPageSize,
        ...(before !== undefined && { before }),
      })
      .then((page) => {
        const holding = this.byId.get(c.id) === c;
        if (!holding) return;
        c.historyLoaded = true;
        this.merge(c, page.messages, 'history', page.hasMore);
        this.touch(c.id);
      })
      .finally(() => {
        c.history = undefined;
      }));
  }

  // ----- conversations ---------------------------------------------------------------------

  /**
   * Takes a conversation's details. A new one follows changes from the given version and
   * holds messages from the given seq (by default its own: what came before is history); a
   * held one that is behind syncs.
   */
  private upsert(
    dto: ConversationDto,
    start: { version: number; floor: number } = { version: dto.version, floor: dto.lastSeq + 1 },
  ): void {
    let c = this.byId.get(dto.id);
    if (!c) {
      this.makeRoom();
      c = {
        id: dto.id,
        dto,
        timeline: new Timeline(this.limits.maxMessagesPerConversation, start.floor),
        cursor: new VersionCursor(start.version),
        lastSeq: 0,
        lastActivityAt: dto.lastActivityAt,
        lastReadSeq: 0,
        readWanted: 0,
        readInFlight: false,
        readBy: new Map(),
        deliveredBy: new Map(),
        organisation: NOT_ORGANISED,
        gap: new Timer(this.clock),
        gapRounds: 0,
        historyLoaded: false,
        history: undefined,
        view: undefined,
        metaVersion: -1,
        shownBefore: undefined,
      };
      this.byId.set(dto.id, c);
    } else if (dto.version > c.cursor.value) {
      this.syncer.request([c.id], dto.version);
    }
    this.details(c, dto);
  }

  /**
   * Takes a conversation's details unless newer ones are held (a list page that was on its way
   * while a title or member change arrived live must not undo it).
   */
  private details(c: Conversation, dto: ConversationDto): void {
    if (dto.version >= c.metaVersion) {
      c.dto = dto;
      c.metaVersion = dto.version;
      this.contacts = undefined;
    }
    if (dto.lastSeq > c.lastSeq) c.lastSeq = dto.lastSeq;
    if (dto.lastActivityAt > c.lastActivityAt) c.lastActivityAt = dto.lastActivityAt;
    c.organisation = organisationOf(dto.organisation);
    for (const m of dto.members) {
      const read = m.lastReadSeq ?? 0;
      if (m.userId === this.userId) {
        if (read > c.lastReadSeq) c.lastReadSeq = read;
      } else
        this.positions(c, {
          userId: m.userId,
          lastReadSeq: read,
          lastDeliveredSeq: m.lastDeliveredSeq ?? 0,
        });
    }
    this.touch(c.id);
  }

  /**
   * A request answered, a block set or lifted, or (with a `version`) a change of the
   * conversation itself: title, archived, members. A device whose user left `memberIds` drops
   * the conversation; people who joined are shown, and their presence asked for.
   */
  private updated(update: ConversationUpdate): void {
    const c = this.byId.get(update.conversationId);
    if (!c?.dto) return;
    if (update.memberIds && !update.memberIds.includes(this.userId))
      return this.removeConversation(
        c.id,
        new ChatError('NOT_A_MEMBER', 'this user is no longer a member of the conversation'),
      );
    const { request: before, ...rest } = c.dto;
    let next: ConversationDto = {
      ...rest,
      blocked: update.blocked,
      ...(update.request && { request: update.request }),
    };
    const joined: string[] = [];
    if (update.version !== undefined) {
      // A change of the conversation moves its version like a message does.
      if (c.cursor.observe(update.version)) this.gapSeen(c);
      if (update.version >= c.metaVersion) {
        c.metaVersion = update.version;
        const { title: _title, archived: _archived, ...base } = next;
        next = {
          ...base,
          ...(update.title !== undefined && { title: update.title }),
          ...(update.archived !== undefined && { archived: update.archived }),
        };
        if (update.memberIds) {
          const now = new Date(this.clock.now()).toISOString();
          const stay = new Set(update.memberIds);
          const members = next.members.filter((m) => stay.has(m.userId));
          const held = new Set(members.map((m) => m.userId));
          for (const userId of stay)
            if (!held.has(userId)) {
              members.push({ userId, role: 'member', joinedAt: now, lastReadSeq: 0 });
              joined.push(userId);
            }
          for (const userId of [...c.readBy.keys()]) if (!stay.has(userId)) c.readBy.delete(userId);
          for (const userId of this.typingState.typers(c.id))
            if (!stay.has(userId)) this.typingState.received(c.id, userId, false);
          next = { ...next, members };
          this.contacts = undefined;
        }
      }
    }
    c.dto = next;
    // Accepted: the two share presence from now on.
    if (before && !update.request) this.queryPresence(c.dto.members.map((m) => m.userId));
    else if (joined.length > 0) this.queryPresence(joined);
    // Across a block nobody is shown typing.
    if (update.blocked)
      for (const userId of this.typingState.typers(c.id))
        this.typingState.received(c.id, userId, false);
    this.touch(c.id);
    this.changed({ kind: 'list' });
  }

  private removeConversation(conversationId: string, error: ChatError): void {
    const c = this.byId.get(conversationId);
    if (!c) return;
    c.gap.cancel();
    this.byId.delete(conversationId);
    this.delivery.forget(conversationId);
    this.contacts = undefined;
    this.outbox.failConversation(conversationId, error);
    this.sortedViews = undefined;
    this.events.emit('conversation:removed', { conversationId, error });
    this.changed({ kind: 'list' });
  }

  /** At the cap, the least recently active conversation with nothing to send is let go. */
  private makeRoom(): void {
    if (this.byId.size < this.limits.maxConversations) return;
    let victim: Conversation | undefined;
    for (const c of this.byId.values()) {
      if (this.outbox.list(c.id).length > 0) continue;
      if (!victim || c.lastActivityAt < victim.lastActivityAt) victim = c;
    }
    if (victim) {
      victim.gap.cancel();
      this.byId.delete(victim.id);
      this.contacts = undefined;
    }
  }

  private readEvent(event: ReadEvent): void {
    const c = this.byId.get(event.conversationId);
    if (!c) return;
    if (event.userId === this.userId) {
      if (event.lastReadSeq <= c.lastReadSeq) return;
      c.lastReadSeq = event.lastReadSeq;
    } else {
      if (event.lastReadSeq <= (c.readBy.get(event.userId) ?? 0)) return;
      if (c.dto && !c.dto.members.some((m) => m.userId === event.userId)) return;
      c.readBy.set(event.userId, event.lastReadSeq);
    }
    this.touch(c.id);
    this.events.emit('read', event);
  }

  /** Another member's positions as told (forward only); touches the view when one moved. */
  private positions(
    c: Conversation,
    r: { userId: string; lastReadSeq: number; lastDeliveredSeq: number },
  ): void {
    if (r.userId === this.userId) return;
    let moved = false;
    if (r.lastReadSeq > (c.readBy.get(r.userId) ?? 0)) {
      c.readBy.set(r.userId, r.lastReadSeq);
      moved = true;
    }
    if (r.lastDeliveredSeq > (c.deliveredBy.get(r.userId) ?? 0)) {
      c.deliveredBy.set(r.userId, r.lastDeliveredSeq);
      moved = true;
    }
    if (moved) this.touch(c.id);
  }

  /** This user organised a conversation (here or on another device). */
  private organised(event: OrganisedDto): void {
    const c = this.byId.get(event.conversationId);
    if (c) this.organisationIs(c, organisationOf(event));
    this.events.emit('organised', event);
  }

  private organisationIs(c: Conversation, organisation: OrganisationDto): void {
    const was = c.organisation;
    if (
      (Object.keys(organisation) as (keyof OrganisationDto)[]).every(
        (k) => was[k] === organisation[k],
      )
    )
      return;
    c.organisation = organisation;
    this.touch(c.id);
    this.changed({ kind: 'list' });
  }

  /** This user's receipts setting changed: others' positions are shown or not, everywhere. */
  private settingsChanged(receipts: boolean): void {
    if (receipts !== this.receiptsShown) {
      this.receiptsShown = receipts;
      for (const c of this.byId.values()) {
        // What was seen before the switch is stale either way: the next sync tells it anew.
        c.readBy.clear();
        c.deliveredBy.clear();
        this.touch(c.id);
      }
      if (receipts) this.syncer.request(this.byId.keys());
    }
    this.events.emit('settings', { receipts });
  }

  private flushRead(c: Conversation): void {
    if (!this.connection.connected || c.readInFlight || c.readWanted <= c.lastReadSeq) return;
    const seq = c.readWanted;
    c.readInFlight = true;
    this.connection
      .request('conversation:read', { conversationId: c.id, seq }, this.timings.requestTimeoutMs)
      .then(
        (data: unknown) => {
          if (isObject(data) && isCount(data['lastReadSeq']) && data['lastReadSeq'] > c.lastReadSeq)
            c.lastReadSeq = data['lastReadSeq'];
        },
        (error: unknown) => {
          const e = toChatError(error);
          // A final refusal drops the wish; a transient one is tried again on reconnect.
          if (!isRetryable(e.code)) c.readWanted = c.lastReadSeq;
        },
      )
      .finally(() => {
        c.readInFlight = false;
        this.touch(c.id);
        if (c.readWanted > seq) this.flushRead(c);
      })
      .catch((error: unknown) => this.reportError(toChatError(error)));
  }

  private refreshToken(): void {
    if (this.refreshing) return;
    this.refreshing = true;
    this.connection
      .token(true)
      .then((token) =>
        this.connection.request('auth:refresh', { token }, this.timings.requestTimeoutMs),
      )
      .catch((error: unknown) =>
        this.reportError(toChatError(error, 'TOKEN'), 'the access token could not be refreshed'),
      )
      .finally(() => {
        this.refreshing = false;
      })
      .catch(() => undefined);
  }

  private queryPresence(userIds: Iterable<string>): void {
    if (!this.connection.connected) return;
    const wanted = [...new Set(userIds)]
      .filter((id) => id !== this.userId)
      .slice(0, this.limits.maxPresenceUsers);
    for (let i = 0; i < wanted.length; i += LIMITS.maxPresenceQuery) {
      const userIds = wanted.slice(i, i + LIMITS.maxPresenceQuery);
      this.connection
        .request('presence:query', { userIds }, this.timings.requestTimeoutMs)
        .then((data: unknown) => {
          const users =
            isObject(data) && Array.isArray(data['users']) ? (data['users'] as unknown[]) : [];
          for (const user of users.filter(isPresence)) {
            if (!userIds.includes(user.userId)) continue;
            this.presenceById.set(user.userId, user);
            this.events.emit('presence', user);
            this.changed({ kind: 'presence', userId: user.userId });
          }
        })
        .catch((error: unknown) => {
          const e = toChatError(error);
          if (e.code !== 'DISCONNECTED') this.reportError(e, 'presence could not be loaded');
        });
    }
  }

  private memberIds(): Set<string> {
    return (this.contacts ??= new Set(
      [...this.byId.values()].flatMap((c) => c.dto?.members.map((m) => m.userId) ?? []),
    ));
  }

  private isContact(userId: string): boolean {
    return userId !== this.userId && this.memberIds().has(userId);
  }

  // ----- views -----------------------------------------------------------------------------

  private view(c: Conversation): ConversationView {
    return (c.view ??= buildView(
      c,
      this.userId,
      this.outbox.list(c.id),
      this.typingState.typers(c.id),
      this.receiptsShown,
    ));
  }

  /** Something about `conversationId` changed: its view is rebuilt on the next read. */
  private touch(conversationId: string): void {
    const c = this.byId.get(conversationId);
    if (c) c.view = undefined;
    this.sortedViews = undefined;
    this.changed({ kind: 'conversation', conversationId });
  }

  private changed(change: ChatChange): void {
    if (change.kind === 'list') this.sortedViews = undefined;
    this.events.emit('change', change);
  }

  private garbage(what: string): void {
    this.reportError(new ChatError('PROTOCOL', `ignored an unreadable ${what} from the server`));
  }

  private reportError(error: ChatError, context?: string): void {
    const reported = context
      ? new ChatError(error.code, `${context}: ${error.message}`, {
          cause: error,
          ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
        })
      : error;
    // Reporting never fails the code that reports, and an error listener that throws is not
    // reported again (that would loop).
    if (this.reporting) return;
    this.reporting = true;
    try {
      this.events.emit('error', reported);
    } finally {
      this.reporting = false;
    }
  }
}

/** Creates a client; nothing happens on the network before `connect()`. */
export function createChatClient(options: ChatClientOptions): ChatClient {
  return new ChatClient(options);
}
