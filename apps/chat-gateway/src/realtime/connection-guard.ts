import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { type Socket } from 'socket.io';
import { type AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';

/** How often output buffers are looked at. */
const SWEEP_MS = 1_000;
const FLOOD_WINDOW_MS = 10_000;

/** Requests one socket may have in flight: a client never needs more, and answers cost memory. */
const MAX_IN_FLIGHT = 64;
/** Events whose answers are large (up to the answer cap): one or two at a time is what clients use. */
const MAX_IN_FLIGHT_PER_EVENT: Record<string, number> = { sync: 2, 'presence:query': 2 };

interface Watched {
  socket: Socket;
  userId: string;
  windowStart: number;
  packets: number;
  inFlight: Map<string, number>;
  inFlightTotal: number;
}

/**
 * What one connection may cost this instance, whatever its client does: how many sockets a user
 * holds here, how many packets a socket sends (a flood is cut off), and how much unsent output a
 * socket may pile up (a client that stops reading is cut off, and its buffers freed).
 */
@Injectable()
export class ConnectionGuard implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Connections');
  private readonly perUser = new Map<string, number>();
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Sockets this user holds on this instance. */
  localSockets(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }

  /** From `connection` to `disconnect`: counted, flood-checked, buffer-checked. */
  watch(socket: Socket, userId: string): void {
    this.perUser.set(userId, this.localSockets(userId) + 1);
    const entry: Watched = {
      socket,
      userId,
      windowStart: Date.now(),
      packets: 0,
      inFlight: new Map(),
      inFlightTotal: 0,
    };
    this.watched.set(socket.id, entry);
    socket.use((_packet, next) => {
      const now = Date.now();
      if (now - entry.windowStart >= FLOOD_WINDOW_MS) {
        entry.windowStart = now;
        entry.packets = 0;
      }
      entry.packets += 1;
      if (entry.packets <= this.config.socket.maxPacketsPer10s) return next();
      this.cutOff(
        entry,
        'flood',
        `more than ${this.config.socket.maxPacketsPer10s} packets in 10 s`,
      );
    });
    socket.once('disconnect', () => {
      this.watched.delete(socket.id);
      const left = this.localSockets(userId) - 1;
      if (left > 0) this.perUser.set(userId, left);
      else this.perUser.delete(userId);
    });
  }

  /** Output this socket has not been able to send yet, in bytes (approximately). */
  static bufferedBytes(socket: Socket): number {
    const conn = socket.conn as unknown as {
      writeBuffer?: { data?: unknown }[];
      transport?: { socket?: { bufferedAmount?: number } };
    };
    let bytes = conn.transport?.socket?.bufferedAmount ?? 0;
    for (const packet of conn.writeBuffer ?? []) {
      const data = packet.data;
      bytes += typeof data === 'string' ? data.length : ((data as Buffer | undefined)?.length ?? 0);
    }
    return bytes;
  }

  /**
   * Starts a request: false when the socket already has as many in flight as it may (the caller
   * answers RATE_LIMITED at once, without doing the work). Pair with `finish`.
   */
  begin(socket: Socket, event: string): boolean {
    const entry = this.watched.get(socket.id);
    if (!entry) return false;
    const same = entry.inFlight.get(event) ?? 0;
    if (
      entry.inFlightTotal >= MAX_IN_FLIGHT ||
      same >= (MAX_IN_FLIGHT_PER_EVENT[event] ?? Infinity)
    )
      return false;
    entry.inFlight.set(event, same + 1);
    entry.inFlightTotal += 1;
    return true;
  }

  finish(socket: Socket, event: string): void {
    const entry = this.watched.get(socket.id);
    if (!entry) return;
    entry.inFlight.set(event, Math.max(0, (entry.inFlight.get(event) ?? 0) - 1));
    entry.inFlightTotal = Math.max(0, entry.inFlightTotal - 1);
  }

  /**
   * Before answering: false (and the socket is cut off) when its unsent output is already past
   * the cap, so a client that asks and never reads cannot make the server queue more.
   */
  mayAnswer(socket: Socket): boolean {
    const entry = this.watched.get(socket.id);
    if (!entry) return false;
    return this.check(entry);
  }

  private sweep(): void {
    for (const entry of this.watched.values()) this.check(entry);
  }

  private check(entry: Watched): boolean {
    const cap = this.config.socket.maxBufferedBytes;
    const buffered = ConnectionGuard.bufferedBytes(entry.socket);
    if (buffered <= cap) return true;
    this.cutOff(entry, 'slow', `${buffered} bytes unsent (cap ${cap})`);
    return false;
  }

  /** Closes at once, dropping what is queued: a polite close would wait for the queue to drain. */
  private cutOff(entry: Watched, reason: 'flood' | 'slow', detail: string): void {
    if (!this.watched.delete(entry.socket.id)) return;
    this.metrics.socketsCutOff.inc({ reason });
    this.logger.warn(`cut off socket ${entry.socket.id} of ${entry.userId}: ${reason}, ${detail}`);
    const conn = entry.socket.conn as unknown as {
      close(discard: boolean): void;
      transport?: { socket?: { terminate?: () => void } };
    };
    const raw = conn.transport?.socket;
    conn.close(true);
    raw?.terminate?.();
  }
}
