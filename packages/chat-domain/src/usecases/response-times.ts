import { type Principal } from '../entities.js';
import { NotFoundError } from '../errors.js';
import { type AppendResult } from '../ports.js';
import {
  RESPONSE_TIME_LIMITS,
  dayOf,
  responseSideOf,
  subjectFigures,
  toConversationResponseTimesDto,
  type ConversationResponseTimesDto,
  type ResponseSubject,
  type SubjectResponseTimes,
} from '../response-times.js';
import { type ChatDeps } from './context.js';

/**
 * After a stored send: the figures' small write, started and not waited for (the ack never
 * waits on it, and its failure is counted as lost, never the send's). Nothing happens unless
 * the deps ask for figures; groups, duplicates, shadow-banned sends and admins count not.
 */
export function recordResponseTime(
  deps: ChatDeps,
  principal: Principal,
  stored: AppendResult,
): void {
  const recording = deps.responseTimes;
  if (!recording) return;
  const { message, kind, duplicate } = stored;
  const side = responseSideOf(principal.role);
  if (!side || duplicate || kind !== 'direct' || message.kind !== 'user' || message.shadow) return;
  const write = (async () => {
    const figures = deps.store.responseTimes;
    if (side === 'candidate') return figures.awaitAnswer(message.conversationId, message.createdAt);
    const waited = await figures.takeAwaiting(message.conversationId, message.createdAt);
    if (!waited) return; // outreach, or a second message: no answer
    await figures.recordAnswer({
      conversationId: message.conversationId,
      recruiterId: principal.userId,
      ...(principal.companyId !== undefined && { companyId: principal.companyId }),
      answeredAt: message.createdAt,
      ms: Math.max(0, message.createdAt.getTime() - waited.since.getTime()),
      answer: waited.answer,
    });
  })().catch((error: unknown) => recording.lost?.(error));
  recording.track?.(write);
}

/** A conversation's figures (the platform's view: no membership asked). */
export async function conversationResponseTimes(
  deps: ChatDeps,
  conversationId: string,
): Promise<ConversationResponseTimesDto> {
  const kept = await deps.store.responseTimes.conversation(conversationId);
  if (kept) return toConversationResponseTimesDto(kept);
  // Known but never written in by a candidate: no figures yet, not an error.
  if (!(await deps.store.conversations.get(conversationId)))
    throw new NotFoundError('conversation not found');
  return toConversationResponseTimesDto({ conversationId, answers: 0, recentMs: [] });
}

/** A recruiter's or a company's medians over 30 days, or 90 when the 30 hold few answers. */
export async function subjectResponseTimes(
  deps: ChatDeps,
  subject: ResponseSubject,
): Promise<SubjectResponseTimes> {
  const today = dayOf(deps.clock.now());
  const from = today - RESPONSE_TIME_LIMITS.fallbackWindowDays + 1;
  const days = await deps.store.responseTimes.days(subject, from, today);
  return subjectFigures(subject, days, today);
}
