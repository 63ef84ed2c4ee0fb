import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { parsePayload, searchQuerySchema, type Chat, type Principal } from '@jobsphere/chat-domain';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { CHAT } from '../chat/chat.tokens.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';

/** Word search over the caller's messages (REST only: a search box, not a live stream). */
@Controller()
@UseGuards(BearerGuard, RestRateLimitGuard)
export class SearchController {
  constructor(@Inject(CHAT) private readonly chat: Chat) {}

  @Get('search')
  search(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    return this.chat.search(principal, parsePayload(searchQuerySchema, query, 'query'));
  }
}
