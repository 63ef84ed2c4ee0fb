import { USER_ROLES } from '@jobsphere/chat-domain';
import { z } from 'zod';

export const devTokenRequestSchema = z
  .strictObject({
    userId: z.string().regex(/^[A-Za-z0-9_.:@-]{1,64}$/, '1-64 letters, digits or _ . : @ -'),
    role: z.enum(USER_ROLES),
  })
  .meta({ id: 'DevTokenRequest' });

export const devTokenSchema = z
  .object({
    token: z.string().meta({ description: 'An access token signed with the development secret.' }),
  })
  .meta({ id: 'DevToken' });

export type DevToken = z.output<typeof devTokenSchema>;
