import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import { ErrorCode, type ErrorBody } from '@jobsphere/chat-domain';
import { type Request, type Response } from 'express';
import { mapError } from './error-table.js';
import { describeError } from './log-text.js';

/**
 * Framework-level rejections (unknown route, a body the parser refused...): a code and a fixed
 * text, never the framework's or the parser's (which would echo the request). Our own
 * validation throws domain errors, so a framework 400 is always the JSON parser.
 */
const HTTP_ANSWERS: Record<number, ErrorBody> = {
  400: { code: ErrorCode.InvalidPayload, message: 'malformed JSON body' },
  401: { code: ErrorCode.Unauthorized, message: 'missing or invalid access token' },
  403: { code: ErrorCode.Forbidden, message: 'forbidden' },
  404: { code: ErrorCode.NotFound, message: 'no such route' },
  405: { code: ErrorCode.NotFound, message: 'method not allowed on this route' },
  413: { code: ErrorCode.PayloadTooLarge, message: 'request body too large' },
  415: { code: ErrorCode.UnsupportedMediaType, message: 'send the body as application/json' },
  429: { code: ErrorCode.RateLimited, message: 'rate limit exceeded' },
  503: { code: ErrorCode.Unavailable, message: 'unavailable' },
};

/** Every REST error leaves as `{ error: { code, message } }` with the status of the error table. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    let status: number;
    let body: ErrorBody;
    if (exception instanceof HttpException && isHealthReport(exception.getResponse())) {
      // Terminus' 503 keeps its own body: the load balancer and operators read it as is.
      response.status(exception.getStatus()).json(exception.getResponse());
      return;
    }
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      body = HTTP_ANSWERS[status] ?? {
        code: status >= 500 ? ErrorCode.Internal : ErrorCode.InvalidPayload,
        message: status >= 500 ? 'internal error' : 'request refused',
      };
    } else if (isBodyParserError(exception)) {
      // The parser's own text would echo the body; say what went wrong in our words.
      status = exception.status;
      body =
        exception.type === 'entity.too.large'
          ? HTTP_ANSWERS[413]!
          : exception.type === 'encoding.unsupported' || exception.type === 'charset.unsupported'
            ? HTTP_ANSWERS[415]!
            : { code: ErrorCode.InvalidPayload, message: 'malformed JSON body' };
    } else {
      const mapped = mapError(exception);
      status = mapped.status;
      body = mapped.body;
      if (mapped.unexpected)
        this.logger.error(`${request.method} ${request.path}: ${describeError(exception)}`);
    }
    if (body.retryAfterMs !== undefined)
      response.setHeader('Retry-After', Math.ceil(body.retryAfterMs / 1000));
    // A guard that said more (the server API's realm, insufficient_scope) keeps its header.
    if (status === 401 && !response.hasHeader('WWW-Authenticate')) {
      // RFC 6750: say which scheme, and whether a token came and was refused.
      const sent = typeof request.headers.authorization === 'string';
      response.setHeader(
        'WWW-Authenticate',
        `Bearer realm="jobsphere-chat"${sent ? ', error="invalid_token"' : ''}`,
      );
    }
    response.status(status).json({ error: body });
  }
}

function isHealthReport(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'status' in body && 'details' in body;
}

function isBodyParserError(e: unknown): e is { status: number; type: string } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { status?: unknown }).status === 'number' &&
    typeof (e as { type?: unknown }).type === 'string'
  );
}
