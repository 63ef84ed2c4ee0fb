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

/**
 * Every socket is looked at once a second, a tenth of them every 100 ms: one pass over 15,000
 * sockets at once is a pause every other socket waits behind.
 */
const SLICE_MS = 100;
const SLICES = 10;
const FLOOD_WINDOW_MS = 10_000;
/** Warn a socket this long before its token expires, so it can refresh without a drop. */
const EXPIRY_WARNING_MS = 30_000;

/** Requests one socket may have in flight: a client never needs more, and answers cost memory. */
const MAX_IN_FLIGHT = 64;
/** Events whose answers are large (up to the answer cap): one or two at a time is what clients use. */
const MAX_IN_FLIGHT_PER_EVENT: Record<string, number> = { sync: 2, 'presence:query': 2 };

/** The part of a socket's data the guard reads: when its token expires (ms since the epoch). */
interface Expiring {
  expiresAt: number;
}

/** Plain fields only: at 15,000 sockets every object held per socket is 15,000 objects. */
interface Watched {
  socket: Socket;
  userId: string;
  windowStart: number;
  packets: number;
  inFlightTotal: number;
  /** Only for the events capped on their own (created on first use). */
  inFlight: Record<string, number> | undefined;
  /** The expiry already warned about; a refreshed token gets its own warning. */
  warnedFor: number;
}

/**
 * What one connection may cost this instance, whatever its client does: how many sockets a user
 * holds here, how many packets a socket sends (a flood is cut off), how much unsent output a
 * socket may pile up (a client that stops reading is cut off, and its buffers freed), and how
 * long it stays once its token expires (warned first, disconnected at `exp`, within a second).
 * It holds no timer and no listener per socket: the gateway reports packets and disconnects,
 * and one interval walks the sockets a slice at a time.
 */
@Injectable()
export class ConnectionGuard implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Connections');
  private readonly perUser = new Map<string, number>();
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private cursor: Iterator<Watched> | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.sweepSlice(Date.now()), SLICE_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Sockets this user holds on this instance. */
  localSockets(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }

  /** From `connection` to `released`: counted, flood-checked, buffer-checked, expired. */
  watch(socket: Socket, userId: string): void {
    this.perUser.set(userId, this.localSockets(userId) + 1);
    this.watched.set(socket.id, {
      socket,
      userId,
      windowStart: Date.now(),
      packets: 0,
      inFlightTotal: 0,
      inFlight: undefined,
      warnedFor: 0,
    });
  }

  /** The socket disconnected (once per watched socket, cut off or not): it no longer counts. */
  released(socket: Socket, userId: string): void {
    this.watched.delete(socket.id);
    const left = this.localSockets(userId) - 1;
    if (left > 0) this.perUser.set(userId, left);
    else this.perUser.delete(userId);
  }

  /**
   * Every packet the client sends, before any work: false once the socket sent more than its
   * share in the window (it is cut off then, and nothing of the packet runs).
   */
  packet(socket: Socket): boolean {
    const entry = this.watched.get(socket.id);
    if (!entry) return false;
    const now = Date.now();
    if (now - entry.windowStart >= FLOOD_WINDOW_MS) {
      entry.windowStart = now;
      entry.packets = 0;
    }
    entry.packets += 1;
    if (entry.packets <= this.config.socket.maxPacketsPer10s) return true;
    this.cutOff(entry, 'flood', `more than ${this.config.socket.maxPacketsPer10s} packets in 10 s`);
    return false;
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
    if (!entry || entry.inFlightTotal >= MAX_IN_FLIGHT) return false;
    const cap = MAX_IN_FLIGHT_PER_EVENT[event];
    if (cap !== undefined) {
      const counts = (entry.inFlight ??= {});
      const same = counts[event] ?? 0;
      if (same >= cap) return false;
      counts[event] = same + 1;
    }
    entry.inFlightTotal += 1;
    return true;
  }

  finish(socket: Socket, event: string): void {
    const entry = this.watched.get(socket.id);
    if (!entry) return;
    const counts = entry.inFlight;
    if (counts?.[event] !== undefined) counts[event] = Math.max(0, counts[event] - 1);
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

  /** One slice of the sockets; a full pass takes SLICES ticks (about a second). */
  private sweepSlice(now: number): void {
    let left = Math.ceil(this.watched.size / SLICES);
    while (left-- > 0) {
      this.cursor ??= this.watched.values();
      const next = this.cursor.next();
      if (next.done) {
        // The pass is over; the next tick starts the next one.
        this.cursor = undefined;
        return;
      }
      const entry = next.value;
      if (this.check(entry)) this.expire(entry, now);
    }
  }

  /** A socket never keeps rights past `exp`: warned first, then disconnected. */
  private expire(entry: Watched, now: number): void {
    const { socket } = entry;
    const { expiresAt } = socket.data as Expiring;
    if (now >= expiresAt) {
      this.logger.log(`token of ${entry.userId} expired; disconnecting ${socket.id}`);
      socket.disconnect(true);
      return;
    }
    if (now < expiresAt - EXPIRY_WARNING_MS || entry.warnedFor === expiresAt) return;
    entry.warnedFor = expiresAt;
    socket.emit('auth:expiring', {
      expiresAt: new Date(expiresAt).toISOString(),
      graceMs: expiresAt - now,
    });
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
