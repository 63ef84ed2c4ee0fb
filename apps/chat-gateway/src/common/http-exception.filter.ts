import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import { ErrorCode, type ErrorBody } from '@jobsphere/chat-domain';
import { type Response } from 'express';
import { mapError } from './error-table.js';

const HTTP_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.InvalidPayload,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  413: ErrorCode.PayloadTooLarge,
  429: ErrorCode.RateLimited,
  503: ErrorCode.Unavailable,
};

/** Every REST error leaves as `{ error: { code, message } }` with the status of the error table. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    let status: number;
    let body: ErrorBody;
    if (exception instanceof HttpException && isHealthReport(exception.getResponse())) {
      // Terminus' 503 keeps its own body: the load balancer and operators read it as is.
      response.status(exception.getStatus()).json(exception.getResponse());
      return;
    }
    if (exception instanceof HttpException) {
      // Framework-level rejections: unknown route, body parser limits, malformed JSON.
      status = exception.getStatus();
      body = {
        code: HTTP_CODES[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.InvalidPayload),
        message: exception.message,
      };
    } else if (isBodyParserError(exception)) {
      status = exception.status;
      body = {
        code: HTTP_CODES[status] ?? ErrorCode.InvalidPayload,
        message:
          exception.type === 'entity.too.large'
            ? 'request body too large'
            : 'malformed request body',
      };
    } else {
      const mapped = mapError(exception);
      status = mapped.status;
      body = mapped.body;
      if (mapped.unexpected) this.logger.error(describe(exception));
    }
    if (body.retryAfterMs !== undefined)
      response.setHeader('Retry-After', Math.ceil(body.retryAfterMs / 1000));
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

export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
