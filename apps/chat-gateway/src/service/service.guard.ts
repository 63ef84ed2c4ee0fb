import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  SetMetadata,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ForbiddenError,
  UnauthorizedError,
  type ServicePrincipal,
  type ServiceScope,
} from '@jobsphere/chat-domain';
import { type Request, type Response } from 'express';
import { bearerToken } from '../auth/token.service.js';
import { requestIp } from '../http/http-pipeline.js';
import { BudgetService } from '../limits/budget.service.js';
import { ServiceTokenService } from './service-token.service.js';

type ServiceRequest = Request & { service?: ServicePrincipal };

export const SERVICE_REALM = 'jobsphere-chat-service';
const SCOPE = Symbol('SERVICE_SCOPE');

/** The scope a route of the server API needs. */
export const RequireScope = (scope: ServiceScope) => SetMetadata(SCOPE, scope);

/**
 * The server API's authentication: a service token with the route's scope. A missing or
 * refused token (a user's among them) is 401, a token without the scope 403, each with the
 * RFC 6750 WWW-Authenticate that says which (the error filter keeps a header set here).
 */
@Injectable()
export class ServiceGuard implements CanActivate {
  constructor(
    private readonly tokens: ServiceTokenService,
    private readonly budgets: BudgetService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<ServiceRequest>();
    const response = http.getResponse<Response>();
    const token = bearerToken(request.headers.authorization);
    let principal: ServicePrincipal;
    try {
      principal = await this.tokens.verify(token);
    } catch (error) {
      response.setHeader(
        'WWW-Authenticate',
        `Bearer realm="${SERVICE_REALM}"${token ? ', error="invalid_token"' : ''}`,
      );
      await this.budgets.consume('authFailureIp', requestIp(request));
      throw error instanceof UnauthorizedError
        ? error
        : new UnauthorizedError('invalid service token');
    }
    const scope = this.reflector.get<ServiceScope | undefined>(SCOPE, context.getHandler());
    if (scope && !principal.scopes.includes(scope)) {
      response.setHeader(
        'WWW-Authenticate',
        `Bearer realm="${SERVICE_REALM}", error="insufficient_scope", scope="${scope}"`,
      );
      throw new ForbiddenError(`this needs the ${scope} scope`);
    }
    await this.budgets.consume('service', principal.service);
    request.service = principal;
    return true;
  }
}

export const CurrentService = createParamDecorator(
  (_: unknown, context: ExecutionContext): ServicePrincipal => {
    const service = context.switchToHttp().getRequest<ServiceRequest>().service;
    if (!service) throw new Error('CurrentService used on a route without ServiceGuard');
    return service;
  },
);
