import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  conversationRefSchema,
  createConversationSchema,
  deleteMessageSchema,
  editMessageBodySchema,
  historyQuerySchema,
  leaveBodySchema,
  listConversationsQuerySchema,
  markReadBodySchema,
  parsePayload,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { type Response } from 'express';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { BudgetService } from '../limits/budget.service.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';
import { CHAT } from './chat.tokens.js';

@Controller('conversations')
@UseGuards(BearerGuard, RestRateLimitGuard)
export class ChatController {
  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    private readonly budgets: BudgetService,
  ) {}

  /** 201 when created, 200 when the same direct conversation already existed (that costs nothing). */
  @Post()
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const input = parsePayload(createConversationSchema, body, 'body');
    await this.budgets.consume('conversations', principal.userId);
    const { conversation, created } = await this.chat
      .openConversation(principal, input)
      .catch(async (error: unknown) => {
        await this.budgets.refund('conversations', principal.userId);
        throw error;
      });
    if (!created) await this.budgets.refund('conversations', principal.userId);
    res.status(created ? 201 : 200);
    return conversation;
  }

  @Get()
  list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parsePayload(listConversationsQuerySchema, query, 'query');
    return this.chat.listConversations(principal, {
      limit: q.limit,
      box: q.box,
      ...(q.cursor && { cursor: q.cursor }),
    });
  }

  @Get(':id')
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.chat.getConversation(principal, id);
  }

  @Get(':id/messages')
  history(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: unknown,
  ) {
    return this.chat.history(principal, id, parsePayload(historyQuerySchema, query, 'query'));
  }

  @Post(':id/read')
  @HttpCode(200)
  markRead(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    return this.chat.markRead(principal, id, parsePayload(markReadBodySchema, body, 'body').seq);
  }

  /** The recipient of a request accepts it: from now on it is an ordinary conversation. */
  @Post(':id/accept')
  @HttpCode(200)
  async accept(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    await this.budgets.consume('answer', principal.userId);
    return this.chat.answerRequest(principal, id, 'accept');
  }

  @Post(':id/decline')
  @HttpCode(200)
  async decline(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    await this.budgets.consume('answer', principal.userId);
    return this.chat.answerRequest(principal, id, 'decline');
  }

  /** Any member leaves a group; the last owner hands it over (`handOverTo`) or it is archived. */
  @Post(':id/leave')
  @HttpCode(200)
  async leave(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const input = parsePayload(leaveBodySchema, body ?? {}, 'body');
    await this.budgets.consume('answer', principal.userId);
    return this.chat.leave(principal, {
      ...input,
      ...parsePayload(conversationRefSchema, { conversationId: id }, 'path'),
    });
  }

  @Patch(':id/messages/:messageId')
  async edit(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('messageId') messageId: string,
    @Body() body: unknown,
  ) {
    const ref = parsePayload(deleteMessageSchema, { conversationId: id, messageId }, 'path');
    const { body: text } = parsePayload(editMessageBodySchema, body, 'body');
    await this.budgets.consume('revise', principal.userId);
    return this.chat.edit(principal, { ...ref, body: text });
  }

  @Delete(':id/messages/:messageId')
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('messageId') messageId: string,
  ) {
    const ref = parsePayload(deleteMessageSchema, { conversationId: id, messageId }, 'path');
    await this.budgets.consume('revise', principal.userId);
    return this.chat.delete(principal, ref);
  }
}
