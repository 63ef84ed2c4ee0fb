import { type Message } from '../entities.js';
import { LIMITS } from '../rules.js';
import { type ChatDeps } from './context.js';

/**
 * The messages `messages` reply to, in their current state, so every view quotes the target as
 * it is now (edited, deleted): one lookup per page, bounded by the page, only when it holds a
 * reply to a message outside it.
 */
export async function replyTargets(
  deps: ChatDeps,
  conversationId: string,
  messages: readonly Message[],
): Promise<Map<string, Message>> {
  const targets = new Map<string, Message>();
  const inPage = new Map(messages.map((m) => [m.id, m]));
  const missing = new Set<string>();
  for (const m of messages) {
    if (m.replyTo === undefined) continue;
    const found = inPage.get(m.replyTo);
    if (found) targets.set(m.replyTo, found);
    else missing.add(m.replyTo);
  }
  if (missing.size > 0) {
    const ids = [...missing].slice(0, LIMITS.maxSyncMessagesPerConversation);
    for (const t of await deps.store.messages.getMany(conversationId, ids)) targets.set(t.id, t);
  }
  return targets;
}
