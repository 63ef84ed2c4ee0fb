// The server is trusted to be the truth, not to be well-formed: every payload is checked for
// the fields this client relies on before it touches state, so a garbled or hostile frame is
// dropped (and reported) instead of corrupting a timeline or throwing inside a socket handler.
import type {
  Ack,
  ConversationDto,
  ConversationUpdate,
  DeliveredEvent,
  ErrorBody,
  MessageDto,
  OrganisationDto,
  OrganisedDto,
  PresenceDto,
  ReadEvent,
  SettingsDto,
  SyncConversationPage,
  TypingEvent,
} from './protocol.js';

type Obj = Record<string, unknown>;

const MAX_ID = 256;
/** Far above a group's cap (50): a longer member list is garbage. */
const MAX_MEMBERS = 1_000;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID;
}

export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const optional = (value: unknown, check: (v: unknown) => boolean) =>
  value === undefined || check(value);

export function isErrorBody(value: unknown): value is ErrorBody {
  return (
    isObject(value) &&
    isString(value['code']) &&
    value['code'].length <= 64 &&
    isString(value['message']) &&
    optional(value['retryAfterMs'], isCount) &&
    optional(value['issues'], Array.isArray)
  );
}

export function asAck(value: unknown): Ack<unknown> | undefined {
  if (!isObject(value)) return undefined;
  if (value['ok'] === true) return { ok: true, data: value['data'] };
  if (value['ok'] === false && isErrorBody(value['error']))
    return { ok: false, error: value['error'] };
  return undefined;
}

export function isMessage(value: unknown): value is MessageDto {
  return (
    isObject(value) &&
    isId(value['id']) &&
    isId(value['conversationId']) &&
    isCount(value['seq']) &&
    isCount(value['version']) &&
    isId(value['senderId']) &&
    isString(value['clientMessageId']) &&
    isString(value['body']) &&
    isString(value['createdAt'])
  );
}

export function isConversation(value: unknown): value is ConversationDto {
  if (
    !isObject(value) ||
    !isId(value['id']) ||
    (value['kind'] !== 'direct' && value['kind'] !== 'group') ||
    !Array.isArray(value['members']) ||
    !isCount(value['version']) ||
    !isCount(value['lastSeq']) ||
    !isCount(value['lastReadSeq']) ||
    !isString(value['lastActivityAt'])
  )
    return false;
  return value['members'].every(
    (m: unknown) => isObject(m) && isId(m['userId']) && optional(m['lastReadSeq'], isCount),
  );
}

export function isSyncPage(value: unknown): value is SyncConversationPage {
  return (
    isObject(value) &&
    isId(value['conversationId']) &&
    Array.isArray(value['messages']) &&
    isCount(value['version']) &&
    typeof value['hasMore'] === 'boolean' &&
    isCount(value['lastReadSeq'])
  );
}

export function isReadEvent(value: unknown): value is ReadEvent {
  return (
    isObject(value) &&
    isId(value['conversationId']) &&
    isId(value['userId']) &&
    isCount(value['lastReadSeq'])
  );
}

export function isDeliveredEvent(value: unknown): value is DeliveredEvent {
  return (
    isObject(value) &&
    isId(value['conversationId']) &&
    isId(value['userId']) &&
    isCount(value['lastDeliveredSeq'])
  );
}

export function isSettings(value: unknown): value is SettingsDto {
  return isObject(value) && typeof value['receipts'] === 'boolean';
}

/** A sync entry's receipts: anything unreadable in it is dropped, the rest kept. */
export function receiptsOf(
  value: unknown,
): { userId: string; lastReadSeq: number; lastDeliveredSeq: number }[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (r: unknown): r is { userId: string; lastReadSeq: number; lastDeliveredSeq: number } =>
      isObject(r) &&
      isId(r['userId']) &&
      isCount(r['lastReadSeq']) &&
      isCount(r['lastDeliveredSeq']),
  );
}

export function isTypingEvent(value: unknown): value is TypingEvent {
  return (
    isObject(value) &&
    isId(value['conversationId']) &&
    isId(value['userId']) &&
    typeof value['typing'] === 'boolean' &&
    optional(value['expiresInMs'], isCount)
  );
}

export function isPresence(value: unknown): value is PresenceDto {
  return (
    isObject(value) &&
    isId(value['userId']) &&
    typeof value['online'] === 'boolean' &&
    optional(value['lastSeenAt'], isString)
  );
}

export function isConversationUpdate(value: unknown): value is ConversationUpdate {
  if (!isObject(value) || !isId(value['conversationId']) || typeof value['blocked'] !== 'boolean')
    return false;
  const request = value['request'];
  const memberIds = value['memberIds'];
  return (
    (request === null ||
      (isObject(request) &&
        isId(request['from']) &&
        isId(request['to']) &&
        (request['state'] === 'pending' || request['state'] === 'declined'))) &&
    optional(value['version'], isCount) &&
    optional(value['title'], isString) &&
    optional(value['archived'], (v) => typeof v === 'boolean') &&
    (memberIds === undefined ||
      (Array.isArray(memberIds) && memberIds.length <= MAX_MEMBERS && memberIds.every(isId)))
  );
}

/** Nothing organised: what an absent `organisation` means. */
export const NOT_ORGANISED: OrganisationDto = {
  muted: false,
  pinned: false,
  archived: false,
  unread: false,
};

/** A view's or sync entry's `organisation`: absent (or unreadable) is nothing organised. */
export function organisationOf(value: unknown): OrganisationDto {
  if (!isObject(value)) return NOT_ORGANISED;
  const flag = (key: string) => value[key] === true;
  return {
    muted: flag('muted'),
    pinned: flag('pinned'),
    archived: flag('archived'),
    unread: flag('unread'),
  };
}

export function isOrganisedEvent(value: unknown): value is OrganisedDto {
  return (
    isObject(value) &&
    isId(value['conversationId']) &&
    ['muted', 'pinned', 'archived', 'unread'].every((k) => typeof value[k] === 'boolean')
  );
}
