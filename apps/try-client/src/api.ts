import type { ConversationDto, ErrorBody, MessageDto, UserRole } from '@jobsphere/chat-domain';

/** A REST call the gateway refused: carries its `{ error: { code, message } }` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
  ) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = this.constructor.name;
  }
}

async function request<T>(path: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const response = await fetch(path, { ...init, headers });
  const text = await response.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok)
    throw new ApiError(response.status, (json as { error?: ErrorBody } | undefined)?.error);
  return json as T;
}

/** Development only: the gateway signs a token for any user id (`POST /dev/token`). */
export async function mintToken(userId: string, role: UserRole): Promise<string> {
  const { token } = await request<{ token: string }>('/dev/token', {
    method: 'POST',
    body: JSON.stringify({ userId, role }),
  });
  return token;
}

export interface ConversationList {
  conversations: ConversationDto[];
  nextCursor?: string;
  totalUnread: number;
}

/** The REST half of the contract; the socket carries everything live. */
export class ChatApi {
  constructor(private readonly token: () => string) {}

  listConversations(limit = 50): Promise<ConversationList> {
    return request(`/conversations?limit=${limit}`, { token: this.token() });
  }

  getConversation(id: string): Promise<ConversationDto> {
    return request(`/conversations/${encodeURIComponent(id)}`, { token: this.token() });
  }

  /** 201 when created, 200 when it already existed: the same body either way. */
  openDirect(userId: string): Promise<ConversationDto> {
    return request('/conversations', {
      method: 'POST',
      token: this.token(),
      body: JSON.stringify({ kind: 'direct', userId }),
    });
  }

  /** The newest page, ascending. */
  history(id: string, limit = 50): Promise<{ messages: MessageDto[]; hasMore: boolean }> {
    return request(`/conversations/${encodeURIComponent(id)}/messages?limit=${limit}`, {
      token: this.token(),
    });
  }
}
