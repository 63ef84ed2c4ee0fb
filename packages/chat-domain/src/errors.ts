/** Stable, transport-independent error codes. Clients switch on these; never rename one. */
export const ErrorCode = {
  InvalidPayload: 'INVALID_PAYLOAD',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  NotMember: 'NOT_A_MEMBER',
  Conflict: 'CONFLICT',
  RateLimited: 'RATE_LIMITED',
  TooManyConnections: 'TOO_MANY_CONNECTIONS',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  UnknownEvent: 'UNKNOWN_EVENT',
  Unavailable: 'UNAVAILABLE',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorIssue {
  path: string;
  message: string;
}

/** Base of every domain error: a stable code and a message safe to show a client. */
export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

export class ValidationError extends DomainError {
  readonly code = ErrorCode.InvalidPayload;
  constructor(
    message: string,
    readonly issues: ErrorIssue[] = [],
  ) {
    super(message);
  }
}

export class UnauthorizedError extends DomainError {
  readonly code = ErrorCode.Unauthorized;
}

export class ForbiddenError extends DomainError {
  readonly code = ErrorCode.Forbidden;
}

export class NotFoundError extends DomainError {
  readonly code = ErrorCode.NotFound;
}

/** Deliberately the same message whether the conversation exists or not: no probing. */
export class NotMemberError extends DomainError {
  readonly code = ErrorCode.NotMember;
  constructor(conversationId: string) {
    super(`not a member of conversation ${conversationId}`);
  }
}

export class ConflictError extends DomainError {
  readonly code = ErrorCode.Conflict;
}

export class RateLimitedError extends DomainError {
  readonly code = ErrorCode.RateLimited;
  constructor(
    readonly retryAfterMs: number,
    reason = 'rate limit exceeded',
  ) {
    super(`${reason}, retry in ${Math.ceil(retryAfterMs)} ms`);
  }
}

/** Refused in the handshake: the user already has the most sockets allowed. */
export class TooManyConnectionsError extends DomainError {
  readonly code = ErrorCode.TooManyConnections;
}

export class UnsupportedMediaTypeError extends DomainError {
  readonly code = ErrorCode.UnsupportedMediaType;
}

export class PayloadTooLargeError extends DomainError {
  readonly code = ErrorCode.PayloadTooLarge;
}

export class UnknownEventError extends DomainError {
  readonly code = ErrorCode.UnknownEvent;
  constructor(event: string) {
    super(`unknown event "${event.slice(0, 64)}"`);
  }
}

/** The store or another dependency could not do its part; nothing was acknowledged. */
export class UnavailableError extends DomainError {
  readonly code = ErrorCode.Unavailable;
}
