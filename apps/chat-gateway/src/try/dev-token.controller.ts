import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { parsePayload } from '@jobsphere/chat-domain';
import { TokenService } from '../auth/token.service.js';
import { devTokenRequestSchema, type DevToken } from './dev-token.schema.js';

/** Long enough for an afternoon; the try page mints a new one when told it expires. */
const DEV_TOKEN_TTL_S = 12 * 3600;

/**
 * POST /dev/token: any identity, no password. Registered only outside production
 * (see app.module.ts): in production tokens come from the identity service.
 */
@Controller('dev')
export class DevTokenController {
  constructor(private readonly tokens: TokenService) {}

  @Post('token')
  @HttpCode(200)
  async mint(@Body() body: unknown): Promise<DevToken> {
    const principal = parsePayload(devTokenRequestSchema, body, 'body');
    return { token: await this.tokens.sign(principal, DEV_TOKEN_TTL_S) };
  }
}
