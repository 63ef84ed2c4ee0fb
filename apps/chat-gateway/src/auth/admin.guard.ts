import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ForbiddenError, type Principal } from '@jobsphere/chat-domain';
import { type Request } from 'express';

/** Moderation routes: the platform's admin role only (runs after BearerGuard). */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { principal } = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    if (principal?.role !== 'admin') throw new ForbiddenError('moderation is for admins');
    return true;
  }
}
