import { type ActionAnswer } from '../actions.js';
import { type Conversation, type Message, type Report } from '../entities.js';
import { toMessageDto } from '../mappers.js';
import {
  type NewOutboxEntry,
  type OfflineCheck,
  type OutboxEntry,
  type WebhookEvent,
  type WebhookEventType,
} from '../platform.js';
import { type ChatStore, type Clock } from '../ports.js';

export interface PlatformEventSettings {
  /** Webhook endpoints: every event is one outbox entry per endpoint. Empty: no webhooks. */
  endpoints: readonly string[];
  /** Offline notifications: a check per recipient of a message, due `delayMs` later. */
  offline?: { delayMs: number; windowMs: number };
  clock: Clock;
}

export function webhookEvent(
  id: string,
  type: WebhookEventType,
  data: Record<string, unknown>,
  at: Date,
): WebhookEvent {
  return { id, type, timestamp: at.toISOString(), data };
}

/** One entry per endpoint; the entry id names the endpoint, the event id stays the webhook-id. */
export function webhookEntries(
  event: WebhookEvent,
  endpoints: readonly string[],
  authors: string[],
  now: Date,
  subject?: string,
): NewOutboxEntry[] {
  const payload = JSON.stringify(event);
  return endpoints.map((endpoint, i) => ({
    id: `${event.id}@${i}`,
    kind: 'webhook',
    endpoint,
    payload,
    dueAt: now,
    createdAt: now,
    authors,
    ...(subject && { subject }),
  }));
}

/** What outbox entries about a message are filed under, so its deletion can reach them. */
export const messageSubject = (messageId: string) => `msg:${messageId}`;

/** The event with the message as it is now (a tombstone): its id, type and time unchanged. */
function redactedPayload(entry: OutboxEntry, tombstone: Message): string {
  const event = JSON.parse(entry.payload) as WebhookEvent;
  return JSON.stringify({ ...event, data: { ...event.data, message: toMessageDto(tombstone) } });
}

export function messageCreatedEvent(message: Message, at: Date): WebhookEvent {
  return webhookEvent(
    `msg_${message.id}`,
    'message.created',
    { message: toMessageDto(message) },
    at,
  );
}

/**
 * An edit or a deletion as the platform mirrors it: the message's new state only (a deleted one
 * has an empty body), never the words it had. One event per edit (by version), one deletion.
 */
export function messageRevisedEvent(message: Message, at: Date): WebhookEvent {
  const data = { message: toMessageDto(message) };
  return message.deletedAt
    ? webhookEvent(`msg_del_${message.id}`, 'message.deleted', data, at)
    : webhookEvent(`msg_upd_${message.id}_${message.version}`, 'message.updated', data, at);
}

/** A member answered a card: one event per member and message (`webhook-id` stable on retries). */
export function messageAnsweredEvent(
  message: Message,
  answer: ActionAnswer,
  at: Date,
): WebhookEvent {
  return webhookEvent(
    `msg_ans_${message.id}_${answer.userId}`,
    'message.answered',
    {
      message: toMessageDto(message),
      answer: { userId: answer.userId, actionId: answer.actionId, at: answer.at.toISOString() },
    },
    at,
  );
}

export function conversationSummary(c: Conversation): Record<string, unknown> {
  return {
    id: c.id,
    kind: c.kind,
    ...(c.title !== undefined && { title: c.title }),
    ...(c.jobId !== undefined && { jobId: c.jobId }),
    ...(c.applicationId !== undefined && { applicationId: c.applicationId }),
    memberIds: c.members.map((m) => m.userId),
    createdBy: c.createdBy,
    createdAt: c.createdAt.toISOString(),
  };
}

function reportCreatedEvent(r: Report, at: Date): WebhookEvent {
  // What moderation tooling needs to pick it up; the note and the snapshot stay with the chat.
  return webhookEvent(
    `rep_${r.id}`,
    'report.created',
    {
      reportId: r.id,
      conversationId: r.conversationId,
      ...(r.messageId && { messageId: r.messageId }),
      reason: r.reason,
      reporterId: r.reporterId,
      reportedUserId: r.reportedUserId,
      createdAt: r.createdAt.toISOString(),
    },
    at,
  );
}

/** The window of a time: one offline notification per recipient and conversation in each. */
export function notificationWindow(at: Date, windowMs: number): number {
  return Math.floor(at.getTime() / windowMs);
}

function offlineChecks(
  message: Message,
  memberIds: string[],
  settings: NonNullable<PlatformEventSettings['offline']>,
  now: Date,
): NewOutboxEntry[] {
  const window = notificationWindow(message.createdAt, settings.windowMs);
  const dueAt = new Date(message.createdAt.getTime() + settings.delayMs);
  return memberIds
    .filter((id) => id !== message.senderId)
    .map((recipientId) => {
      const check: OfflineCheck = {
        conversationId: message.conversationId,
        recipientId,
        seq: message.seq,
        window,
      };
      return {
        id: `offline:${message.conversationId}:${recipientId}:${window}`,
        kind: 'offline-check' as const,
        payload: JSON.stringify(check),
        dueAt,
        createdAt: now,
        authors: [],
      };
    });
}

/**
 * The store, recording platform events in the outbox as part of each change: a change is
 * answered only once its events are stored too. Every event id is derived from what it is
 * about (the stored message, the conversation, the membership), so a retried step writes the
 * same ids again and the outbox keeps one of each: a send retried after a failed event write
 * repairs it, and nothing is doubled.
 */
export function recordingPlatformEvents(
  store: ChatStore,
  settings: PlatformEventSettings,
): ChatStore {
  const { endpoints, offline, clock } = settings;
  const webhooks = endpoints.length > 0;
  if (!webhooks && !offline) return store;
  const enqueue = (entries: NewOutboxEntry[]) =>
    entries.length > 0 ? store.outbox.enqueue(entries) : Promise.resolve();
  const messages: ChatStore['messages'] = Object.create(store.messages) as ChatStore['messages'];
  messages.append = async (draft) => {
    const result = await store.messages.append(draft);
    // A shadow-banned sender's message is theirs alone: the platform hears nothing of it.
    if (result.message.shadow) return result;
    const now = clock.now();
    await enqueue([
      ...(webhooks
        ? webhookEntries(
            messageCreatedEvent(result.message, now),
            endpoints,
            [result.message.senderId],
            now,
            messageSubject(result.message.id),
          )
        : []),
      ...(offline ? offlineChecks(result.message, result.memberIds, offline, now) : []),
    ]);
    return result;
  };
  if (!webhooks) return { ...bind(store), messages };
  messages.revise = async (conversationId, messageId, revision, expect) => {
    const revised = await store.messages.revise(conversationId, messageId, revision, expect);
    if (revised && !revised.shadow) {
      const now = clock.now();
      const subject = messageSubject(revised.id);
      // Deleted: no event waiting or dead keeps the words (a replay would send them again).
      if (revised.deletedAt)
        await store.outbox.redact(subject, (entry) => redactedPayload(entry, revised));
      const event =
        revision.kind === 'answer'
          ? messageAnsweredEvent(revised, revision, now)
          : messageRevisedEvent(revised, now);
      // A tombstone carries no words; an edit carries its new ones (erasure removes them).
      await enqueue(
        webhookEntries(
          event,
          endpoints,
          revised.deletedAt ? [] : [revised.senderId],
          now,
          revised.deletedAt ? undefined : subject,
        ),
      );
    }
    return revised;
  };
  const conversations = Object.create(store.conversations) as ChatStore['conversations'];
  conversations.create = async (input) => {
    const result = await store.conversations.create(input);
    const now = clock.now();
    const c = result.conversation;
    // Also when it existed: a retry after a failed event write puts the event there.
    await enqueue(
      webhookEntries(
        webhookEvent(`conv_${c.id}`, 'conversation.created', conversationSummary(c), c.createdAt),
        endpoints,
        c.title !== undefined ? [c.createdBy] : [],
        now,
      ),
    );
    return result;
  };
  const reports = Object.create(store.reports) as ChatStore['reports'];
  reports.create = async (input) => {
    const report = await store.reports.create(input);
    const now = clock.now();
    await enqueue(webhookEntries(reportCreatedEvent(report, now), endpoints, [], now));
    return report;
  };
  const platform = Object.create(store.platform) as ChatStore['platform'];
  platform.change = async (conversationId, change) => {
    const result = await store.platform.change(conversationId, change);
    if (!result) return result;
    const now = clock.now();
    const c = result.conversation;
    const membership = (type: 'member.added' | 'member.removed', userId: string, joinedAt: Date) =>
      webhookEntries(
        webhookEvent(
          `${type === 'member.added' ? 'mem_add' : 'mem_rm'}_${c.id}_${userId}_${joinedAt.getTime()}`,
          type,
          {
            conversationId: c.id,
            userId,
            memberIds: c.members.map((m) => m.userId),
            version: c.version,
          },
          now,
        ),
        endpoints,
        [],
        now,
      );
    await enqueue([
      ...result.added.flatMap((m) => membership('member.added', m.userId, m.joinedAt)),
      ...result.removed.flatMap((m) => membership('member.removed', m.userId, m.joinedAt)),
    ]);
    return result;
  };
  return { ...bind(store), messages, conversations, reports, platform };
}

/** The store's fields as a plain object (methods bound), to override some of them. */
function bind(store: ChatStore): ChatStore {
  return {
    kind: store.kind,
    conversations: store.conversations,
    messages: store.messages,
    contacts: store.contacts,
    reports: store.reports,
    preferences: store.preferences,
    platform: store.platform,
    outbox: store.outbox,
    scheduled: store.scheduled,
    responseTimes: store.responseTimes,
    templates: store.templates,
    moderation: store.moderation,
    epoch: () => store.epoch(),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
