import { Injectable } from '@nestjs/common';
import { memberIds, type Conversation } from '@jobsphere/chat-domain';
import { RealtimeBus } from '../realtime/realtime-bus.js';

/** How long a typing indicator lives without a refresh. */
export const TYPING_TTL_MS = 5_000;
/** A client may send typing:start on every keystroke; at most one per this interval goes out. */
export const TYPING_THROTTLE_MS = 2_000;

interface TypingEntry {
  conversation: Conversation;
  userId: string;
  lastForwarded: number;
  expiry: NodeJS.Timeout;
}

/**
 * Typing indicators: volatile, throttled per socket, never stored, only to the other
 * members, and ending by themselves after TYPING_TTL_MS.
 */
@Injectable()
export class TypingService {
  /** Key: socketId + conversationId. */
  private readonly active = new Map<string, TypingEntry>();

  constructor(private readonly bus: RealtimeBus) {}

  start(socketId: string, userId: string, conversation: Conversation): void {
    const key = `${socketId}\u0000${conversation.id}`;
    const now = Date.now();
    const entry = this.active.get(key);
    if (entry) clearTimeout(entry.expiry);
    const expiry = setTimeout(() => this.stop(socketId, conversation.id), TYPING_TTL_MS);
    expiry.unref();
    const forward = !entry || now - entry.lastForwarded >= TYPING_THROTTLE_MS;
    this.active.set(key, {
      conversation,
      userId,
      lastForwarded: forward ? now : entry.lastForwarded,
      expiry,
    });
    if (forward) this.emit(conversation, userId, true);
  }

  stop(socketId: string, conversationId: string): void {
    const key = `${socketId}\u0000${conversationId}`;
    const entry = this.active.get(key);
    if (!entry) return;
    clearTimeout(entry.expiry);
    this.active.delete(key);
    this.emit(entry.conversation, entry.userId, false);
  }

  /** A socket that leaves stops typing everywhere. */
  stopAll(socketId: string): void {
    for (const [key, entry] of this.active) {
      if (key.startsWith(`${socketId}\u0000`)) this.stop(socketId, entry.conversation.id);
    }
  }

  private emit(conversation: Conversation, userId: string, typing: boolean): void {
    const others = memberIds(conversation).filter((id) => id !== userId);
    this.bus.volatileToUsers(others, undefined, 'typing', {
      conversationId: conversation.id,
      userId,
      typing,
      ...(typing && { expiresInMs: TYPING_TTL_MS }),
    });
  }
}
