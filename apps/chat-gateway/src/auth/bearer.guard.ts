import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  createParamDecorator,
} from '@nestjs/common';
import { UnauthorizedError, type Principal } from '@jobsphere/chat-domain';
import { type Request } from 'express';
import { BudgetService } from '../limits/budget.service.js';
import { requestIp } from '../http/http-pipeline.js';
import { TokenService, bearerToken, principalOf } from './token.service.js';

type AuthedRequest = Request & { principal?: Principal };

/** REST authentication: a valid bearer token or 401; bad tokens spend the client IP's budget. */
@Injectable()
export class BearerGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenService,
    private readonly budgets: BudgetService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const verified = await this.tokens
      .verify(bearerToken(request.headers.authorization))
      .catch(async (error: unknown) => {
        // A refused token spends the IP's budget; the provider's keys being late is not its fault.
        if (error instanceof UnauthorizedError)
          await this.budgets.consume('authFailureIp', requestIp(request));
        throw error;
      });
    request.principal = principalOf(verified);
    return true;
  }
}

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal => {
    const principal = context.switchToHttp().getRequest<AuthedRequest>().principal;
    if (!principal) throw new Error('CurrentPrincipal used on a route without BearerGuard');
    return principal;
  },
);
