import { Body, Controller, Inject, Param, Patch, UseGuards } from '@nestjs/common';
import {
  organiseBodySchema,
  parsePayload,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { CHAT } from '../chat/chat.tokens.js';
import { BudgetService } from '../limits/budget.service.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';

/** A person's own organisation of a conversation (the socket has `conversation:organise`). */
@Controller('conversations')
@UseGuards(BearerGuard, RestRateLimitGuard)
export class OrganisationController {
  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    private readonly budgets: BudgetService,
  ) {}

  @Patch(':id/me')
  async organise(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const input = parsePayload(organiseBodySchema, body, 'body');
    await this.budgets.consume('block', principal.userId);
    return this.chat.organise(principal, { conversationId: id, ...input });
  }
}
