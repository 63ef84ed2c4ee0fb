import { Body, Controller, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import {
  answerActionBodySchema,
  deleteMessageSchema,
  parsePayload,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { CHAT } from '../chat/chat.tokens.js';
import { BudgetService } from '../limits/budget.service.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';

/** The hiring features' routes for people (issue 27; documented in hiring.openapi.ts). */
@Controller('conversations')
@UseGuards(BearerGuard, RestRateLimitGuard)
export class HiringController {
  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    private readonly budgets: BudgetService,
  ) {}

  /** A member answers an action message (the socket's `message:action`). */
  @Post(':id/messages/:messageId/action')
  @HttpCode(200)
  async answer(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('messageId') messageId: string,
    @Body() body: unknown,
  ) {
    const ref = parsePayload(deleteMessageSchema, { conversationId: id, messageId }, 'path');
    const { actionId } = parsePayload(answerActionBodySchema, body, 'body');
    await this.budgets.consume('revise', principal.userId);
    return this.chat.answerAction(principal, { ...ref, actionId });
  }
}
