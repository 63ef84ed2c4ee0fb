import { type RedisClient } from '@jobsphere/redis-kit';

/** A user is online while any of their connections is fresh; connections expire unless refreshed. */
export interface PresenceStore {
  /** Adds or refreshes a connection: did the user go from offline to online, and how many live connections they now have. */
  connect(
    userId: string,
    connectionId: string,
    expiresAt: number,
  ): Promise<{ cameOnline: boolean; live: number }>;
  /** Removes a connection; true when that was the user's last live one (now offline). */
  disconnect(userId: string, connectionId: string, at: number): Promise<boolean>;
  /** Refreshes many connections at once (the heartbeat of one instance). */
  refresh(entries: { userId: string; connectionId: string }[], expiresAt: number): Promise<void>;
  /** Users whose connections all expired (their instance died); each is reported by one caller only. */
  sweep(now: number): Promise<string[]>;
  lookup(
    userIds: string[],
    now: number,
  ): Promise<{ userId: string; online: boolean; lastSeenAt?: number }[]>;
  /** Erasure: nothing of the user stays (connections, last seen). */
  forget(userId: string): Promise<void>;
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly connections = new Map<string, Map<string, number>>();
  private readonly lastSeen = new Map<string, number>();

  async connect(userId: string, connectionId: string, expiresAt: number) {
    const mine = this.connections.get(userId) ?? new Map<string, number>();
    const before = this.live(mine, Date.now());
    mine.set(connectionId, expiresAt);
    this.connections.set(userId, mine);
    return { cameOnline: before === 0, live: this.live(mine, Date.now()) };
  }

  async disconnect(userId: string, connectionId: string, at: number): Promise<boolean> {
    const mine = this.connections.get(userId);
    if (!mine?.delete(connectionId)) return false;
    if (this.live(mine, at) > 0) return false;
    this.connections.delete(userId);
    this.lastSeen.set(userId, at);
    return true;
  }

  async refresh(
    entries: { userId: string; connectionId: string }[],
    expiresAt: number,
  ): Promise<void> {
    for (const { userId, connectionId } of entries)
      this.connections.get(userId)?.set(connectionId, expiresAt);
  }

  async sweep(now: number): Promise<string[]> {
    const gone: string[] = [];
    for (const [userId, mine] of this.connections) {
      if (this.live(mine, now) === 0) {
        this.connections.delete(userId);
        this.lastSeen.set(userId, Math.max(...mine.values()));
        gone.push(userId);
      }
    }
    return gone;
  }

  async lookup(userIds: string[], now: number) {
    return userIds.map((userId) => {
      const online = this.live(this.connections.get(userId), now) > 0;
      const seen = this.lastSeen.get(userId);
      return { userId, online, ...(!online && seen !== undefined && { lastSeenAt: seen }) };
    });
  }

  async forget(userId: string): Promise<void> {
    this.connections.delete(userId);
    this.lastSeen.delete(userId);
  }

  private live(mine: Map<string, number> | undefined, now: number): number {
    let count = 0;
    for (const expiresAt of mine?.values() ?? []) if (expiresAt > now) count++;
    return count;
  }
}

/**
 * Presence in Redis with expiry, using only single-key commands so it works the same
 * in cluster mode:
 *   chat:presence:conn:<user>  sorted set  connectionId -> expiry (ms)
 *   chat:presence:online       sorted set  userId -> latest expiry (who may be online)
 *   chat:presence:seen:<user>  string      last seen (ms)
 * A dead instance's connections simply stop being refreshed; `sweep` finds their users.
 */
export class RedisPresenceStore implements PresenceStore {
  private static readonly ONLINE = 'chat:presence:online';

  constructor(private readonly redis: RedisClient) {}

  private conn(userId: string): string {
    return `chat:presence:conn:${userId}`;
  }

  private seen(userId: string): string {
    return `chat:presence:seen:${userId}`;
  }

  async connect(userId: string, connectionId: string, expiresAt: number) {
    const now = Date.now();
    const key = this.conn(userId);
    const before = await this.redis.zcount(key, `(${now}`, '+inf');
    // Written back to back (one round trip): the keys may live in different cluster slots.
    await Promise.all([
      this.redis.zadd(key, expiresAt, connectionId),
      this.redis.pexpireat(key, expiresAt),
      this.redis.zadd(RedisPresenceStore.ONLINE, 'GT', expiresAt, userId),
    ]);
    return { cameOnline: before === 0, live: before + 1 };
  }

  async disconnect(userId: string, connectionId: string, at: number): Promise<boolean> {
    const key = this.conn(userId);
    const removed = await this.redis.zrem(key, connectionId);
    if (removed === 0) return false;
    const remaining = await this.redis.zcount(key, `(${at}`, '+inf');
    if (remaining > 0) return false;
    await this.redis.set(this.seen(userId), String(at), 'PX', 30 * 24 * 3600 * 1000);
    // Only the caller whose ZREM took the user out reports the change.
    return (await this.redis.zrem(RedisPresenceStore.ONLINE, userId)) === 1;
  }

  async refresh(
    entries: { userId: string; connectionId: string }[],
    expiresAt: number,
  ): Promise<void> {
    // Separate commands, not a MULTI/pipeline: in cluster mode the keys live in different slots.
    // ioredis still writes them back to back without waiting for each reply.
    await Promise.all(
      entries.flatMap(({ userId, connectionId }) => [
        this.redis.zadd(this.conn(userId), expiresAt, connectionId),
        this.redis.pexpireat(this.conn(userId), expiresAt),
        this.redis.zadd(RedisPresenceStore.ONLINE, 'GT', expiresAt, userId),
      ]),
    );
  }

  async sweep(now: number): Promise<string[]> {
    const candidates = await this.redis.zrangebyscore(
      RedisPresenceStore.ONLINE,
      '-inf',
      now,
      'LIMIT',
      0,
      500,
    );
    const gone: string[] = [];
    for (const userId of candidates) {
      const key = this.conn(userId);
      await this.redis.zremrangebyscore(key, '-inf', now);
      if ((await this.redis.zcard(key)) > 0) continue;
      if ((await this.redis.zrem(RedisPresenceStore.ONLINE, userId)) === 1) {
        await this.redis.set(this.seen(userId), String(now), 'PX', 30 * 24 * 3600 * 1000);
        gone.push(userId);
      }
    }
    return gone;
  }

  async forget(userId: string): Promise<void> {
    await Promise.all([
      this.redis.del(this.conn(userId)),
      this.redis.del(this.seen(userId)),
      this.redis.zrem(RedisPresenceStore.ONLINE, userId),
    ]);
  }

  async lookup(userIds: string[], now: number) {
    return Promise.all(
      userIds.map(async (userId) => {
        const [live, seen] = await Promise.all([
          this.redis.zcount(this.conn(userId), `(${now}`, '+inf'),
          this.redis.get(this.seen(userId)),
        ]);
        const online = live > 0;
        return { userId, online, ...(!online && seen !== null && { lastSeenAt: Number(seen) }) };
      }),
    );
  }
}
