import { type Conversation, type Principal } from '../entities.js';
import { decodeActivityCursor, nextCursorOf } from '../cursor.js';
import { toVisibleMessageDto } from '../mappers.js';
import {
  SEARCH_LIMITS,
  matchRanges,
  searchTerms,
  searchWords,
  type SearchPage,
  type SearchQuery,
} from '../search.js';
import { seenBy } from '../rules.js';
import { assertAdmitted } from '../send-decision.js';
import { type ChatDeps, memberConversation, trustOf } from './context.js';
import { apartFrom, apartIn } from './presence.js';

/**
 * A person's search over the messages of their conversations (or of one), newest first. What
 * history shows them is what search finds, less a request they received and have not accepted:
 * its recipient reads it to decide, but finds nothing in it until they accept. Messages of
 * someone behind a block never match in a group (history shows them only as hidden).
 */
export async function searchMessages(
  deps: ChatDeps,
  principal: Principal,
  query: SearchQuery,
): Promise<SearchPage> {
  const terms = searchTerms(query.q);
  const before = query.cursor === undefined ? undefined : decodeActivityCursor(query.cursor);
  const candidates =
    query.conversationId === undefined
      ? (
          await deps.store.conversations.listForMember(principal.userId, {
            limit: SEARCH_LIMITS.maxConversations,
          })
        ).conversations
      : [await memberConversation(deps, principal, query.conversationId)];
  if (query.conversationId !== undefined)
    assertAdmitted(candidates[0]!, principal.userId, 'read', trustOf(deps).requestAllowance);
  const searchable = candidates.filter((c) => searchableBy(c, principal.userId, deps));
  if (searchable.length === 0) return { hits: [] };
  const apart = await apartFrom(deps, principal.userId, searchable);
  const groups = searchable.filter((c) => c.kind === 'group').map((c) => c.id);
  const found = await deps.store.messages.search({
    conversationIds: searchable.map((c) => c.id),
    terms,
    ...(apart.size > 0 &&
      groups.length > 0 && { exclude: { conversationIds: groups, senderIds: [...apart] } }),
    ...(before && { before }),
    limit: query.limit + 1,
  });
  const kept = found.slice(0, query.limit);
  const byId = new Map(searchable.map((c) => [c.id, c]));
  // What the viewer sees of each (the content policy may mask words for them): a hit only when
  // every word is in their view too, so a masked phone number is never found by its digits.
  const seen = seenBy(principal.userId);
  const hits = kept.flatMap((m) => {
    // A shadow-banned sender's message is theirs alone, as in history.
    if (!seen(m)) return [];
    const conversation = byId.get(m.conversationId)!;
    // As history shows it (reactions of people apart left out), without the quoted preview.
    const message = toVisibleMessageDto(m, apartIn(conversation, apart), {
      viewerId: principal.userId,
    });
    const shown = new Set(searchWords(message.body));
    if (!terms.every((t) => shown.has(t))) return [];
    return [
      { conversationId: m.conversationId, message, ranges: matchRanges(message.body, terms) },
    ];
  });
  return {
    hits,
    ...nextCursorOf(found.length, query.limit, kept, (m) => [m.createdAt, m.id]),
  };
}

function searchableBy(c: Conversation, userId: string, deps: ChatDeps): boolean {
  if (c.request && c.request.to === userId) return false;
  try {
    assertAdmitted(c, userId, 'read', trustOf(deps).requestAllowance);
    return true;
  } catch {
    return false;
  }
}
