import type { Uploader } from './attachments.js';
import type { BackoffOptions, Clock, Random } from './clock.js';
import type { TokenProvider } from './connection.js';
import type { FetchLike } from './rest.js';
import type { StorageAdapter } from './storage.js';
import type { SocketFactory, SocketOptions } from './transport.js';

/** Every bound the client keeps, so no input (a flood, a huge backlog) grows it without end. */
export interface ChatClientLimits {
  /** Messages waiting to be sent; `send()` beyond it throws OUTBOX_FULL. */
  maxOutbox: number;
  /** Sends on the wire at once, over all conversations (one per conversation). */
  maxInFlightSends: number;
  /** Messages held per conversation; the oldest go first (history pages them back). */
  maxMessagesPerConversation: number;
  /** Conversations held; the least recently active without pending messages go first. */
  maxConversations: number;
  /** `sync` pages one conversation may take per connection. */
  maxSyncPages: number;
  /** Users whose presence is queried and kept. */
  maxPresenceUsers: number;
  /** Conversations heard of only through an event, waiting for their details. */
  maxUnknownConversations: number;
  historyPageSize: number;
  conversationPageSize: number;
}

export interface ChatClientTimings {
  /** Deadline of every socket request (send, sync, read, presence, refresh). */
  requestTimeoutMs: number;
  /** Deadline of one connection attempt, token included. */
  connectTimeoutMs: number;
  restTimeoutMs: number;
  /** Deadline of one file upload. */
  uploadTimeoutMs: number;
  /** Retry delays: reconnects, sends and syncs after transient failures. */
  backoff: BackoffOptions;
  /** How long an instance that said it drains is skipped, when there is another URL. */
  avoidDrainingMs: number;
  /** A connection that lasted this long resets the reconnect backoff. */
  stableAfterMs: number;
  typingRefreshMs: number;
  typingIdleMs: number;
  typingExpiryMs: number;
  /**
   * A gap seen live is given this long to fill by itself before `sync` is asked: events from
   * different instances overtake each other, and most gaps close on their own.
   */
  gapGraceMs: number;
  /**
   * "Delivered" acknowledgements gather this long and go out as one batch: at most one per
   * window, whatever the number of messages and conversations.
   */
  deliveredDebounceMs: number;
}

export interface ChatClientOptions {
  /** The gateway (http or https), or several instances in order of preference. */
  url: string | readonly string[];
  /**
   * The signed-in user: tells own messages apart and keys the outbox. Read from the token when
   * it is a string (a JWT's `userIdClaim`); required with a token provider. A token of another
   * user is refused (`WRONG_USER`) before it is used, at construction or per connection.
   */
  userId?: string;
  /** The access token, or a function giving one per connection attempt and refresh. */
  token: TokenProvider;
  /** The JWT claim that names the user: the gateway's JWT_USER_ID_CLAIM (default `sub`). */
  userIdClaim?: string;
  /** How files are uploaded to a slot: XMLHttpRequest in browsers (progress), fetch elsewhere. */
  uploader?: Uploader;
  /** Keeps the outbox across reloads (`localStorage`, `sessionStorage`, or your own). */
  storage?: StorageAdapter;
  /** Defaults to `jobsphere-chat:outbox:<userId>`. */
  storageKey?: string;
  /** REST base URL when it is not the socket's. */
  restUrl?: string;
  /**
   * Engine.IO transports, websocket only by default: the gateway refuses long polling unless
   * it is configured for it (behind sticky sessions).
   */
  transports?: SocketOptions['transports'];
  socketFactory?: SocketFactory;
  fetch?: FetchLike;
  clock?: Clock;
  random?: Random;
  limits?: Partial<ChatClientLimits>;
  timings?: Partial<ChatClientTimings>;
}

export const DEFAULT_LIMITS: ChatClientLimits = {
  maxOutbox: 500,
  maxInFlightSends: 8,
  maxMessagesPerConversation: 5_000,
  maxConversations: 2_000,
  maxSyncPages: 500,
  maxPresenceUsers: 1_000,
  maxUnknownConversations: 100,
  historyPageSize: 50,
  conversationPageSize: 50,
};

export const DEFAULT_TIMINGS: ChatClientTimings = {
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  restTimeoutMs: 15_000,
  uploadTimeoutMs: 300_000,
  backoff: { initialMs: 500, maxMs: 30_000 },
  avoidDrainingMs: 30_000,
  stableAfterMs: 10_000,
  typingRefreshMs: 3_000,
  typingIdleMs: 4_000,
  typingExpiryMs: 5_000,
  gapGraceMs: 500,
  deliveredDebounceMs: 1_000,
};
