import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  blockedQuerySchema,
  parsePayload,
  reportSchema,
  userRefSchema,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { CHAT } from '../chat/chat.tokens.js';
import { BudgetService } from '../limits/budget.service.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';

/** Blocks and reports: what a user does about someone else (the socket has block too). */
@Controller()
@UseGuards(BearerGuard, RestRateLimitGuard)
export class TrustController {
  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    private readonly budgets: BudgetService,
  ) {}

  @Put('users/:userId/block')
  async block(@CurrentPrincipal() principal: Principal, @Param('userId') userId: string) {
    const ref = parsePayload(userRefSchema, { userId }, 'path');
    await this.budgets.consume('block', principal.userId);
    return this.chat.block(principal, ref.userId);
  }

  @Delete('users/:userId/block')
  async unblock(@CurrentPrincipal() principal: Principal, @Param('userId') userId: string) {
    const ref = parsePayload(userRefSchema, { userId }, 'path');
    await this.budgets.consume('block', principal.userId);
    return this.chat.unblock(principal, ref.userId);
  }

  @Get('blocks')
  blocked(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parsePayload(blockedQuerySchema, query, 'query');
    return this.chat.blockedUsers(principal, {
      limit: q.limit,
      ...(q.cursor && { cursor: q.cursor }),
    });
  }

  /** 201 with a receipt; the reported user is told nothing. */
  @Post('reports')
  @HttpCode(201)
  async report(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const input = parsePayload(reportSchema, body, 'body');
    await this.budgets.consume('report', principal.userId);
    return this.chat.report(principal, input);
  }
}
