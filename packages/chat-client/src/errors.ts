import type { ErrorCode, ErrorIssue } from '@jobsphere/chat-domain';
import type { ErrorBody } from './protocol.js';

/**
 * Every code a client can meet: the server's stable codes, the handshake refusal
 * `TOO_MANY_CONNECTIONS`, and the client's own for what never reached an answer.
 */
export type ChatErrorCode =
  | ErrorCode
  | 'TOO_MANY_CONNECTIONS'
  /** The server could not be reached (refused, DNS, TLS, proxy, wrong transport). */
  | 'NETWORK'
  /** No answer in time. */
  | 'TIMEOUT'
  /** The connection went away before the answer came. */
  | 'DISCONNECTED'
  /** The server answered something this client does not understand. */
  | 'PROTOCOL'
  /** The outbox holds as many messages as it may: nothing was queued. */
  | 'OUTBOX_FULL'
  /** The storage adapter failed (quota, unavailable); the outbox lives on in memory. */
  | 'STORAGE'
  /** The token provider threw or returned no token. */
  | 'TOKEN'
  /** The token names another user than the client's `userId`: refused before it is used. */
  | 'WRONG_USER'
  /** The client was closed. */
  | 'CLOSED';

export class ChatError extends Error {
  readonly code: ChatErrorCode;
  /** For RATE_LIMITED: how long the server asks to wait. */
  readonly retryAfterMs: number | undefined;
  readonly issues: ErrorIssue[] | undefined;
  /**
   * For CONTENT_REJECTED: why (`contact-details`, `link`, `scam` from the content policy, or the
   * platform's own code); show it to the sender. Final: the message was not sent.
   */
  readonly reason: string | undefined;

  constructor(
    code: ChatErrorCode,
    message: string,
    details: {
      retryAfterMs?: number;
      issues?: ErrorIssue[];
      reason?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = this.constructor.name;
    this.code = code;
    this.retryAfterMs = details.retryAfterMs;
    this.issues = details.issues;
    this.reason = details.reason;
  }

  /** From a server error body (an ack, a REST error, a connect_error's data). */
  static fromBody(body: ErrorBody): ChatError {
    return new ChatError(body.code, body.message, {
      ...(body.retryAfterMs !== undefined && { retryAfterMs: body.retryAfterMs }),
      ...(body.issues !== undefined && { issues: body.issues }),
      ...(body.reason !== undefined && { reason: body.reason }),
    });
  }
}

/** The server refused the connection, or it could not be reached. */
export class ChatConnectError extends ChatError {
  constructor(
    code: ChatErrorCode,
    message: string,
    readonly url: string,
    details: { retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(code, message, details);
  }
}

/** A REST call failed; `status` is 0 when no HTTP answer came. */
export class ChatApiError extends ChatError {
  constructor(
    code: ChatErrorCode,
    message: string,
    readonly status: number,
    details: { retryAfterMs?: number; issues?: ErrorIssue[]; cause?: unknown } = {},
  ) {
    super(code, message, details);
  }
}

/**
 * Worth trying again with the same request (for a send: the same clientMessageId) once the
 * connection is back or the wait is over. Everything else is final for that request.
 */
export function isRetryable(code: ChatErrorCode): boolean {
  switch (code) {
    case 'UNAVAILABLE':
    case 'RATE_LIMITED':
    case 'SLOW_MODE': // the same message goes once the conversation allows it (`retryAfterMs`)
    case 'TIMEOUT':
    case 'DISCONNECTED':
    case 'NETWORK':
    case 'PROTOCOL':
    case 'UNAUTHORIZED':
    case 'TOKEN':
    case 'TOO_MANY_CONNECTIONS':
      return true;
    default:
      return false;
  }
}

export function toChatError(error: unknown, fallback: ChatErrorCode = 'PROTOCOL'): ChatError {
  if (error instanceof ChatError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ChatError(fallback, message, { cause: error });
}
