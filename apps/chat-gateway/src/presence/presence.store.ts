import { createHash } from 'node:crypto';
import { type RedisClient } from '@jobsphere/redis-kit';
import { Cluster } from 'ioredis';

/** A user is online while any of their connections is fresh; connections expire unless refreshed. */
export interface PresenceStore {
  /**
   * Adds a connection unless the user already holds `max` live ones (one atomic step over every
   * instance, so simultaneous handshakes cannot all read the same count): whether it was
   * admitted, whether the user went from offline to online, and how many live connections they
   * hold now. A connection already there is refreshed, never refused.
   */
  connect(
    userId: string,
    connectionId: string,
    expiresAt: number,
    max?: number,
  ): Promise<Admission>;
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

export interface Admission {
  admitted: boolean;
  cameOnline: boolean;
  live: number;
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly connections = new Map<string, Map<string, number>>();
  private readonly lastSeen = new Map<string, number>();

  async connect(userId: string, connectionId: string, expiresAt: number, max = Infinity) {
    const mine = this.connections.get(userId) ?? new Map<string, number>();
    const before = this.live(mine, Date.now());
    if (!mine.has(connectionId) && before >= max)
      return { admitted: false, cameOnline: false, live: before };
    mine.set(connectionId, expiresAt);
    this.connections.set(userId, mine);
    return { admitted: true, cameOnline: before === 0, live: this.live(mine, Date.now()) };
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
 * Counts and adds in one step, so the socket cap holds across instances however many handshakes
 * of one user arrive at once (a count read before the add lets them all in). Drops expired
 * connections first. KEYS[1] the user's connections; ARGV: now, connection id, its expiry, the
 * cap (0: none). Answers { admitted 0|1, live before, live after }.
 */
const CONNECT_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local before = redis.call('ZCARD', KEYS[1])
local max = tonumber(ARGV[4])
if max > 0 and before >= max and not redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  return {0, before, before}
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return {1, before, redis.call('ZCARD', KEYS[1])}
`;

/**
 * Refreshes connections: KEYS[i] is the connections key of the user holding ARGV[i + 1]; ARGV[1]
 * the new expiry (ms). Each connection's expiry and its key's are moved to it.
 */
const REFRESH_SCRIPT = lua(`
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[1], ARGV[i + 1])
  redis.call('PEXPIREAT', key, ARGV[1])
end
return #KEYS
`);

function lua(source: string): { lua: string; sha: string } {
  return { lua: source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Presence in Redis with expiry, working the same in cluster mode (the heartbeat's script takes
 * many keys on one Redis, one user's on a cluster):
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

  async connect(userId: string, connectionId: string, expiresAt: number, max = 0) {
    const [admitted, before, live] = (await this.redis.eval(
      CONNECT_SCRIPT,
      1,
      this.conn(userId),
      Date.now(),
      connectionId,
      expiresAt,
      max,
    )) as [number, number, number];
    // Another key (maybe another cluster slot): written after, only for an admitted connection.
    if (admitted === 1) await this.redis.zadd(RedisPresenceStore.ONLINE, 'GT', expiresAt, userId);
    return { admitted: admitted === 1, cameOnline: admitted === 1 && before === 0, live };
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

  /**
   * One heartbeat slice in two commands, not three per connection: a variadic ZADD GT of the
   * users on the shared set, and one script over the connection keys (on a cluster, whose keys
   * live in different slots, one script per user). At 15,000 connections a heartbeat was 45,000
   * commands every third of the TTL; their promises and replies were most of what an idle
   * instance allocated, its minor GCs and its event-loop lag.
   */
  async refresh(
    entries: { userId: string; connectionId: string }[],
    expiresAt: number,
  ): Promise<void> {
    if (entries.length === 0) return;
    const byUser = new Map<string, { userId: string; connectionId: string }[]>();
    for (const e of entries) byUser.set(e.userId, [...(byUser.get(e.userId) ?? []), e]);
    const online = this.redis.zadd(
      RedisPresenceStore.ONLINE,
      'GT',
      ...[...byUser.keys()].flatMap((userId) => [expiresAt, userId]),
    );
    const groups = this.redis instanceof Cluster ? [...byUser.values()] : [entries];
    await Promise.all([
      online,
      ...groups.map((group) =>
        this.script(
          REFRESH_SCRIPT,
          group.map((e) => this.conn(e.userId)),
          [expiresAt, ...group.map((e) => e.connectionId)],
        ),
      ),
    ]);
  }

  /** EVALSHA, and EVAL once when Redis does not hold the script (a restart, a new node). */
  private async script(
    script: { lua: string; sha: string },
    keys: string[],
    args: (string | number)[],
  ): Promise<unknown> {
    try {
      return await this.redis.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(script.lua, keys.length, ...keys, ...args);
    }
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
