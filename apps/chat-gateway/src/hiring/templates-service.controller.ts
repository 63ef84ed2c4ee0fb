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
  Put,
  UseGuards,
} from '@nestjs/common';
import {
  parseConversationVariables,
  createTemplateSchema,
  idSchema,
  parsePayload,
  templatePatchSchema,
  type Platform,
} from '@jobsphere/chat-domain';
import { RequireScope, ServiceGuard } from '../service/service.guard.js';
import { PLATFORM } from '../service/service.tokens.js';

const companyOf = (companyId: string) => parsePayload(idSchema, companyId, 'companyId');
const conversationOf = (id: string) => parsePayload(idSchema, id, 'id');

/**
 * The platform's side of message templates (issue 27; documented in templates.openapi.ts): a
 * company's templates, and the values of the variables per conversation.
 */
@Controller('service/v1')
@UseGuards(ServiceGuard)
export class TemplatesServiceController {
  constructor(@Inject(PLATFORM) private readonly platform: Platform) {}

  @Get('companies/:companyId/templates')
  @RequireScope('templates:write')
  list(@Param('companyId') companyId: string) {
    return this.platform.listCompanyTemplates(companyOf(companyId));
  }

  @Post('companies/:companyId/templates')
  @RequireScope('templates:write')
  create(@Param('companyId') companyId: string, @Body() body: unknown) {
    const input = parsePayload(createTemplateSchema, body, 'body');
    return this.platform.createCompanyTemplate(companyOf(companyId), input);
  }

  @Patch('companies/:companyId/templates/:id')
  @RequireScope('templates:write')
  update(@Param('companyId') companyId: string, @Param('id') id: string, @Body() body: unknown) {
    const patch = parsePayload(templatePatchSchema, body, 'body');
    return this.platform.updateCompanyTemplate(companyOf(companyId), id, patch);
  }

  @Delete('companies/:companyId/templates/:id')
  @RequireScope('templates:write')
  @HttpCode(204)
  async remove(@Param('companyId') companyId: string, @Param('id') id: string) {
    await this.platform.deleteCompanyTemplate(companyOf(companyId), id);
  }

  /** Replaces the values templates take in this conversation (all of them at once). */
  @Put('conversations/:id/template-variables')
  @RequireScope('conversations:write')
  setVariables(@Param('id') id: string, @Body() body: unknown) {
    const variables = parseConversationVariables(body);
    return this.platform.setConversationVariables(conversationOf(id), variables);
  }

  @Get('conversations/:id/template-variables')
  @RequireScope('conversations:write')
  variables(@Param('id') id: string) {
    return this.platform.conversationVariables(conversationOf(id));
  }
}
