import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { type Principal } from '@jobsphere/chat-domain';
import { type Request } from 'express';
import { RateLimitService } from './rate-limit.service.js';

/** Per-user REST budget; runs after BearerGuard, answers 429 with Retry-After. */
@Injectable()
export class RestRateLimitGuard implements CanActivate {
  constructor(private readonly limits: RateLimitService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { principal } = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    if (principal) await this.limits.consume('rest', principal.userId);
    return true;
  }
}
