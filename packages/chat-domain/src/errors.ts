import { type ErrorIssue } from './responses.js';

/** Stable, transport-independent error codes. Clients switch on these; never rename one. */
export const ErrorCode = {
  InvalidPayload: 'INVALID_PAYLOAD',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  /** One of the two blocked the other: nothing goes between them. */
  Blocked: 'BLOCKED',
  /** The opener of a request sent all it may until the recipient replies or accepts. */
  RequestPending: 'REQUEST_PENDING',
  /** The recipient declined the request: the opener can send no more. */
  RequestDeclined: 'REQUEST_DECLINED',
  /** Added to a group by someone who is not a contact: accept the invitation first. */
  InvitationPending: 'INVITATION_PENDING',
  /** A message can be edited only for a while after it was sent. */
  EditWindowPassed: 'EDIT_WINDOW_PASSED',
  /** The action message's answers closed at its expiry. */
  ActionExpired: 'ACTION_EXPIRED',
  /** The action message took its answer already (or yours, when it takes one per member). */
  AlreadyAnswered: 'ALREADY_ANSWERED',
  /** A moderator banned this person: nothing they send, edit, upload or open is accepted. */
  Banned: 'BANNED',
  /** The conversation is in slow mode: one message per member every N seconds (`retryAfterMs`). */
  SlowMode: 'SLOW_MODE',
  NotFound: 'NOT_FOUND',
  NotMember: 'NOT_A_MEMBER',
  Conflict: 'CONFLICT',
  RateLimited: 'RATE_LIMITED',
  TooManyConnections: 'TOO_MANY_CONNECTIONS',
  /** Refused in the handshake: the client speaks a socket protocol this gateway does not. */
  UnsupportedProtocol: 'UNSUPPORTED_PROTOCOL',
  /** The person holds as many uploads not yet sent (files or bytes) as they may. */
  UploadQuotaExceeded: 'UPLOAD_QUOTA_EXCEEDED',
  /** The person has as many scheduled sends waiting as they may: cancel one or wait. */
  ScheduleQuotaExceeded: 'SCHEDULE_QUOTA_EXCEEDED',
  /** The recruiter (or the company) keeps as many templates as they may: delete one first. */
  TemplateQuotaExceeded: 'TEMPLATE_QUOTA_EXCEEDED',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  UnknownEvent: 'UNKNOWN_EVENT',
  /**
   * The content policy or the platform's pre-send hook refused the message (`reason` says why:
   * `contact-details`, `link`, `scam`, or the platform's own code). Nothing was stored.
   */
  ContentRejected: 'CONTENT_REJECTED',
  Unavailable: 'UNAVAILABLE',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

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

export class BlockedError extends DomainError {
  readonly code = ErrorCode.Blocked;
  constructor(message = 'one of you blocked the other: nothing can be sent between you') {
    super(message);
  }
}

export class RequestPendingError extends DomainError {
  readonly code = ErrorCode.RequestPending;
  constructor(allowance: number, message?: string) {
    super(
      message ??
        `a message request allows ${allowance} message${allowance === 1 ? '' : 's'} until the recipient replies or accepts`,
    );
  }
}

export class RequestDeclinedError extends DomainError {
  readonly code = ErrorCode.RequestDeclined;
  constructor() {
    super('the recipient declined this conversation');
  }
}

export class InvitationPendingError extends DomainError {
  readonly code = ErrorCode.InvitationPending;
  constructor() {
    super('you were invited to this group: accept the invitation first');
  }
}

export class EditWindowPassedError extends DomainError {
  readonly code = ErrorCode.EditWindowPassed;
  constructor(windowMs: number) {
    super(`messages can be edited for ${Math.round(windowMs / 60_000)} minutes after sending`);
  }
}

export class ActionExpiredError extends DomainError {
  readonly code = ErrorCode.ActionExpired;
  constructor() {
    super('this message no longer takes answers: it expired');
  }
}

export class AlreadyAnsweredError extends DomainError {
  readonly code = ErrorCode.AlreadyAnswered;
  constructor(once: boolean) {
    super(once ? 'this message was answered already' : 'you answered this message already');
  }
}

/** A moderator banned the person acting: refused, whatever they try, until unbanned. */
export class BannedError extends DomainError {
  readonly code = ErrorCode.Banned;
  constructor(readonly reason?: string) {
    super(reason ? `you are banned: ${reason}` : 'you are banned');
  }
}

/** Slow mode: this member's next message may go in `retryAfterMs`. */
export class SlowModeError extends DomainError {
  readonly code = ErrorCode.SlowMode;
  constructor(
    readonly retryAfterMs: number,
    seconds?: number,
  ) {
    super(
      `slow mode${seconds ? `: one message every ${seconds} s` : ''}, your next message may go in ${Math.ceil(retryAfterMs / 1000)} s`,
    );
  }
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

/** Refused in the handshake: the client's socket protocol version is not one this gateway speaks. */
export class UnsupportedProtocolError extends DomainError {
  readonly code = ErrorCode.UnsupportedProtocol;
}

/** Uploads not yet sent are capped per person: send or wait for them to expire first. */
export class UploadQuotaExceededError extends DomainError {
  readonly code = ErrorCode.UploadQuotaExceeded;
}

/** Scheduled sends waiting are capped per person (SCHEDULE_LIMITS.maxPendingPerSender). */
export class ScheduleQuotaExceededError extends DomainError {
  readonly code = ErrorCode.ScheduleQuotaExceeded;
}

/** Templates are capped per recruiter and per company (TEMPLATE_LIMITS). */
export class TemplateQuotaExceededError extends DomainError {
  readonly code = ErrorCode.TemplateQuotaExceeded;
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

/** The content policy or the platform's pre-send hook refused a message; `reason` is shown. */
export class ContentRejectedError extends DomainError {
  readonly code = ErrorCode.ContentRejected;
  constructor(
    readonly reason: string,
    readonly source: 'policy' | 'hook',
  ) {
    super(
      source === 'policy'
        ? `the message was not sent: ${reason.replace(/-/g, ' ')} are not allowed here`
        : `the message was not sent (${reason})`,
    );
  }
}
