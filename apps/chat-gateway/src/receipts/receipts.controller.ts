import { Body, Controller, Get, HttpCode, Inject, Patch, Post, UseGuards } from '@nestjs/common';
import {
  markDeliveredSchema,
  parsePayload,
  settingsUpdateSchema,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { CHAT } from '../chat/chat.tokens.js';
import { BudgetService } from '../limits/budget.service.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';

/** Delivery receipts and the caller's own settings (the socket has both too). */
@Controller()
@UseGuards(BearerGuard, RestRateLimitGuard)
export class ReceiptsController {
  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    private readonly budgets: BudgetService,
  ) {}

  @Post('delivered')
  @HttpCode(200)
  async delivered(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const input = parsePayload(markDeliveredSchema, body, 'body');
    await this.budgets.consume('read', principal.userId);
    return this.chat.markDelivered(principal, input);
  }

  @Get('me/settings')
  settings(@CurrentPrincipal() principal: Principal) {
    return this.chat.settings(principal);
  }

  @Patch('me/settings')
  async updateSettings(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const input = parsePayload(settingsUpdateSchema, body, 'body');
    await this.budgets.consume('block', principal.userId);
    return this.chat.updateSettings(principal, input);
  }
}
