import { Injectable } from '@nestjs/common';
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
 * members who may see the typer's activity (not across a block or to a request's opener), and ending by themselves after TYPING_TTL_MS. Entries are held per socket, so a
 * socket that leaves is cleaned up without looking at anyone else's.
 */
@Injectable()
export class TypingService {
  /** socketId -> conversationId -> entry (each expires by itself; starts are budgeted). */
  private readonly active = new Map<string, Map<string, TypingEntry>>();

  constructor(private readonly bus: RealtimeBus) {}

  /** `audience`: who may see `userId` typing here (the domain's typingAudience). */
  start(socketId: string, userId: string, conversationId: string, audience: string[]): void {
    const mine = this.active.get(socketId) ?? new Map<string, TypingEntry>();
    const now = Date.now();
    const entry = mine.get(conversationId);
    if (entry) clearTimeout(entry.expiry);
    const expiry = setTimeout(() => this.stop(socketId, conversationId), TYPING_TTL_MS);
    expiry.unref();
    const forward = !entry || now - entry.lastForwarded >= TYPING_THROTTLE_MS;
    mine.set(conversationId, {
      audience,
      userId,
      lastForwarded: forward ? now : entry.lastForwarded,
      expiry,
    });
    this.active.set(socketId, mine);
    if (forward) this.emit(conversationId, audience, userId, true);
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
