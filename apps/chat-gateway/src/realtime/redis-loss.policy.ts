import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { type ServerToClientEvents } from '@jobsphere/chat-domain';
import { REDIS_ADAPTER, type RedisConnectedAdapter } from '@jobsphere/redis-kit';
import { RealtimeBus } from './realtime-bus.js';

/**
 * What this gateway does when it loses Redis. Everything about it is decided here; the code that
 * carries it out points back to this file.
 *
 * | what                     | while Redis is unreachable or stalls                       | afterwards                                   |
 * |--------------------------|------------------------------------------------------------|----------------------------------------------|
 * | sends and the store      | unaffected: stored and acked as usual                      | -                                            |
 * | live fan-out             | a publish that fails (refused, or no answer within          | local sockets get `sync:required`; so do the  |
 * |                          | REDIS_COMMAND_TIMEOUT_MS) is dropped, never queued (a late  | rooms this instance failed to reach (or      |
 * |                          | broadcast is worse than a missed one): this instance's own  | everyone, past the remembered cap)           |
 * |                          | recipients get it locally then, other instances' rooms are  |                                              |
 * |                          | remembered. A lost subscriber delivers nothing live, not    |                                              |
 * |                          | even local (local delivery is Redis's echo, for one order)  |                                              |
 * | budgets (rate limits)    | each instance holds them on its own (fail open per instance)| shared again                                 |
 * | presence                 | handshakes wait at most 500 ms for it, then go on; updates  | heartbeats refresh it; a missed offline is   |
 * |                          | fail and are logged; the socket cap counts this instance's  | swept within the TTL                         |
 * |                          | sockets alone                                                |                                              |
 * | token deny-list          | each instance refuses the erasures it recorded or already    | shared again                                 |
 * |                          | saw; others' wait for Redis (a lookup waits at most 250 ms,  |                                              |
 * |                          | then goes on with what this instance knows; logged)          |                                              |
 * | bans, slow mode          | a restriction is read from the store (bans hold); slow mode | shared again (cached from the store)         |
 * |                          | lets sends through (logged)                                  |                                              |
 * | /health (target group)   | 200: a shared dependency is not this instance's fault;      | 200                                          |
 * |                          | `dependencies.redis` says down, per client                  |                                              |
 * | /health/ready            | 503 (Redis does not answer within 1 s)                      | 200                                          |
 * | /health/live             | 200                                                          | 200                                          |
 */
export const REDIS_LOSS = {
  /** Publisher and subscriber both report their comeback: tell clients once. */
  syncRequiredDebounceMs: 250,
  /** How long a handshake waits for presence (and the shared socket count). */
  presenceHandshakeDeadlineMs: 500,
  /** How long a handshake or REST call waits for the shared token deny-list. */
  revocationLookupDeadlineMs: 250,
  /**
   * How long marking or taking an unannounced send waits (chat/unannounced-sends.ts). A mark
   * lost here leaves a late-landing message to `sync`, as before the mark existed.
   */
  unannouncedDeadlineMs: 250,
  /**
   * How long a restriction lookup or a slow-mode slot waits (moderation-gate.service.ts): a
   * restriction is then read from the store (bans hold), a slot lets the send through.
   */
  moderationDeadlineMs: 250,
  /** Rooms remembered as having missed a broadcast; past this, everyone is told to sync. */
  maxMissedRooms: 10_000,
} as const;

/** Rooms that missed a broadcast while Redis was away; filled by the adapter, built before it. */
export class MissedBroadcasts {
  readonly rooms = new Set<string>();
  overflowed = false;

  add(rooms: string[]): void {
    for (const room of rooms) {
      if (this.rooms.size >= REDIS_LOSS.maxMissedRooms) {
        this.overflowed = true;
        return;
      }
      this.rooms.add(room);
    }
  }

  clear(): void {
    this.rooms.clear();
    this.overflowed = false;
  }
}

@Injectable()
export class RedisLossPolicy implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RedisLoss');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: RealtimeBus,
    private readonly missed: MissedBroadcasts,
    @Optional() @Inject(REDIS_ADAPTER) private readonly adapter: RedisConnectedAdapter | null,
  ) {}

  onApplicationBootstrap(): void {
    this.adapter?.onRecovered(() => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.recovered(), REDIS_LOSS.syncRequiredDebounceMs);
      this.timer.unref();
    });
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }

  private recovered(): void {
    const event: Parameters<ServerToClientEvents['sync:required']>[0] = {
      reason: 'redis-reconnected',
    };
    const { rooms, overflowed } = this.missed;
    this.logger.warn(
      `Redis is back: asking local clients${overflowed ? ' and everyone' : rooms.size > 0 ? ` and ${rooms.size} rooms that missed a broadcast` : ''} to sync`,
    );
    this.bus.toLocal('sync:required', event);
    if (overflowed) this.bus.toEveryone('sync:required', event);
    else if (rooms.size > 0) this.bus.toRooms([...rooms], 'sync:required', event);
    this.missed.clear();
  }
}
