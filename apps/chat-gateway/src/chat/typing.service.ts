import { Injectable } from '@nestjs/common';
import { memberIds, type Conversation } from '@jobsphere/chat-domain';
import { RealtimeBus } from '../realtime/realtime-bus.js';

/** How long a typing indicator lives without a refresh. */
export const TYPING_TTL_MS = 5_000;
/** A client may send typing:start on every keystroke; at most one per this interval goes out. */
export const TYPING_THROTTLE_MS = 2_000;

interface TypingEntry {
  audience: string[];
  userId: string;
  lastForwarded: number;
  expiry: NodeJS.Timeout;
}

/**
 * Typing indicators: volatile, throttled per socket, never stored, only to the other
 * members, and ending by themselves after TYPING_TTL_MS. Entries are held per socket, so a
 * socket that leaves is cleaned up without looking at anyone else's.
 */
@Injectable()
export class TypingService {
  /** socketId -> conversationId -> entry (each expires by itself; starts are budgeted). */
  private readonly active = new Map<string, Map<string, TypingEntry>>();

  constructor(private readonly bus: RealtimeBus) {}

  start(socketId: string, userId: string, conversation: Conversation): void {
    const mine = this.active.get(socketId) ?? new Map<string, TypingEntry>();
    const now = Date.now();
    const entry = mine.get(conversation.id);
    if (entry) clearTimeout(entry.expiry);
    const expiry = setTimeout(() => this.stop(socketId, conversation.id), TYPING_TTL_MS);
    expiry.unref();
    const forward = !entry || now - entry.lastForwarded >= TYPING_THROTTLE_MS;
    const audience = memberIds(conversation).filter((id) => id !== userId);
    mine.set(conversation.id, {
      audience,
      userId,
      lastForwarded: forward ? now : entry.lastForwarded,
      expiry,
    });
    this.active.set(socketId, mine);
    if (forward) this.emit(conversation.id, audience, userId, true);
  }

  stop(socketId: string, conversationId: string): void {
    const mine = this.active.get(socketId);
    const entry = mine?.get(conversationId);
    if (!mine || !entry) return;
    clearTimeout(entry.expiry);
    mine.delete(conversationId);
    if (mine.size === 0) this.active.delete(socketId);
    this.emit(conversationId, entry.audience, entry.userId, false);
  }

  /** A socket that leaves stops typing everywhere. */
  stopAll(socketId: string): void {
    for (const conversationId of [...(this.active.get(socketId)?.keys() ?? [])]) {
      this.stop(socketId, conversationId);
    }
  }

  private emit(conversationId: string, audience: string[], userId: string, typing: boolean): void {
    this.bus.toUsers(
      audience,
      'typing',
      { conversationId, userId, typing, ...(typing && { expiresInMs: TYPING_TTL_MS }) },
      { volatile: true },
    );
  }
}
