import { LIMITS } from '@jobsphere/chat-domain';
import { backoffDelay, Timer, type BackoffOptions, type Clock, type Random } from './clock.js';
import { ChatError, isRetryable, toChatError } from './errors.js';
import { isErrorBody, isId, isObject, isSyncPage } from './guards.js';
import type { SyncConversationPage, SyncRequest, SyncResponse } from './protocol.js';

export interface SyncerOptions {
  clock: Clock;
  random: Random;
  backoff: BackoffOptions;
  /** Conversations per request (the server takes at most LIMITS.maxSyncConversations). */
  batchSize: number;
  /** Pages one conversation may take per connection: a server that never ends is cut off. */
  maxPages: number;
  request(payload: SyncRequest): Promise<SyncResponse>;
  /** The cursor to sync `conversationId` from; undefined when it is no longer held. */
  cursorOf(conversationId: string): number | undefined;
  /**
   * The store's epoch changed (restored or reset): every version held is void. Called before
   * the answer's pages (answered from the start) are applied.
   */
  restart(epoch: string): void;
  /** Applies a page (messages, cursor, read position). */
  apply(page: SyncConversationPage): void;
  /** The server says this user is not (or no longer) a member. */
  removed(conversationId: string, error: ChatError): void;
  onError(error: ChatError): void;
}

/**
 * Catches conversations up by version: many conversations per request, page after page while
 * `hasMore`; transient failures retry with backoff (after the server's retryAfterMs); a
 * conversation the user lost comes back as its own entry's NOT_A_MEMBER. Every request is one
 * at a time and every loop makes progress or stops.
 */
export class Syncer {
  /** Conversations to sync, each with the version it must reach (undefined: whatever is new). */
  private readonly dirty = new Map<string, number | undefined>();
  private readonly pages = new Map<string, number>();
  private readonly retry: Timer;
  /** The store epoch the cursors were read in; undefined until the first answer names one. */
  private epoch: string | undefined;
  private online = false;
  private running = false;
  private failures = 0;

  constructor(private readonly options: SyncerOptions) {
    this.retry = new Timer(options.clock);
  }

  /** True while something waits to be synced or a request is on the wire. */
  get busy(): boolean {
    return this.running || this.dirty.size > 0;
  }

  /**
   * Asks for a sync of these conversations; with `atLeast`, only while their cursor is below
   * it (a conversation list showing a newer version), so a sync already under way suffices.
   */
  request(conversationIds: Iterable<string>, atLeast?: number): void {
    for (const id of conversationIds) {
      const wanted = this.dirty.has(id) ? this.dirty.get(id) : atLeast;
      this.dirty.set(
        id,
        wanted === undefined || atLeast === undefined ? undefined : Math.max(wanted, atLeast),
      );
    }
    this.kick();
  }

  /**
   * The store epoch an answer named (a sync, or the conversation list whose versions the cursors
   * start from). Another one than held means the store was restored or reset: `restart`.
   */
  observeEpoch(epoch: unknown): void {
    if (typeof epoch !== 'string' || epoch.length === 0 || epoch.length > LIMITS.maxEpochLength)
      return;
    const previous = this.epoch;
    this.epoch = epoch;
    if (previous !== undefined && previous !== epoch) this.options.restart(epoch);
  }

  setOnline(online: boolean): void {
    this.online = online;
    if (online) {
      // A new connection: every conversation may page again, and no retry delay applies.
      this.pages.clear();
      this.failures = 0;
      this.retry.cancel();
      this.kick();
    }
  }

  stop(): void {
    this.online = false;
    this.retry.cancel();
    this.dirty.clear();
  }

  private kick(): void {
    if (!this.running && this.online && !this.retry.active) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.online) {
        const batch = this.next();
        if (!batch) break;
        if (!(await this.once(batch))) break;
      }
    } catch (error) {
      this.options.onError(toChatError(error));
    } finally {
      this.running = false;
    }
  }

  private next(): string[] | undefined {
    if (this.dirty.size === 0) return undefined;
    const batch: string[] = [];
    for (const [id, atLeast] of this.dirty) {
      this.dirty.delete(id);
      const cursor = this.options.cursorOf(id);
      if (cursor === undefined || (atLeast !== undefined && cursor >= atLeast)) continue;
      batch.push(id);
      if (batch.length >= Math.min(this.options.batchSize, LIMITS.maxSyncConversations)) break;
    }
    return batch.length > 0 ? batch : this.next();
  }

  /** One request; false when it failed in a way worth retrying later (the loop pauses). */
  private async once(ids: string[]): Promise<boolean> {
    const conversations: SyncRequest['conversations'] = [];
    for (const conversationId of ids) {
      const afterVersion = this.options.cursorOf(conversationId);
      if (afterVersion !== undefined) conversations.push({ conversationId, afterVersion });
    }
    if (conversations.length === 0) return true;
    let response: SyncResponse;
    try {
      response = await this.options.request({
        conversations,
        ...(this.epoch !== undefined && { epoch: this.epoch }),
      });
    } catch (error) {
      return this.failed(ids, toChatError(error));
    }
    this.failures = 0;
    const answered = new Set<string>();
    // Entries the answer had no room for (its message and byte caps were spent on the others):
    // `hasMore` without moving on. Asked again if the answer moved anything at all.
    const deferred: string[] = [];
    let progressed = false;
    const raw: unknown = response;
    // On a change the server answered this request from the start (it named the old epoch).
    this.observeEpoch(isObject(raw) ? raw['epoch'] : undefined);
    const pages: unknown[] =
      isObject(raw) && Array.isArray(raw['conversations']) ? raw['conversations'] : [];
    for (const page of pages) {
      const refused = refusal(page, ids);
      if (refused) {
        answered.add(refused.conversationId);
        progressed = true;
        if (refused.error.code === 'NOT_A_MEMBER' || refused.error.code === 'NOT_FOUND')
          this.options.removed(refused.conversationId, refused.error);
        else this.options.onError(refused.error);
        continue;
      }
      if (!isSyncPage(page) || answered.has(page.conversationId)) continue;
      const before = this.options.cursorOf(page.conversationId);
      if (before === undefined || !ids.includes(page.conversationId)) continue;
      answered.add(page.conversationId);
      this.options.apply(page);
      if (!page.hasMore) {
        progressed = true;
        this.pages.delete(page.conversationId);
        continue;
      }
      if (page.version <= before && page.messages.length === 0) {
        deferred.push(page.conversationId);
        continue;
      }
      progressed = true;
      const taken = (this.pages.get(page.conversationId) ?? 0) + 1;
      this.pages.set(page.conversationId, taken);
      if (page.version <= before) {
        this.options.onError(
          new ChatError('PROTOCOL', `sync of ${page.conversationId} made no progress`),
        );
      } else if (taken >= this.options.maxPages) {
        this.options.onError(
          new ChatError('PROTOCOL', `sync of ${page.conversationId} stopped after ${taken} pages`),
        );
      } else {
        // To the back of the line: one long backlog does not hold the others up.
        this.dirty.set(page.conversationId, undefined);
      }
    }
    if (deferred.length > 0) {
      if (progressed) for (const id of deferred) this.dirty.set(id, undefined);
      else
        this.options.onError(
          new ChatError('PROTOCOL', `sync answered ${deferred.length} conversations with nothing`),
        );
    }
    if (answered.size < conversations.length)
      this.options.onError(new ChatError('PROTOCOL', 'sync answer left conversations out'));
    return true;
  }

  private failed(ids: string[], error: ChatError): boolean {
    // A lost conversation is answered in its own entry (see refusal); the whole request refused
    // so is a single conversation's answer.
    if ((error.code === 'NOT_A_MEMBER' || error.code === 'NOT_FOUND') && ids.length === 1) {
      this.options.removed(ids[0]!, error);
      return true;
    }
    if (!isRetryable(error.code)) {
      this.options.onError(error);
      return true;
    }
    for (const id of ids) this.dirty.set(id, undefined);
    if (error.code === 'DISCONNECTED') return false; // the next connection syncs everything
    const wait =
      error.code === 'RATE_LIMITED' && error.retryAfterMs !== undefined
        ? error.retryAfterMs
        : backoffDelay(this.failures++, this.options.backoff, this.options.random);
    this.options.onError(
      new ChatError(error.code, `sync failed (${error.message}); trying again in ${wait} ms`, {
        cause: error,
      }),
    );
    this.retry.set(wait, () => this.kick());
    return false;
  }
}

/** An entry the server answered with an error of its own (the others in the batch went on). */
function refusal(
  page: unknown,
  ids: readonly string[],
): { conversationId: string; error: ChatError } | undefined {
  if (!isObject(page) || !isId(page['conversationId']) || !isErrorBody(page['error']))
    return undefined;
  if (!ids.includes(page['conversationId'])) return undefined;
  return { conversationId: page['conversationId'], error: ChatError.fromBody(page['error']) };
}
