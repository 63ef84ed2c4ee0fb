import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { type Chat, type PresenceDto } from '@jobsphere/chat-domain';
import { REDIS_CLIENT, type RedisClient } from '@jobsphere/redis-kit';
import { randomBytes } from 'node:crypto';
import { CHAT } from '../chat/chat.tokens.js';
import { describeError } from '../common/log-text.js';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { RealtimeBus } from '../realtime/realtime-bus.js';
import { MemoryPresenceStore, RedisPresenceStore, type PresenceStore } from './presence.store.js';

/** Connections refreshed per heartbeat command batch (3 commands each). */
const HEARTBEAT_SLICE = 500;

/**
 * Online / offline / last seen. Kept in Redis with expiry (never via adapter round
 * trips), refreshed by each instance's heartbeat, so a dead instance's users fall
 * offline within the TTL. Changes go to a bounded audience of contacts.
 */
@Injectable()
export class PresenceService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Presence');
  private readonly store: PresenceStore;
  private readonly instanceId = randomBytes(6).toString('hex');
  /** Local connections: socket id -> user id and when it was admitted. */
  private readonly local = new Map<string, { userId: string; since: number }>();
  private timer: NodeJS.Timeout | undefined;
  /** Offline announcements waiting out the grace period, one per user. */
  private readonly goingOffline = new Map<string, NodeJS.Timeout>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CHAT) private readonly chat: Chat,
    private readonly bus: RealtimeBus,
    @Optional() @Inject(REDIS_CLIENT) redis?: RedisClient,
  ) {
    this.store = redis ? new RedisPresenceStore(redis) : new MemoryPresenceStore();
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.heartbeat(), this.config.presence.heartbeatMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    for (const timer of this.goingOffline.values()) clearTimeout(timer);
    this.goingOffline.clear();
  }

  /**
   * Records a connection unless the user holds `max` already over all instances (counted and
   * added in one step); false when refused, and then nothing of it is kept.
   */
  async connected(userId: string, socketId: string, max?: number): Promise<boolean> {
    this.local.set(socketId, { userId, since: Date.now() });
    const { admitted, cameOnline } = await this.store
      .connect(userId, this.connectionId(socketId), Date.now() + this.config.presence.ttlMs, max)
      .catch((error: unknown) => {
        this.local.delete(socketId);
        throw error;
      });
    if (!admitted) this.local.delete(socketId);
    if (cameOnline) this.announce({ userId, online: true });
    return admitted;
  }

  async disconnected(userId: string, socketId: string): Promise<void> {
    this.local.delete(socketId);
    const now = Date.now();
    if (await this.store.disconnect(userId, this.connectionId(socketId), now)) {
      this.announceOfflineAfterGrace(userId, now);
    }
  }

  /**
   * A device switch (phone closed, laptop opening on another instance) or a network blip must
   * not flicker: the user is announced offline only if still offline a moment later.
   */
  private announceOfflineAfterGrace(userId: string, at: number): void {
    if (this.goingOffline.has(userId)) return;
    const timer = setTimeout(() => {
      this.goingOffline.delete(userId);
      this.store.lookup([userId], Date.now()).then(
        ([state]) => {
          if (state && !state.online)
            this.announce({ userId, online: false, lastSeenAt: new Date(at).toISOString() });
        },
        (error: unknown) => this.logger.warn(`presence lookup failed: ${describeError(error)}`),
      );
    }, this.config.presence.offlineGraceMs);
    timer.unref();
    this.goingOffline.set(userId, timer);
  }

  async query(userIds: string[]): Promise<PresenceDto[]> {
    const found = await this.store.lookup([...new Set(userIds)], Date.now());
    return found.map((p) => ({
      userId: p.userId,
      online: p.online,
      ...(p.lastSeenAt !== undefined && { lastSeenAt: new Date(p.lastSeenAt).toISOString() }),
    }));
  }

  /** Erasure: the user's presence goes (connections held here stop being refreshed). */
  async forget(userId: string): Promise<void> {
    for (const [socketId, entry] of this.local)
      if (entry.userId === userId) this.local.delete(socketId);
    await this.store.forget(userId);
  }

  /** Whether any device of the user is connected, on any instance. */
  async isOnline(userId: string): Promise<boolean> {
    const [state] = await this.store.lookup([userId], Date.now());
    return state?.online === true;
  }

  /** Refreshes this instance's connections and reports users whose instance died. */
  async heartbeat(): Promise<void> {
    try {
      const now = Date.now();
      const expiresAt = now + this.config.presence.ttlMs;
      // A slice at a time, each sent once the last is answered, and built as it is sent: an
      // array of every connection would live through the whole heartbeat (30 round trips at
      // 15,000 connections), be promoted to the old generation and left there as garbage.
      // (A Map's iterator stays valid across the awaits: a connection gone meanwhile is skipped.)
      let slice: { userId: string; connectionId: string }[] = [];
      for (const [socketId, { userId, since }] of this.local) {
        // Admitted but never connected (the client left during the handshake): let it expire.
        if (!this.bus.hasLocalSocket(socketId) && now - since > this.config.presence.heartbeatMs) {
          this.local.delete(socketId);
          continue;
        }
        slice.push({ userId, connectionId: this.connectionId(socketId) });
        if (slice.length === HEARTBEAT_SLICE) {
          await this.store.refresh(slice, expiresAt);
          slice = [];
        }
      }
      if (slice.length > 0) await this.store.refresh(slice, expiresAt);
      for (const userId of await this.store.sweep(now)) {
        this.announce({ userId, online: false, lastSeenAt: new Date(now).toISOString() });
      }
    } catch (error) {
      this.logger.warn(`presence heartbeat failed: ${describeError(error)}`);
    }
  }

  /** Tells a bounded audience of contacts (and the user's own devices); never awaited by a request. */
  private announce(event: PresenceDto): void {
    if (this.config.presence.maxFanout === 0) return;
    this.chat.presenceAudience(event.userId, this.config.presence.maxFanout).then(
      (audience) => this.bus.toUsers(audience, 'presence', event, { volatile: true }),
      (error: unknown) => this.logger.warn(`presence announce failed: ${describeError(error)}`),
    );
  }

  private connectionId(socketId: string): string {
    return `${this.instanceId}:${socketId}`;
  }
}
