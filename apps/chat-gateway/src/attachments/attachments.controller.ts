import { Body, Controller, Get, Inject, Param, Post, UseGuards } from '@nestjs/common';
import {
  parsePayload,
  uploadRequestSchema,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { CHAT } from '../chat/chat.tokens.js';
import { BudgetService } from '../limits/budget.service.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';

/** Upload slots and download links; the bytes themselves never pass through here. */
@Controller()
@UseGuards(BearerGuard, RestRateLimitGuard)
export class AttachmentsController {
  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    private readonly budgets: BudgetService,
  ) {}

  @Post('attachments')
  async requestUpload(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const input = parsePayload(uploadRequestSchema, body, 'body');
    await this.budgets.consume('uploads', principal.userId);
    return this.chat.requestUpload(principal, input).catch(async (error: unknown) => {
      await this.budgets.refund('uploads', principal.userId);
      throw error;
    });
  }

  @Get('conversations/:id/attachments/:attachmentId')
  link(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('attachmentId') attachmentId: string,
  ) {
    return this.chat.attachmentLink(principal, id, attachmentId);
  }
}
