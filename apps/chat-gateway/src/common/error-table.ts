import {
  DomainError,
  ErrorCode,
  RateLimitedError,
  ValidationError,
  type ErrorBody,
} from '@jobsphere/chat-domain';

/** The one place where domain errors meet transports: HTTP status per stable code. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidPayload]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  // Refusals of trust and safety: allowed for nobody in this state, whatever the role.
  [ErrorCode.Blocked]: 403,
  [ErrorCode.RequestPending]: 403,
  [ErrorCode.RequestDeclined]: 403,
  [ErrorCode.EditWindowPassed]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.NotMember]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.TooManyConnections]: 429,
  [ErrorCode.UnsupportedProtocol]: 426,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.UnknownEvent]: 400,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Internal]: 500,
};

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
    if (error instanceof RateLimitedError) body.retryAfterMs = Math.ceil(error.retryAfterMs);
    return {
      status: HTTP_STATUS[error.code],
      body,
      unexpected: error.code === ErrorCode.Unavailable,
    };
  }
  // A store that cannot answer: the operation did not happen (nothing was acked as sent).
  if (error instanceof Error && /^Mongo|^MongooseServerSelectionError$/.test(error.name)) {
    return {
      status: 503,
      body: { code: ErrorCode.Unavailable, message: 'store unavailable, nothing was changed' },
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
