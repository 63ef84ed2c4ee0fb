import {
  ContentRejectedError,
  DomainError,
  ErrorCode,
  RateLimitedError,
  SlowModeError,
  ValidationError,
  type ErrorBody,
} from '@jobsphere/chat-domain';
import mongoose from 'mongoose';

/** The one place where domain errors meet transports: HTTP status per stable code. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidPayload]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  // Refusals of trust and safety: allowed for nobody in this state, whatever the role.
  [ErrorCode.Blocked]: 403,
  [ErrorCode.RequestPending]: 403,
  [ErrorCode.RequestDeclined]: 403,
  [ErrorCode.InvitationPending]: 403,
  [ErrorCode.EditWindowPassed]: 403,
  // The content policy or the platform's pre-send hook refused this text: change it.
  [ErrorCode.ContentRejected]: 422,
  // Action messages: the card closed (gone for good), or took its answer (the state conflicts).
  [ErrorCode.ActionExpired]: 410,
  [ErrorCode.AlreadyAnswered]: 409,
  [ErrorCode.Banned]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.NotMember]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.SlowMode]: 429,
  [ErrorCode.TooManyConnections]: 429,
  [ErrorCode.UnsupportedProtocol]: 426,
  [ErrorCode.UploadQuotaExceeded]: 429,
  [ErrorCode.ScheduleQuotaExceeded]: 429,
  [ErrorCode.TemplateQuotaExceeded]: 429,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.UnknownEvent]: 400,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Internal]: 500,
};

/** Socket errors of a dependency connection that Node raises bare (not wrapped by a driver). */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * The store (or the network to it) did not complete the operation, or cannot say whether it
 * did: every error of the MongoDB driver and server (network, cleared pool, no primary, a
 * stepdown, maxTimeMS, a lost upsert race), a bulk write's per-statement `WriteError` (which
 * is not an `Error`), Mongoose's own, and a bare socket error. The client retries with the same
 * clientMessageId, which never stores twice.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (error instanceof mongoose.mongo.MongoError) return true;
  if (error instanceof Error && /^Mongo|^Mongoose/.test(error.name)) return true;
  if (typeof error !== 'object' || error === null) return false;
  if (error.constructor.name === 'WriteError' && 'errmsg' in error) return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
}

export interface MappedError {
  status: number;
  body: ErrorBody;
  /** True when the error is not the client's doing and deserves a log line. */
  unexpected: boolean;
}

export function mapError(error: unknown): MappedError {
  if (error instanceof DomainError) {
    const body: ErrorBody = { code: error.code, message: error.message };
    if (error instanceof ValidationError && error.issues.length > 0) body.issues = error.issues;
    if (error instanceof RateLimitedError || error instanceof SlowModeError)
      body.retryAfterMs = Math.ceil(error.retryAfterMs);
    if (error instanceof ContentRejectedError) body.reason = error.reason;
    return {
      status: HTTP_STATUS[error.code],
      body,
      unexpected: error.code === ErrorCode.Unavailable,
    };
  }
  // Not done, or not known to be done: nothing was acked. A retry with the same
  // clientMessageId stores the message once, or answers the copy a lost answer left.
  if (isStoreUnavailable(error)) {
    return {
      status: 503,
      body: {
        code: ErrorCode.Unavailable,
        message: 'store unavailable, not acknowledged: retry with the same clientMessageId',
      },
      unexpected: true,
    };
  }
  // Internals (driver messages, stack traces) never reach clients.
  return {
    status: 500,
    body: { code: ErrorCode.Internal, message: 'internal error' },
    unexpected: true,
  };
}
