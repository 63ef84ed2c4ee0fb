import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { idSchema, parsePayload, type Platform } from '@jobsphere/chat-domain';
import { RequireScope, ServiceGuard } from '../service/service.guard.js';
import { PLATFORM } from '../service/service.tokens.js';

/**
 * Response-time figures for the platform (issue 27; documented in response-times.openapi.ts):
 * read by the server API only, never by members.
 */
@Controller('service/v1')
@UseGuards(ServiceGuard)
export class ResponseTimesController {
  constructor(@Inject(PLATFORM) private readonly platform: Platform) {}

  @Get('conversations/:id/response-times')
  @RequireScope('stats:read')
  conversation(@Param('id') id: string) {
    return this.platform.conversationResponseTimes(parsePayload(idSchema, id, 'id'));
  }

  @Get('recruiters/:id/response-times')
  @RequireScope('stats:read')
  recruiter(@Param('id') id: string) {
    const recruiterId = parsePayload(idSchema, id, 'id');
    return this.platform.subjectResponseTimes({ kind: 'recruiter', id: recruiterId });
  }

  @Get('companies/:id/response-times')
  @RequireScope('stats:read')
  company(@Param('id') id: string) {
    const companyId = parsePayload(idSchema, id, 'id');
    return this.platform.subjectResponseTimes({ kind: 'company', id: companyId });
  }
}
