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
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  createTemplateSchema,
  parsePayload,
  templatePatchSchema,
  templatePreviewSchema,
  templateScheduleSchema,
  templateSendSchema,
  type Chat,
  type Principal,
} from '@jobsphere/chat-domain';
import { type Response } from 'express';
import { BearerGuard, CurrentPrincipal } from '../auth/bearer.guard.js';
import { CHAT } from '../chat/chat.tokens.js';
import { BudgetService } from '../limits/budget.service.js';
import { RestRateLimitGuard } from '../limits/rest-rate-limit.guard.js';

/**
 * A recruiter's message templates, their own and their company's (issue 27; documented in
 * templates.openapi.ts). The company is the token's (`Principal.companyId`), never a body's.
 */
@Controller('templates')
@UseGuards(BearerGuard, RestRateLimitGuard)
export class TemplatesController {
  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    private readonly budgets: BudgetService,
  ) {}

  @Get()
  list(@CurrentPrincipal() principal: Principal) {
    return this.chat.listTemplates(principal);
  }

  @Post()
  async create(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const input = parsePayload(createTemplateSchema, body, 'body');
    await this.budgets.consume('revise', principal.userId);
    return this.chat.createTemplate(principal, input);
  }

  @Patch(':id')
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const patch = parsePayload(templatePatchSchema, body, 'body');
    await this.budgets.consume('revise', principal.userId);
    return this.chat.updateTemplate(principal, id, patch);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    await this.budgets.consume('revise', principal.userId);
    await this.chat.deleteTemplate(principal, id);
  }

  /** Sends it filled: an ordinary message (201), or the one stored before with that key (200). */
  @Post(':id/send')
  async send(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const input = parsePayload(templateSendSchema, body, 'body');
    await this.budgets.consume('send', principal.userId);
    const result = await this.chat.sendTemplate(principal, id, input);
    res.status(result.duplicate ? 200 : 201);
    return result;
  }

  @Post(':id/schedule')
  async schedule(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const input = parsePayload(templateScheduleSchema, body, 'body');
    // Writing one costs a send now: it becomes one later.
    await this.budgets.consume('send', principal.userId);
    return this.chat.scheduleTemplate(principal, id, input);
  }

  @Post(':id/preview')
  @HttpCode(200)
  async preview(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const { conversationId } = parsePayload(templatePreviewSchema, body, 'body');
    await this.budgets.consume('revise', principal.userId);
    return this.chat.previewTemplate(principal, id, conversationId);
  }
}
