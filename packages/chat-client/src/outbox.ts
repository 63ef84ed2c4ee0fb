import { LIMITS, MENTION_LIMITS } from '@jobsphere/chat-domain';
import { backoffDelay, Timer, type BackoffOptions, type Clock, type Random } from './clock.js';
import { ChatError, isRetryable, toChatError, type ChatErrorCode } from './errors.js';
import { isCount, isId, isObject } from './guards.js';
import { CLIENT_MESSAGE_ID, randomId } from './ids.js';
import type { SendResult } from './protocol.js';
import type { StorageAdapter } from './storage.js';

/**
 * `queued`: waiting for its turn, a connection or a retry delay; `sending`: on the wire;
 * `failed`: the server refused it for good (see `error`); `retry()` queues it again.
 */
export type OutboxState = 'queued' | 'sending' | 'failed';

/** A message passed to `send()` and not yet acknowledged. Replaced, never mutated. */
export interface OutboxEntry {
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly body: string;
  /** Uploads sent with it (`attach()` gives their ids); claimed by the server with the message. */
  readonly attachmentIds?: readonly string[];
  /** The message of the same conversation this one replies to. */
  readonly replyTo?: string;
  /** Group members mentioned (user ids). */
  readonly mentions?: readonly string[];
  readonly createdAt: string;
  readonly state: OutboxState;
  readonly attempts: number;
  /** Why it failed, or (while queued) why the last attempt did not go through. */
  readonly error?: {
    readonly code: ChatErrorCode;
    readonly message: string;
    /** With CONTENT_REJECTED: why (show it to the sender). */
    readonly reason?: string;
  };
}

export interface OutboxOptions {
  storage: StorageAdapter | undefined;
  storageKey: string;
  /** At most this many messages wait at once; `add` beyond it throws OUTBOX_FULL. */
  cap: number;
  /** Sends on the wire at once (over all conversations; one per conversation keeps order). */
  maxInFlight: number;
  clock: Clock;
  random: Random;
  backoff: BackoffOptions;
  deliver(entry: OutboxEntry): Promise<SendResult>;
  onSent(entry: OutboxEntry, result: SendResult): void;
  onChange(entry: OutboxEntry, removed: boolean): void;
  onError(error: ChatError): void;
}

const STORAGE_VERSION = 1;

/**
 * The client half of "nothing lost, nothing doubled": every message is sent with one
 * clientMessageId for its whole life (the server stores it at most once), in order per
 * conversation (the next goes out once the one before is acked, so seqs follow send order),
 * and retried after a disconnect, a timeout, UNAVAILABLE or RATE_LIMITED until acked.
 * Messages the server refuses for good are kept as `failed` with the reason.
 */
export class Outbox {
  private entries: OutboxEntry[] = [];
  private online = false;
  private ready = false;
  private closed = false;
  private inFlight = 0;
  private pausedUntil = 0;
  private readonly notBefore = new Map<string, number>();
  /** Entries `resolve()` took out: an attempt of theirs still on the wire is not told again. */
  private readonly resolved = new WeakSet<OutboxEntry>();
  private readonly timer: Timer;
  private loading: Promise<void> | undefined;
  private persistQueued = false;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly options: OutboxOptions) {
    this.timer = new Timer(options.clock);
    if (!options.storage) this.ready = true;
  }

  get size(): number {
    return this.entries.length;
  }

  list(conversationId?: string): readonly OutboxEntry[] {
    return conversationId === undefined
      ? this.entries
      : this.entries.filter((e) => e.conversationId === conversationId);
  }

  get(clientMessageId: string): OutboxEntry | undefined {
    return this.entries.find((e) => e.clientMessageId === clientMessageId);
  }

  /** Reads what a previous session left (once); older entries keep their place in front. */
  load(): Promise<void> {
    return (this.loading ??= this.read().finally(() => {
      this.ready = true;
      this.pump();
    }));
  }

  add(
    conversationId: string,
    body: string,
    clientMessageId: string = randomId(),
    attachmentIds?: readonly string[],
    extras: { replyTo?: string; mentions?: readonly string[] } = {},
  ): OutboxEntry {
    if (this.closed) throw new ChatError('CLOSED', 'the client is closed');
    if (!isId(conversationId)) throw new ChatError('INVALID_PAYLOAD', 'invalid conversation id');
    if (body.trim().length === 0)
      throw new ChatError('INVALID_PAYLOAD', 'a message must not be blank');
    if (body.length > LIMITS.maxBodyLength)
      throw new ChatError(
        'INVALID_PAYLOAD',
        `a message has at most ${LIMITS.maxBodyLength} characters`,
      );
    if (!CLIENT_MESSAGE_ID.test(clientMessageId))
      throw new ChatError('INVALID_PAYLOAD', 'clientMessageId must match [A-Za-z0-9_-]{1,64}');
    const attachments = attachmentIds && attachmentIds.length > 0 ? [...attachmentIds] : undefined;
    if (attachments && !validAttachments(attachments))
      throw new ChatError(
        'INVALID_PAYLOAD',
        `at most ${LIMITS.maxAttachmentsPerMessage} attachment ids, each once`,
      );
    if (extras.replyTo !== undefined && !isId(extras.replyTo))
      throw new ChatError('INVALID_PAYLOAD', 'replyTo must be a message id');
    const mentions =
      extras.mentions && extras.mentions.length > 0 ? [...extras.mentions] : undefined;
    if (mentions && !validMentions(mentions))
      throw new ChatError('INVALID_PAYLOAD', `at most ${MAX_MENTIONS} mentioned user ids`);
    if (this.get(clientMessageId)) throw new ChatError('CONFLICT', 'clientMessageId in use');
    if (this.entries.length >= this.options.cap)
      throw new ChatError(
        'OUTBOX_FULL',
        `${this.options.cap} messages are waiting to be sent; wait for the connection`,
      );
    const entry: OutboxEntry = {
      clientMessageId,
      conversationId,
      body,
      ...(attachments && { attachmentIds: attachments }),
      ...(extras.replyTo !== undefined && { replyTo: extras.replyTo }),
      ...(mentions && { mentions }),
      createdAt: new Date(this.options.clock.now()).toISOString(),
      state: 'queued',
      attempts: 0,
    };
    this.entries = [...this.entries, entry];
    this.changed(entry, false);
    this.pump();
    return entry;
  }

  /** Queues a failed message again, with the same clientMessageId. */
  retry(clientMessageId: string): boolean {
    const entry = this.get(clientMessageId);
    if (!entry || entry.state !== 'failed') return false;
    this.notBefore.delete(clientMessageId);
    this.replace({ ...entry, state: 'queued' });
    this.pump();
    return true;
  }

  /** Gives up on a message (it may still have been stored if it was on the wire). */
  discard(clientMessageId: string): boolean {
    return this.remove(clientMessageId);
  }

  /**
   * Another copy (sync, live, history) shows the server stored it, whatever state it is in
   * (on the wire, waiting out a retry delay): gives back the entry it takes out (the caller
   * tells it is sent); an attempt still on the wire then ends without `onSent`.
   */
  resolve(clientMessageId: string): OutboxEntry | undefined {
    const entry = this.get(clientMessageId);
    if (!entry || !this.remove(clientMessageId)) return undefined;
    this.resolved.add(entry);
    return entry;
  }

  /** The conversation is gone for this user: what waits for it cannot be sent. */
  failConversation(conversationId: string, error: ChatError): void {
    for (const entry of this.entries) {
      if (entry.conversationId !== conversationId || entry.state === 'failed') continue;
      this.replace({
        ...entry,
        state: 'failed',
        error: { code: error.code, message: error.message },
      });
    }
  }

  setOnline(online: boolean): void {
    this.online = online;
    // A new connection is a new chance: no entry waits for its old retry delay.
    if (online) this.notBefore.clear();
    this.pump();
  }

  close(): void {
    this.closed = true;
    this.online = false;
    this.timer.cancel();
  }

  /** Resolves once every write so far reached the storage adapter. */
  flush(): Promise<void> {
    if (this.persistQueued) this.write();
    return this.writes;
  }

  private pump(): void {
    if (!this.online || !this.ready || this.closed) return;
    const now = this.options.clock.now();
    if (this.pausedUntil > now) {
      this.timer.set(this.pausedUntil - now, () => this.pump());
      return;
    }
    const blocked = new Set<string>();
    for (const e of this.entries) if (e.state === 'sending') blocked.add(e.conversationId);
    let wake = Number.POSITIVE_INFINITY;
    for (const entry of this.entries) {
      if (this.inFlight >= this.options.maxInFlight) break;
      if (entry.state !== 'queued' || blocked.has(entry.conversationId)) continue;
      // The first queued message of a conversation is its head; the rest wait behind it.
      blocked.add(entry.conversationId);
      const at = this.notBefore.get(entry.clientMessageId) ?? 0;
      if (at > now) wake = Math.min(wake, at);
      else this.start(entry);
    }
    if (wake !== Number.POSITIVE_INFINITY) this.timer.set(wake - now, () => this.pump());
  }

  private start(entry: OutboxEntry): void {
    const sending: OutboxEntry = { ...entry, state: 'sending', attempts: entry.attempts + 1 };
    this.replace(sending);
    this.inFlight++;
    let delivery: Promise<SendResult>;
    try {
      delivery = this.options.deliver(sending);
    } catch (error) {
      delivery = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    delivery
      .then(
        (result) => {
          // Seen stored before this answer came: told then. (One discarded on the wire and
          // stored after all is still shown and told.)
          if (this.resolved.has(sending)) return;
          this.remove(sending.clientMessageId);
          this.options.onSent(sending, result);
        },
        (error: unknown) => this.failed(sending.clientMessageId, toChatError(error)),
      )
      .finally(() => {
        this.inFlight--;
        this.pump();
      })
      .catch((error: unknown) => this.options.onError(toChatError(error)));
  }

  private failed(clientMessageId: string, error: ChatError): void {
    const entry = this.get(clientMessageId);
    if (!entry) return;
    const reason = {
      code: error.code,
      message: error.message,
      ...(error.reason !== undefined && { reason: error.reason }),
    };
    // Closing (a page going away) is not the server's verdict: it waits for the next session.
    if (error.code === 'CLOSED' || this.closed) {
      this.replace({ ...entry, state: 'queued' });
      return;
    }
    if (!isRetryable(error.code)) {
      this.replace({ ...entry, state: 'failed', error: reason });
      return;
    }
    const now = this.options.clock.now();
    if (error.code === 'RATE_LIMITED') {
      const wait = error.retryAfterMs ?? backoffDelay(0, this.options.backoff, this.options.random);
      // A little jitter on top, so devices of one user do not come back in the same instant.
      this.pausedUntil = Math.max(
        this.pausedUntil,
        now + wait + Math.round(this.options.random() * this.options.backoff.initialMs),
      );
    } else if (error.code === 'SLOW_MODE') {
      // Only this message waits: the conversation's slow mode, not the whole outbox.
      this.notBefore.set(
        clientMessageId,
        now + (error.retryAfterMs ?? backoffDelay(0, this.options.backoff, this.options.random)),
      );
    } else if (error.code !== 'DISCONNECTED') {
      this.notBefore.set(
        clientMessageId,
        now + backoffDelay(entry.attempts - 1, this.options.backoff, this.options.random),
      );
    }
    this.replace({ ...entry, state: 'queued', error: reason });
  }

  private replace(entry: OutboxEntry): void {
    const index = this.entries.findIndex((e) => e.clientMessageId === entry.clientMessageId);
    if (index < 0) return;
    this.entries = this.entries.map((e, i) => (i === index ? entry : e));
    this.changed(entry, false);
  }

  private remove(clientMessageId: string): boolean {
    const entry = this.get(clientMessageId);
    if (!entry) return false;
    this.entries = this.entries.filter((e) => e !== entry);
    this.notBefore.delete(clientMessageId);
    this.changed(entry, true);
    this.pump();
    return true;
  }

  private changed(entry: OutboxEntry, removed: boolean): void {
    this.options.onChange(entry, removed);
    this.persist();
  }

  /** One write per burst of changes (a microtask later), never two writes at once. */
  private persist(): void {
    if (!this.options.storage || this.persistQueued) return;
    this.persistQueued = true;
    queueMicrotask(() => this.write());
  }

  private write(): void {
    const storage = this.options.storage;
    if (!storage || !this.persistQueued) return;
    this.persistQueued = false;
    const key = this.options.storageKey;
    const snapshot =
      this.entries.length === 0
        ? undefined
        : JSON.stringify({
            v: STORAGE_VERSION,
            entries: this.entries.map((e) =>
              e.state === 'sending' ? { ...e, state: 'queued' } : e,
            ),
          });
    this.writes = this.writes
      .then(() =>
        snapshot === undefined ? storage.removeItem(key) : storage.setItem(key, snapshot),
      )
      .catch((error: unknown) =>
        this.options.onError(
          new ChatError('STORAGE', `the outbox could not be saved: ${String(error)}`, {
            cause: error,
          }),
        ),
      );
  }

  private async read(): Promise<void> {
    const storage = this.options.storage;
    if (!storage) return;
    let text: string | null;
    try {
      text = await storage.getItem(this.options.storageKey);
    } catch (error) {
      this.options.onError(
        new ChatError('STORAGE', `the outbox could not be read: ${String(error)}`, {
          cause: error,
        }),
      );
      return;
    }
    if (!text) return;
    const restored = parseStored(text).slice(0, this.options.cap);
    const known = new Set(this.entries.map((e) => e.clientMessageId));
    const older = restored.filter((e) => !known.has(e.clientMessageId));
    if (older.length === 0) return;
    const room = Math.max(0, this.options.cap - this.entries.length);
    this.entries = [...older.slice(0, room), ...this.entries];
    for (const e of older.slice(0, room)) this.options.onChange(e, false);
    this.persist();
  }
}

/** Whatever is in storage is input too: entries that do not look right are dropped. */
function parseStored(text: string): OutboxEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isObject(value) || value['v'] !== STORAGE_VERSION || !Array.isArray(value['entries']))
    return [];
  const seen = new Set<string>();
  const out: OutboxEntry[] = [];
  for (const raw of value['entries'] as unknown[]) {
    if (!isObject(raw)) continue;
    const { clientMessageId, conversationId, body, createdAt, state, attempts, error } = raw;
    const attachmentIds = raw['attachmentIds'];
    const { replyTo, mentions } = raw;
    if (
      (replyTo !== undefined && !isId(replyTo)) ||
      (mentions !== undefined && !validMentions(mentions))
    )
      continue;
    if (
      typeof clientMessageId !== 'string' ||
      !CLIENT_MESSAGE_ID.test(clientMessageId) ||
      seen.has(clientMessageId) ||
      !isId(conversationId) ||
      typeof body !== 'string' ||
      body.trim().length === 0 ||
      body.length > LIMITS.maxBodyLength ||
      typeof createdAt !== 'string' ||
      (state !== 'queued' && state !== 'failed') ||
      !isCount(attempts) ||
      (attachmentIds !== undefined && !validAttachments(attachmentIds))
    )
      continue;
    seen.add(clientMessageId);
    const reason =
      isObject(error) && typeof error['code'] === 'string' && typeof error['message'] === 'string'
        ? { code: error['code'] as ChatErrorCode, message: error['message'] }
        : undefined;
    out.push({
      clientMessageId,
      conversationId,
      body,
      ...(attachmentIds !== undefined && { attachmentIds }),
      ...(replyTo !== undefined && { replyTo }),
      ...(mentions !== undefined && { mentions }),
      createdAt,
      state,
      attempts,
      ...(reason && { error: reason }),
    });
  }
  return out;
}

function validAttachments(ids: unknown): ids is string[] {
  return (
    Array.isArray(ids) &&
    ids.length >= 1 &&
    ids.length <= LIMITS.maxAttachmentsPerMessage &&
    ids.every(isId) &&
    new Set(ids).size === ids.length
  );
}

const MAX_MENTIONS = MENTION_LIMITS.maxMentionsPerMessage;

function validMentions(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= MAX_MENTIONS && value.every((id) => isId(id));
}
