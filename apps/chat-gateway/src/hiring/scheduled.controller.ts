import {
  Body,
  Controller,
  Delete,
  Get,
  Inject,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  parsePayload,
  scheduleMessageSchema,
  scheduledPatchSchema,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { CHAT } from '../chat/chat.tokens.js';
import { BudgetService } from '../limits/budget.service.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';

/** A person's scheduled and follow-up sends (issue 27; documented in hiring.openapi.ts). */
@Controller('scheduled-messages')
@UseGuards(BearerGuard, RestRateLimitGuard)
export class ScheduledController {
  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    private readonly budgets: BudgetService,
  ) {}

  @Post()
  async schedule(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const input = parsePayload(scheduleMessageSchema, body, 'body');
    // Writing one costs a send now: it becomes one later.
    await this.budgets.consume('send', principal.userId);
    return this.chat.schedule(principal, input);
  }

  @Get()
  list(@CurrentPrincipal() principal: Principal) {
    return this.chat.listScheduled(principal);
  }

  @Patch(':id')
  async edit(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const patch = parsePayload(scheduledPatchSchema, body, 'body');
    await this.budgets.consume('revise', principal.userId);
    return this.chat.editScheduled(principal, id, patch);
  }

  @Delete(':id')
  async cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    await this.budgets.consume('revise', principal.userId);
    return this.chat.cancelScheduled(principal, id);
  }
}
