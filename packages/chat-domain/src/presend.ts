import { z } from 'zod';
import { messageBodySchema } from './schemas.js';

/**
 * The platform's pre-send hook, as the domain sees it: one question per draft (a send or an
 * edit), one verdict. Deadline, bounded concurrency, circuit breaker, the failure policy and
 * keeping verdicts for retries belong to the implementation (the gateway's); the domain acts on
 * the verdict.
 */
export interface PreSendDraft {
  action: 'send' | 'edit';
  conversationId: string;
  senderId: string;
  body: string;
  /** A send's: a retry with the same one gets the same verdict, without asking again. */
  clientMessageId?: string;
  /** An edit's. */
  messageId?: string;
}

const reason = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'a code: letters, digits and _ . : -');

/** What the platform may answer (anything else is garbage: the failure policy applies). */
export const preSendVerdictSchema = z.discriminatedUnion('verdict', [
  z.strictObject({ verdict: z.literal('allow') }),
  z.strictObject({ verdict: z.literal('reject'), reason }),
  z.strictObject({ verdict: z.literal('replace'), body: messageBodySchema }),
  z.strictObject({ verdict: z.literal('flag'), reason }),
]);
export type PreSendVerdict = z.output<typeof preSendVerdictSchema>;

export interface PreSendHook {
  /**
   * The platform's verdict on a draft. Throws UnavailableError when the platform did not
   * answer and the failure policy is closed (the client retries with the same clientMessageId);
   * answers `allow` when it is open.
   */
  check(draft: PreSendDraft): Promise<PreSendVerdict>;
}
