import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  createConversationSchema,
  historyQuerySchema,
  listConversationsQuerySchema,
  markReadBodySchema,
  parsePayload,
  type Principal,
} from '@jobsphere/chat-domain';
import { type Response } from 'express';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';
import { ChatService } from './chat.service.js';

@Controller('conversations')
@UseGuards(BearerGuard, RestRateLimitGuard)
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  /** 201 when created, 200 when the same direct conversation already existed. */
  @Post()
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { conversation, created } = await this.chat.createConversation(
      principal,
      parsePayload(createConversationSchema, body, 'body'),
    );
    res.status(created ? 201 : 200);
    return conversation;
  }

  @Get()
  list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parsePayload(listConversationsQuerySchema, query, 'query');
    return this.chat.listConversations(principal, {
      limit: q.limit,
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
}
