import { Body, Controller, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import {
  deleteMessageSchema,
  parsePayload,
  reactBodySchema,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { BudgetService } from '../limits/budget.service.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';
import { CHAT } from './chat.tokens.js';

/** Reactions over REST, for a platform that acts without a socket; the socket has `message:react`. */
@Controller('conversations')
@UseGuards(BearerGuard, RestRateLimitGuard)
export class ReactionsController {
  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    private readonly budgets: BudgetService,
  ) {}

  @Post(':id/messages/:messageId/reactions')
  @HttpCode(200)
  async react(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('messageId') messageId: string,
    @Body() body: unknown,
  ) {
    const ref = parsePayload(deleteMessageSchema, { conversationId: id, messageId }, 'path');
    const change = parsePayload(reactBodySchema, body, 'body');
    await this.budgets.consume('react', principal.userId);
    return this.chat.react(principal, { ...ref, ...change });
  }
}
