import { TOKEN_ID, TOKEN_ID_RULE, USER_ROLES } from '@jobsphere/chat-domain';
import { z } from 'zod';

export const devTokenRequestSchema = z
  .strictObject({
    userId: z.string().regex(TOKEN_ID, TOKEN_ID_RULE),
    role: z.enum(USER_ROLES),
    companyId: z
      .string()
      .regex(TOKEN_ID, TOKEN_ID_RULE)
      .optional()
      .meta({ description: 'The company the person acts for (the `JWT_COMPANY_CLAIM` claim).' }),
  })
  .meta({ id: 'DevTokenRequest' });

export const devTokenSchema = z
  .object({
    token: z.string().meta({ description: 'An access token signed with the development secret.' }),
  })
  .meta({ id: 'DevToken' });

export type DevToken = z.output<typeof devTokenSchema>;
