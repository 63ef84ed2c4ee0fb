import { type Message } from '../entities.js';
import { type ChatDeps } from './context.js';

/**
 * Tells each mentioned member who gets the message (blocks already taken out of `audience`)
 * that they were mentioned, beside `message:new`: what a client turns into a notification. The
 * counter itself is stored with the message and comes back with the conversation and `sync`.
 */
export function announceMentions(
  deps: ChatDeps,
  message: Message,
  audience: readonly string[],
): void {
  if (!message.mentions?.length) return;
  const reached = new Set(audience);
  const mentioned = message.mentions.filter((id) => reached.has(id));
  if (mentioned.length === 0) return;
  deps.fanout.toUsers(mentioned, 'mention:new', {
    conversationId: message.conversationId,
    messageId: message.id,
    seq: message.seq,
    senderId: message.senderId,
  });
}
