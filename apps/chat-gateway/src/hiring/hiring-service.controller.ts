import { Body, Controller, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import { actionMessageSchema, parsePayload, type Platform } from '@jobsphere/chat-domain';
import { type Response } from 'express';
import { RequireScope, ServiceGuard } from '../service/service.guard.js';
import { PLATFORM } from '../service/service.tokens.js';

/** The hiring features' routes of the server API (issue 27; documented in hiring.openapi.ts). */
@Controller('service/v1')
@UseGuards(ServiceGuard)
export class HiringServiceController {
  constructor(@Inject(PLATFORM) private readonly platform: Platform) {}

  /** Only the platform posts action messages: no user token reaches this route. */
  @Post('conversations/:id/action-messages')
  @RequireScope('messages:write')
  async postAction(
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const result = await this.platform.postActionMessage(
      id,
      parsePayload(actionMessageSchema, body, 'body'),
    );
    res.status(result.duplicate ? 200 : 201);
    return result;
  }
}
