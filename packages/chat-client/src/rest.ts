import {
  isAttachmentLink,
  isUploadSlot,
  type AttachmentLink,
  type UploadSlot,
} from './attachments.js';
import type { Clock } from './clock.js';
import { ChatApiError, ChatError, toChatError } from './errors.js';
import { isConversation, isErrorBody, isMessage, isObject, isSettings } from './guards.js';
import type {
  BlockedUsersPage,
  ConversationDto,
  ConversationListPage,
  HistoryPage,
  MessageDto,
  ScheduledSendDto,
  ReportReceipt,
  SearchPage,
  SettingsDto,
} from './protocol.js';

/** `fetch` as the client calls it (the global one, or an injected one in tests). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export interface RestOptions {
  baseUrl: () => string;
  token: (forceRefresh: boolean) => Promise<string>;
  fetch: FetchLike;
  clock: Clock;
  timeoutMs: number;
}

export interface OpenDirectInput {
  userId: string;
  jobId?: string;
  applicationId?: string;
}

/** What a report is about: a message, or (without messageId) a direct conversation's other side. */
export interface ReportInput {
  conversationId: string;
  messageId?: string;
  reason: 'spam' | 'harassment' | 'scam' | 'inappropriate' | 'other';
  note?: string;
}

/** A search: words (all of them), optionally in one conversation, paged by `cursor`. */
export interface SearchInput {
  q: string;
  conversationId?: string;
  cursor?: string;
  limit?: number;
}

/** A file to be attached, declared before it is uploaded (the storage holds it to this). */
export interface UploadRequest {
  conversationId: string;
  fileName: string;
  contentType: string;
  /** Bytes: the upload must be exactly this size. */
  size: number;
}

export interface CreateGroupInput {
  title: string;
  memberIds: string[];
  jobId?: string;
  applicationId?: string;
}

/** The REST half of the contract: the conversation list, history, opening conversations. */
export class RestClient {
  constructor(private readonly options: RestOptions) {}

  async listConversations(
    query: { limit?: number; cursor?: string; box?: 'inbox' | 'requests' } = {},
  ): Promise<ConversationListPage> {
    const params = new URLSearchParams();
    if (query.box !== undefined) params.set('box', query.box);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor !== undefined) params.set('cursor', query.cursor);
    const body = await this.request('GET', `/conversations${queryString(params)}`);
    if (!isObject(body) || !Array.isArray(body['conversations']))
      throw protocol('GET /conversations');
    return {
      conversations: (body['conversations'] as unknown[]).filter(isConversation),
      ...(typeof body['nextCursor'] === 'string' && { nextCursor: body['nextCursor'] }),
      totalUnread: typeof body['totalUnread'] === 'number' ? body['totalUnread'] : 0,
      ...(typeof body['epoch'] === 'string' && { epoch: body['epoch'] }),
    };
  }

  async getConversation(id: string): Promise<ConversationDto> {
    return conversation(await this.request('GET', `/conversations/${encodeURIComponent(id)}`));
  }

  /** Opens (or finds: the same one for the same pair and job context) a direct conversation. */
  async openDirect(input: OpenDirectInput): Promise<ConversationDto> {
    return conversation(await this.request('POST', '/conversations', { kind: 'direct', ...input }));
  }

  async createGroup(input: CreateGroupInput): Promise<ConversationDto> {
    return conversation(await this.request('POST', '/conversations', { kind: 'group', ...input }));
  }

  /** A page of history, ascending: the newest page without a cursor. */
  async history(
    id: string,
    query: { before?: number; after?: number; limit?: number } = {},
  ): Promise<HistoryPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) params.set(key, String(value));
    const body = await this.request(
      'GET',
      `/conversations/${encodeURIComponent(id)}/messages${queryString(params)}`,
    );
    if (!isObject(body) || !Array.isArray(body['messages']) || typeof body['hasMore'] !== 'boolean')
      throw protocol('GET messages');
    return {
      messages: (body['messages'] as unknown[]).filter(isMessage),
      hasMore: body['hasMore'],
    };
  }

  async answerRequest(id: string, answer: 'accept' | 'decline'): Promise<ConversationDto> {
    return conversation(
      await this.request('POST', `/conversations/${encodeURIComponent(id)}/${answer}`),
    );
  }

  /** Leaves a group (the last owner hands it over with `handOverTo`, or it is archived). */
  async leave(id: string, options: { handOverTo?: string } = {}): Promise<void> {
    await this.request('POST', `/conversations/${encodeURIComponent(id)}/leave`, options);
  }

  /** Edits (with a body) or deletes (without) a message; answers it in its new state. */
  async revise(conversationId: string, messageId: string, body?: string): Promise<MessageDto> {
    const path = `/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}`;
    const answer =
      body === undefined
        ? await this.request('DELETE', path)
        : await this.request('PATCH', path, { body });
    if (!isMessage(answer)) throw protocol('message');
    return answer;
  }

  /** Answers an action message with one of its actions; answers the message as answered. */
  async answerAction(
    conversationId: string,
    messageId: string,
    actionId: string,
  ): Promise<MessageDto> {
    const path = `/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}/action`;
    const answer = await this.request('POST', path, { actionId });
    if (!isMessage(answer)) throw protocol('message');
    return answer;
  }

  /** Schedules a message (or a follow-up, `followUp: true`) to go at `sendAt`. */
  async schedule(input: ScheduleInput): Promise<ScheduledSendDto> {
    return scheduled(await this.request('POST', '/scheduled-messages', input));
  }

  async listScheduled(): Promise<ScheduledSendDto[]> {
    const answer = await this.request('GET', '/scheduled-messages');
    if (!isObject(answer) || !Array.isArray(answer['scheduled'])) throw protocol('scheduled list');
    return answer['scheduled'].map(scheduled);
  }

  /** New text or time (with a patch), or cancelled (without), until it goes. */
  async reviseScheduled(
    id: string,
    patch?: { body?: string; sendAt?: string },
  ): Promise<ScheduledSendDto> {
    const path = `/scheduled-messages/${encodeURIComponent(id)}`;
    return scheduled(
      patch ? await this.request('PATCH', path, patch) : await this.request('DELETE', path),
    );
  }

  async setBlocked(userId: string, blocked: boolean): Promise<void> {
    await this.request(blocked ? 'PUT' : 'DELETE', `/users/${encodeURIComponent(userId)}/block`);
  }

  async blockedUsers(query: { limit?: number; cursor?: string } = {}): Promise<BlockedUsersPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) params.set(key, String(value));
    const body = await this.request('GET', `/blocks${queryString(params)}`);
    if (!isObject(body) || !Array.isArray(body['users'])) throw protocol('GET /blocks');
    return body as unknown as BlockedUsersPage;
  }

  /** Messages of the caller's conversations holding every word of `q`, newest first. */
  async search(query: SearchInput): Promise<SearchPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) params.set(key, String(value));
    const body = await this.request('GET', `/search${queryString(params)}`);
    if (!isObject(body) || !Array.isArray(body['hits'])) throw protocol('GET /search');
    return body as unknown as SearchPage;
  }

  /** The caller's settings (`PATCH` with `update`). */
  async settings(update?: { receipts?: boolean }): Promise<SettingsDto> {
    const body = update
      ? await this.request('PATCH', '/me/settings', update)
      : await this.request('GET', '/me/settings');
    if (!isSettings(body)) throw protocol('/me/settings');
    return body;
  }

  async report(input: ReportInput): Promise<ReportReceipt> {
    const body = await this.request('POST', '/reports', input);
    if (!isObject(body) || typeof body['id'] !== 'string') throw protocol('POST /reports');
    return body as unknown as ReportReceipt;
  }

  /** An upload slot for one file of the caller, in a conversation it is a member of. */
  async requestUpload(input: UploadRequest): Promise<UploadSlot> {
    const body = await this.request('POST', '/attachments', input);
    if (!isUploadSlot(body)) throw protocol('upload slot');
    return body;
  }

  /** A short-lived download link of a message's attachment (members only). */
  async attachmentLink(conversationId: string, attachmentId: string): Promise<AttachmentLink> {
    const body = await this.request(
      'GET',
      `/conversations/${encodeURIComponent(conversationId)}/attachments/${encodeURIComponent(attachmentId)}`,
    );
    if (!isAttachmentLink(body)) throw protocol('attachment link');
    return body;
  }

  /** One call: a refused token is refreshed once; errors carry the server's stable code. */
  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.options.token(attempt > 0);
      try {
        return await this.once(method, path, token, body);
      } catch (error) {
        if (attempt === 0 && error instanceof ChatApiError && error.status === 401) continue;
        throw error;
      }
    }
  }

  private async once(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<unknown> {
    const url = this.options.baseUrl().replace(/\/+$/, '') + path;
    const controller = typeof AbortController === 'undefined' ? undefined : new AbortController();
    const { clock, timeoutMs } = this.options;
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller?.abort();
    }, timeoutMs);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Awaited<ReturnType<FetchLike>>;
    let text: string;
    try {
      response = await this.options.fetch(url, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
        ...(controller && { signal: controller.signal }),
      });
      text = await response.text();
    } catch (error) {
      if (timedOut)
        throw new ChatApiError('TIMEOUT', `${method} ${path}: no answer within ${timeoutMs} ms`, 0);
      throw new ChatApiError('NETWORK', `${method} ${path}: ${toChatError(error).message}`, 0, {
        cause: error,
      });
    } finally {
      clock.clearTimeout(timer);
    }
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok) return json;
    const error = isObject(json) && isErrorBody(json['error']) ? json['error'] : undefined;
    const retryAfter = Number(response.headers.get('retry-after'));
    const retryAfterMs =
      error?.retryAfterMs ??
      (Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
    throw new ChatApiError(
      error?.code ?? (response.status >= 500 ? 'UNAVAILABLE' : 'PROTOCOL'),
      error?.message ?? `${method} ${path}: HTTP ${response.status}`,
      response.status,
      {
        ...(retryAfterMs !== undefined && { retryAfterMs }),
        ...(error?.issues && { issues: error.issues }),
        ...(error?.reason !== undefined && { reason: error.reason }),
      },
    );
  }
}

function queryString(params: URLSearchParams): string {
  const text = params.toString();
  return text ? `?${text}` : '';
}

function conversation(body: unknown): ConversationDto {
  if (!isConversation(body)) throw protocol('conversation');
  return body;
}

/** What schedule() takes: `sendAt` as an ISO time, 5 s to 90 days ahead. */
export interface ScheduleInput {
  conversationId: string;
  body: string;
  sendAt: string;
  followUp?: boolean;
}

function scheduled(value: unknown): ScheduledSendDto {
  if (!isObject(value) || typeof value['id'] !== 'string' || typeof value['state'] !== 'string')
    throw protocol('scheduled send');
  return value as unknown as ScheduledSendDto;
}

function protocol(what: string): ChatError {
  return new ChatError('PROTOCOL', `unreadable answer: ${what}`);
}
