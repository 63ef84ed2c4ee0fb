import { z } from 'zod';
import { messageBodySchema, titleSchema, idSchema } from './schemas.js';
import { LIMITS } from './rules.js';

// Action messages (issue 27): a card the platform posts ("Pick an interview slot") whose
// buttons members answer. Only the server API posts one; the answer is a change of the message
// at a new version (synced like an edit), decided here once (`decideAnswer`): the memory store
// evaluates it, the MongoDB store compiles it into the filter of its one conditional update.

export const ACTION_LIMITS = {
  /** Buttons on one card. */
  maxActions: 5,
  maxLabelLength: 60,
  maxActionIdLength: 40,
  maxUrlLength: 2_048,
  /** How far ahead a card may expire. */
  maxExpiryMs: 366 * 24 * 3_600_000,
} as const;

export const ACTION_KINDS = ['reply', 'slot', 'link'] as const;
/** reply: a quick answer ("Interested"); slot: an interview time; link: opened, never answered. */
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface CardAction {
  id: string;
  label: string;
  kind: ActionKind;
  /** A link's address (https). */
  url?: string;
  /** A slot's start. */
  startsAt?: Date;
}

export interface ActionAnswer {
  userId: string;
  actionId: string;
  at: Date;
}

export interface ActionCard {
  title: string;
  actions: CardAction[];
  /** Answers are refused from then on (ACTION_EXPIRED). */
  expiresAt?: Date;
  /**
   * true: the card takes one answer in all (an interview slot: the first member to answer
   * wins); false: one answer per member (a poll). A second one is refused (ALREADY_ANSWERED).
   */
  once: boolean;
  /** Oldest first; at most one per member (so bounded by the group cap). */
  answers: ActionAnswer[];
}

/** Why an answer is refused (each is a stable error at the boundary). */
export type AnswerRefusal = 'not-actionable' | 'no-such-action' | 'link' | 'expired' | 'answered';

/** May `answer.userId` answer this card now with `answer.actionId`? Membership is decideSend's. */
export function decideAnswer(
  card: ActionCard | undefined,
  answer: ActionAnswer,
): { ok: true } | { ok: false; refusal: AnswerRefusal } {
  if (!card) return { ok: false, refusal: 'not-actionable' };
  const action = card.actions.find((a) => a.id === answer.actionId);
  if (!action) return { ok: false, refusal: 'no-such-action' };
  if (action.kind === 'link') return { ok: false, refusal: 'link' };
  if (card.expiresAt && card.expiresAt.getTime() <= answer.at.getTime())
    return { ok: false, refusal: 'expired' };
  const answered = card.once
    ? card.answers.length > 0
    : card.answers.some((a) => a.userId === answer.userId);
  if (answered) return { ok: false, refusal: 'answered' };
  return { ok: true };
}

const actionIdSchema = z
  .string()
  .min(1)
  .max(ACTION_LIMITS.maxActionIdLength)
  .regex(/^[A-Za-z0-9_-]+$/, 'only letters, digits, _ and -');

const cardActionSchema = z
  .strictObject({
    id: actionIdSchema,
    label: titleSchema.refine((s) => s.length <= ACTION_LIMITS.maxLabelLength, {
      message: `at most ${ACTION_LIMITS.maxLabelLength} characters`,
    }),
    kind: z.enum(ACTION_KINDS),
    url: z
      .url({ protocol: /^https$/ })
      .max(ACTION_LIMITS.maxUrlLength)
      .optional()
      .meta({ description: 'Required for a link (https only); not allowed otherwise.' }),
    startsAt: z.iso.datetime().optional().meta({ description: "A slot's start." }),
  })
  .superRefine((a, ctx) => {
    if (a.kind === 'link' && !a.url)
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'required for a link' });
    if (a.kind !== 'link' && a.url)
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'only a link has one' });
    if (a.kind !== 'slot' && a.startsAt)
      ctx.addIssue({ code: 'custom', path: ['startsAt'], message: 'only a slot has one' });
  })
  .meta({ id: 'CardActionInput' });

/** The server API's action message: a system message carrying a card. */
export const actionMessageSchema = z
  .strictObject({
    idempotencyKey: z
      .string()
      .min(1)
      .max(LIMITS.maxClientMessageIdLength)
      .regex(/^[A-Za-z0-9_-]+$/, 'only letters, digits, _ and -'),
    title: titleSchema,
    text: messageBodySchema.meta({ description: 'The message body (previews and notifications).' }),
    actions: z.array(cardActionSchema).min(1).max(ACTION_LIMITS.maxActions),
    expiresAt: z.iso.datetime().optional(),
    once: z
      .boolean()
      .default(true)
      .meta({ description: 'true: one answer in all (default); false: one per member.' }),
  })
  .superRefine((v, ctx) => {
    if (new Set(v.actions.map((a) => a.id)).size !== v.actions.length)
      ctx.addIssue({ code: 'custom', path: ['actions'], message: 'ids must not repeat' });
  })
  .meta({ id: 'ActionMessage' });
export type ActionMessageInput = z.infer<typeof actionMessageSchema>;

/** A member answers a card (socket `message:action`). */
export const answerActionSchema = z.strictObject({
  conversationId: idSchema,
  messageId: idSchema,
  actionId: actionIdSchema,
});
export type AnswerActionInput = z.infer<typeof answerActionSchema>;
/** The same over REST, the ids in the path. */
export const answerActionBodySchema = z.strictObject({ actionId: actionIdSchema });

const timestamp = z.iso.datetime();
export const actionCardDtoSchema = z
  .object({
    title: z.string(),
    actions: z.array(
      z
        .object({
          id: z.string(),
          label: z.string(),
          kind: z.enum(ACTION_KINDS),
          url: z.string().optional(),
          startsAt: timestamp.optional(),
        })
        .meta({ id: 'CardAction' }),
    ),
    expiresAt: timestamp.optional(),
    once: z.boolean(),
    answers: z.array(
      z
        .object({ userId: z.string(), actionId: z.string(), at: timestamp })
        .meta({ id: 'ActionAnswer' }),
    ),
  })
  .meta({
    id: 'ActionCard',
    description: 'Buttons the platform put on a system message, and the answers so far.',
  });
export type ActionCardDto = z.output<typeof actionCardDtoSchema>;

export function toActionCardDto(card: ActionCard): ActionCardDto {
  return {
    title: card.title,
    actions: card.actions.map((a) => ({
      id: a.id,
      label: a.label,
      kind: a.kind,
      ...(a.url !== undefined && { url: a.url }),
      ...(a.startsAt && { startsAt: a.startsAt.toISOString() }),
    })),
    ...(card.expiresAt && { expiresAt: card.expiresAt.toISOString() }),
    once: card.once,
    answers: card.answers.map((a) => ({
      userId: a.userId,
      actionId: a.actionId,
      at: a.at.toISOString(),
    })),
  };
}

/** The card of a validated input, no answers yet. */
export function newActionCard(input: ActionMessageInput): ActionCard {
  return {
    title: input.title,
    actions: input.actions.map((a) => ({
      id: a.id,
      label: a.label,
      kind: a.kind,
      ...(a.url !== undefined && { url: a.url }),
      ...(a.startsAt && { startsAt: new Date(a.startsAt) }),
    })),
    ...(input.expiresAt && { expiresAt: new Date(input.expiresAt) }),
    once: input.once,
    answers: [],
  };
}
