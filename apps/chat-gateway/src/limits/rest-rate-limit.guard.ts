import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { type Principal } from '@jobsphere/chat-domain';
import { type Request } from 'express';
import { BudgetService } from './budget.service.js';

/** Per-user REST budget; runs after BearerGuard, answers 429 with Retry-After. */
@Injectable()
export class RestRateLimitGuard implements CanActivate {
  constructor(private readonly budgets: BudgetService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { principal } = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    if (principal) await this.budgets.consume('rest', principal.userId);
    return true;
  }
}
