import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { LIMITS, type ChatStore, type PresenceDto } from '@jobsphere/chat-domain';
import { REDIS_CLIENT, type RedisClient } from '@jobsphere/redis-kit';
import { randomBytes } from 'node:crypto';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { CHAT_STORE } from '../persistence/persistence.tokens.js';
import { RealtimeBus } from '../realtime/realtime-bus.js';
import { MemoryPresenceStore, RedisPresenceStore, type PresenceStore } from './presence.store.js';

/**
 * Online / offline / last seen. Kept in Redis with expiry (never via adapter round
 * trips), refreshed by each instance's heartbeat, so a dead instance's users fall
 * offline within the TTL. Changes go to people who share a conversation, bounded.
 */
@Injectable()
export class PresenceService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Presence');
  private readonly store: PresenceStore;
  private readonly instanceId = randomBytes(6).toString('hex');
  /** Local connections: socket id -> user id and when it was admitted. */
  private readonly local = new Map<string, { userId: string; since: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
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
  }

  async connected(userId: string, socketId: string): Promise<void> {
    this.local.set(socketId, { userId, since: Date.now() });
    const cameOnline = await this.store.connect(
      userId,
      this.connectionId(socketId),
      Date.now() + this.config.presence.ttlMs,
    );
    if (cameOnline) await this.announce({ userId, online: true });
  }

  async disconnected(userId: string, socketId: string): Promise<void> {
    this.local.delete(socketId);
    const now = Date.now();
    if (await this.store.disconnect(userId, this.connectionId(socketId), now)) {
      await this.announce({ userId, online: false, lastSeenAt: new Date(now).toISOString() });
    }
  }

  async query(userIds: string[]): Promise<PresenceDto[]> {
    const found = await this.store.lookup([...new Set(userIds)], Date.now());
    return found.map((p) => ({
      userId: p.userId,
      online: p.online,
      ...(p.lastSeenAt !== undefined && { lastSeenAt: new Date(p.lastSeenAt).toISOString() }),
    }));
  }

  /** Refreshes this instance's connections and reports users whose instance died. */
  async heartbeat(): Promise<void> {
    try {
      const now = Date.now();
      const sockets = this.bus.server?.of('/').sockets;
      for (const [socketId, { since }] of this.local) {
        // Admitted but never connected (the client left during the handshake): let it expire.
        if (sockets && !sockets.has(socketId) && now - since > this.config.presence.heartbeatMs)
          this.local.delete(socketId);
      }
      const entries = [...this.local].map(([socketId, { userId }]) => ({
        userId,
        connectionId: this.connectionId(socketId),
      }));
      await this.store.refresh(entries, now + this.config.presence.ttlMs);
      for (const userId of await this.store.sweep(now)) {
        await this.announce({ userId, online: false, lastSeenAt: new Date(now).toISOString() });
      }
    } catch (error) {
      this.logger.warn(
        `presence heartbeat failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Tells the people who share a conversation with the user (and the user's devices). */
  private async announce(event: PresenceDto): Promise<void> {
    if (this.config.presence.maxFanout === 0) return;
    const audience = new Set<string>([event.userId]);
    let cursor: string | undefined;
    outer: do {
      const page = await this.chatStore.conversations.listForUser(event.userId, {
        limit: LIMITS.maxPageSize,
        ...(cursor && { cursor }),
      });
      for (const c of page.conversations) {
        for (const m of c.members) {
          audience.add(m.userId);
          if (audience.size >= this.config.presence.maxFanout) break outer;
        }
      }
      cursor = page.nextCursor;
    } while (cursor);
    this.bus.volatileToUsers([...audience], undefined, 'presence', event);
  }

  private connectionId(socketId: string): string {
    return `${this.instanceId}:${socketId}`;
  }
}
