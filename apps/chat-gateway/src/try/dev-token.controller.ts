import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { USER_ROLES, parsePayload } from '@jobsphere/chat-domain';
import { z } from 'zod';
import { TokenService } from '../auth/token.service.js';

const devTokenSchema = z.strictObject({
  userId: z.string().regex(/^[A-Za-z0-9_.:@-]{1,64}$/, '1-64 letters, digits or _ . : @ -'),
  role: z.enum(USER_ROLES),
});

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
  async mint(@Body() body: unknown): Promise<{ token: string }> {
    const principal = parsePayload(devTokenSchema, body, 'body');
    return { token: await this.tokens.sign(principal, DEV_TOKEN_TTL_S) };
  }
}
