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
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  addMembersSchema,
  deadLettersQuerySchema,
  idSchema,
  parsePayload,
  serviceConversationPatchSchema,
  serviceOpenConversationSchema,
  slowModeSchema,
  systemMessageSchema,
  type Platform,
  type ServicePrincipal,
} from '@jobsphere/chat-domain';
import { type Response } from 'express';
import { TokenRevocations } from '../auth/revocations.service.js';
import { PresenceService } from '../presence/presence.service.js';
import { RealtimeBus } from '../realtime/realtime-bus.js';
import { CurrentService, RequireScope, ServiceGuard } from './service.guard.js';
import { PLATFORM } from './service.tokens.js';

/** The server API: JobSphere's backend acting for its people (see service.openapi.ts). */
@Controller('service/v1')
@UseGuards(ServiceGuard)
export class ServiceController {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    private readonly presence: PresenceService,
    private readonly bus: RealtimeBus,
    private readonly revocations: TokenRevocations,
  ) {}

  @Post('conversations')
  @RequireScope('conversations:write')
  async open(
    @CurrentService() service: ServicePrincipal,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const result = await this.platform.open(
      service,
      parsePayload(serviceOpenConversationSchema, body, 'body'),
    );
    res.status(result.created ? 201 : 200);
    return result;
  }

  @Patch('conversations/:id')
  @RequireScope('conversations:write')
  change(@Param('id') id: string, @Body() body: unknown) {
    return this.platform.change(id, parsePayload(serviceConversationPatchSchema, body, 'body'));
  }

  /** Slow mode, set by the platform (audited as `service:<name>`). */
  @Put('conversations/:id/slow-mode')
  @RequireScope('conversations:write')
  slowMode(
    @CurrentService() service: ServicePrincipal,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const { seconds, reason } = parsePayload(slowModeSchema, body, 'body');
    return this.platform.setSlowMode(service, parsePayload(idSchema, id, 'id'), seconds, reason);
  }

  @Post('conversations/:id/messages')
  @RequireScope('messages:write')
  async post(
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const result = await this.platform.postSystemMessage(
      id,
      parsePayload(systemMessageSchema, body, 'body'),
    );
    res.status(result.duplicate ? 200 : 201);
    return result;
  }

  @Post('conversations/:id/members')
  @RequireScope('members:write')
  @HttpCode(200)
  add(@Param('id') id: string, @Body() body: unknown) {
    return this.platform.addMembers(id, parsePayload(addMembersSchema, body, 'body').userIds);
  }

  @Delete('conversations/:id/members/:userId')
  @RequireScope('members:write')
  remove(@Param('id') id: string, @Param('userId') userId: string) {
    return this.platform.removeMember(id, parsePayload(idSchema, userId, 'userId'));
  }

  /**
   * Idempotent; `complete: false` means call again. The person's tokens issued until now are
   * refused on every instance from here on (first, so a device cannot just reconnect), their
   * devices are disconnected and their presence forgotten.
   */
  @Post('users/:userId/erasure')
  @RequireScope('users:erase')
  @HttpCode(200)
  async erase(@CurrentService() service: ServicePrincipal, @Param('userId') userId: string) {
    const id = parsePayload(idSchema, userId, 'userId');
    await this.revocations.revokeUser(id);
    this.bus.disconnectUsers([id]);
    await this.presence.forget(id);
    return this.platform.eraseUser(service, id);
  }

  @Get('users/:userId/export')
  @RequireScope('users:export')
  export(@Param('userId') userId: string) {
    return this.platform.exportUser(parsePayload(idSchema, userId, 'userId'));
  }

  @Get('webhooks/dead-letters')
  @RequireScope('webhooks:admin')
  deadLetters(@Query() query: unknown) {
    const q = parsePayload(deadLettersQuerySchema, query, 'query');
    return this.platform.deadLetters({ limit: q.limit, ...(q.cursor && { cursor: q.cursor }) });
  }

  @Post('webhooks/dead-letters/:id/replay')
  @RequireScope('webhooks:admin')
  @HttpCode(204)
  async replay(@Param('id') id: string): Promise<void> {
    await this.platform.replay(id);
  }
}
