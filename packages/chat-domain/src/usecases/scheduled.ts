import { type Principal } from '../entities.js';
import {
  ConflictError,
  DomainError,
  NotFoundError,
  ScheduleQuotaExceededError,
  UnavailableError,
  ValidationError,
} from '../errors.js';
import {
  SCHEDULE_LIMITS,
  scheduledClientMessageId,
  toScheduledDto,
  type ScheduleMessageInput,
  type ScheduledFinish,
  type ScheduledPatch,
  type ScheduledSend,
  type ScheduledSendDto,
} from '../scheduled.js';
import { type ChatDeps, memberConversation, sendKey } from './context.js';
import { sendMessage } from './messages.js';

/** Attempts of one scheduled send that the store did not answer, before it is given up. */
export const SCHEDULE_MAX_ATTEMPTS = 20;
/** A retry waits 2^(n-1) s, at most this long. */
const RETRY_MAX_MS = 60_000;

function sendAtOf(deps: ChatDeps, iso: string): Date {
  const at = new Date(iso);
  const ahead = at.getTime() - deps.clock.now().getTime();
  if (ahead < SCHEDULE_LIMITS.minAheadMs || ahead > SCHEDULE_LIMITS.maxAheadMs)
    throw new ValidationError(
      `sendAt must be between ${SCHEDULE_LIMITS.minAheadMs / 1000} s and ${SCHEDULE_LIMITS.maxAheadMs / 86_400_000} days ahead`,
      [{ path: 'sendAt', message: 'out of range' }],
    );
  return at;
}

/**
 * Schedules a message (or a follow-up) of a member. Nothing is decided about the send now but
 * membership: the send decision runs when it goes.
 */
export async function scheduleMessage(
  deps: ChatDeps,
  principal: Principal,
  input: ScheduleMessageInput,
): Promise<ScheduledSendDto> {
  const conversation = await memberConversation(deps, principal, input.conversationId);
  const sendAt = sendAtOf(deps, input.sendAt);
  const created = await deps.store.scheduled.create(
    {
      senderId: principal.userId,
      senderRole: principal.role,
      ...(principal.companyId !== undefined && { senderCompanyId: principal.companyId }),
      conversationId: conversation.id,
      body: input.body,
      sendAt,
      ...(input.followUp && { followUp: { afterSeq: conversation.lastMessage?.seq ?? 0 } }),
      createdAt: deps.clock.now(),
    },
    SCHEDULE_LIMITS.maxPendingPerSender,
  );
  if (!created)
    throw new ScheduleQuotaExceededError(
      `at most ${SCHEDULE_LIMITS.maxPendingPerSender} sends may wait at once: cancel one first`,
    );
  return toScheduledDto(created);
}

export async function listScheduled(
  deps: ChatDeps,
  principal: Principal,
): Promise<{ scheduled: ScheduledSendDto[] }> {
  const list = await deps.store.scheduled.listForSender(
    principal.userId,
    SCHEDULE_LIMITS.maxListed,
    deps.clock.now(),
  );
  return { scheduled: list.map(toScheduledDto) };
}

async function refusedEdit(deps: ChatDeps, principal: Principal, id: string): Promise<never> {
  const current = await deps.store.scheduled.get(id);
  if (!current || current.senderId !== principal.userId)
    throw new NotFoundError('no such scheduled send');
  throw new ConflictError(
    current.state === 'pending' ? 'it is on its way: no longer editable' : `it is ${current.state}`,
  );
}

/** New text or time, until it goes (the first attempt closes editing). */
export async function editScheduled(
  deps: ChatDeps,
  principal: Principal,
  id: string,
  patch: ScheduledPatch,
): Promise<ScheduledSendDto> {
  const sendAt = patch.sendAt === undefined ? undefined : sendAtOf(deps, patch.sendAt);
  const edited = await deps.store.scheduled.edit(id, principal.userId, {
    ...(patch.body !== undefined && { body: patch.body }),
    ...(sendAt && { sendAt }),
  });
  return edited ? toScheduledDto(edited) : refusedEdit(deps, principal, id);
}

export async function cancelScheduled(
  deps: ChatDeps,
  principal: Principal,
  id: string,
): Promise<ScheduledSendDto> {
  const at = deps.clock.now();
  const cancelled = await deps.store.scheduled.edit(id, principal.userId, {
    cancel: true,
    at,
    expireAt: new Date(at.getTime() + SCHEDULE_LIMITS.keepFinishedMs),
  });
  return cancelled ? toScheduledDto(cancelled) : refusedEdit(deps, principal, id);
}

/** Whether another member wrote after the follow-up's anchor (a bounded read). */
async function answered(deps: ChatDeps, entry: ScheduledSend, afterSeq: number): Promise<boolean> {
  const after = await deps.store.messages.page(entry.conversationId, {
    after: afterSeq,
    limit: SCHEDULE_LIMITS.followUpScan,
  });
  return after.some((m) => m.kind === 'user' && m.senderId !== entry.senderId);
}

/**
 * Sends one claimed entry through the ordinary send, as its sender, now: the send decision
 * (membership, blocks, requests and what else the send path applies) is the one of this moment.
 * Refused for good: `refused` with the code. The store not answering: thrown (retried).
 */
export async function deliverScheduled(
  deps: ChatDeps,
  entry: ScheduledSend,
): Promise<ScheduledFinish> {
  if (entry.followUp && (await answered(deps, entry, entry.followUp.afterSeq)))
    return { state: 'skipped', outcome: 'answered' };
  const principal: Principal = {
    userId: entry.senderId,
    role: entry.senderRole,
    ...(entry.senderCompanyId !== undefined && { companyId: entry.senderCompanyId }),
  };
  const input = {
    conversationId: entry.conversationId,
    clientMessageId: scheduledClientMessageId(entry.id),
    body: entry.body,
  };
  // An earlier attempt may have stored it and died before telling anyone: the stored one
  // (found by its clientMessageId) is then announced by this attempt, once.
  if (entry.attempts > 1)
    await deps.unannounced?.mark(sendKey({ ...input, senderId: entry.senderId })).catch(() => {});
  try {
    const { message } = await sendMessage(deps, principal, input);
    return { state: 'sent', messageId: message.id };
  } catch (error) {
    if (error instanceof DomainError && !(error instanceof UnavailableError))
      return { state: 'refused', outcome: error.code };
    throw error;
  }
}

/**
 * One turn of a worker: claims the scheduled send due first under `lease` and sends it,
 * finishing or rescheduling it. False when nothing was due. A worker that dies mid-way loses
 * nothing: the lease ends and another worker claims the entry again; its send is the same one.
 */
export async function runDueScheduled(
  deps: ChatDeps,
  lease: string,
  leaseMs: number,
): Promise<boolean> {
  const entry = await deps.store.scheduled.claim(deps.clock.now(), leaseMs, lease);
  if (!entry) return false;
  let result: ScheduledFinish;
  try {
    result = await deliverScheduled(deps, entry);
  } catch (error) {
    if (entry.attempts >= SCHEDULE_MAX_ATTEMPTS) {
      result = { state: 'refused', outcome: 'UNAVAILABLE' };
    } else {
      const wait = Math.min(RETRY_MAX_MS, 1000 * 2 ** (entry.attempts - 1));
      await deps.store.scheduled.retry(
        entry.id,
        lease,
        new Date(deps.clock.now().getTime() + wait),
        error instanceof Error ? error.name : 'error',
      );
      return true;
    }
  }
  const expireAt = new Date(deps.clock.now().getTime() + SCHEDULE_LIMITS.keepFinishedMs);
  await deps.store.scheduled.finish(entry.id, lease, result, expireAt);
  return true;
}
