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
  auditQuerySchema,
  deleteMessageSchema,
  idSchema,
  liftRestrictionSchema,
  listReportsQuerySchema,
  moderationListQuerySchema,
  parsePayload,
  resolveReportSchema,
  restrictUserSchema,
  slowModeSchema,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { z } from 'zod';
import { AdminGuard } from '../auth/admin.guard.js';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { CHAT } from '../chat/chat.tokens.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';
import { RealtimeBus } from '../realtime/realtime-bus.js';

const reportRef = z.strictObject({ id: idSchema });

/** Moderation: the reports list and what admins do about them. */
@Controller('admin')
@UseGuards(BearerGuard, RestRateLimitGuard, AdminGuard)
export class AdminController {
  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    private readonly bus: RealtimeBus,
  ) {}

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

  /** The moderation list: reports, policy flags and hook flags, filtered and paged. */
  @Get('moderation')
  moderation(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    return this.chat.listModeration(
      principal,
      parsePayload(moderationListQuerySchema, query, 'query'),
    );
  }

  @Get('audit')
  audit(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    return this.chat.auditLog(principal, parsePayload(auditQuerySchema, query, 'query'));
  }

  @Get('users/:userId/restriction')
  restriction(@CurrentPrincipal() principal: Principal, @Param('userId') userId: string) {
    return this.chat.userRestriction(principal, parsePayload(idSchema, userId, 'userId'));
  }

  /**
   * Bans a person: recorded first (every instance refuses them from then on: handshakes,
   * sends, edits, uploads, new conversations), then their devices are told why and every
   * socket of theirs, on every instance, is closed.
   */
  @Post('users/:userId/ban')
  @HttpCode(200)
  async ban(
    @CurrentPrincipal() principal: Principal,
    @Param('userId') userId: string,
    @Body() body: unknown,
  ) {
    const id = parsePayload(idSchema, userId, 'userId');
    const { reason } = parsePayload(restrictUserSchema, body, 'body');
    const result = await this.chat.restrictUser(principal, id, 'banned', reason);
    this.bus.toUsers([id], 'moderation:banned', { reason, at: result.at! });
    this.bus.disconnectUsers([id]);
    return result;
  }

  @Post('users/:userId/unban')
  @HttpCode(200)
  unban(
    @CurrentPrincipal() principal: Principal,
    @Param('userId') userId: string,
    @Body() body: unknown,
  ) {
    const id = parsePayload(idSchema, userId, 'userId');
    const { reason } = parsePayload(liftRestrictionSchema, body, 'body');
    return this.chat.liftRestriction(principal, id, 'banned', reason);
  }

  /** Shadow-bans a person: nothing tells them; what they send from now on is theirs alone. */
  @Post('users/:userId/shadow-ban')
  @HttpCode(200)
  shadowBan(
    @CurrentPrincipal() principal: Principal,
    @Param('userId') userId: string,
    @Body() body: unknown,
  ) {
    const id = parsePayload(idSchema, userId, 'userId');
    const { reason } = parsePayload(restrictUserSchema, body, 'body');
    return this.chat.restrictUser(principal, id, 'shadow-banned', reason);
  }

  @Post('users/:userId/shadow-unban')
  @HttpCode(200)
  shadowUnban(
    @CurrentPrincipal() principal: Principal,
    @Param('userId') userId: string,
    @Body() body: unknown,
  ) {
    const id = parsePayload(idSchema, userId, 'userId');
    const { reason } = parsePayload(liftRestrictionSchema, body, 'body');
    return this.chat.liftRestriction(principal, id, 'shadow-banned', reason);
  }

  /** Slow mode: at most one message per member every `seconds` (0: off), on every instance. */
  @Put('conversations/:id/slow-mode')
  slowMode(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const conversationId = parsePayload(idSchema, id, 'id');
    const { seconds, reason } = parsePayload(slowModeSchema, body, 'body');
    return this.chat.setSlowMode(principal, conversationId, seconds, reason);
  }
}
