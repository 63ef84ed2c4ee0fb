import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  deleteMessageSchema,
  idSchema,
  listReportsQuerySchema,
  parsePayload,
  resolveReportSchema,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { z } from 'zod';
import { AdminGuard } from '../auth/admin.guard.js';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { CHAT } from '../chat/chat.tokens.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';

const reportRef = z.strictObject({ id: idSchema });

/** Moderation: the reports list and what admins do about them. */
@Controller('admin')
@UseGuards(BearerGuard, RestRateLimitGuard, AdminGuard)
export class AdminController {
  constructor(@Inject(CHAT) private readonly chat: Chat) {}

  @Get('reports')
  reports(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    return this.chat.listReports(principal, parsePayload(listReportsQuerySchema, query, 'query'));
  }

  @Post('reports/:id/resolve')
  @HttpCode(200)
  resolve(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const ref = parsePayload(reportRef, { id }, 'path');
    const { resolution } = parsePayload(resolveReportSchema, body, 'body');
    return this.chat.resolveReport(principal, ref.id, resolution);
  }

  /** Deletes any message for everyone (a tombstone stays), whoever sent it. */
  @Delete('conversations/:id/messages/:messageId')
  deleteMessage(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('messageId') messageId: string,
  ) {
    return this.chat.moderateDelete(
      principal,
      parsePayload(deleteMessageSchema, { conversationId: id, messageId }, 'path'),
    );
  }
}
