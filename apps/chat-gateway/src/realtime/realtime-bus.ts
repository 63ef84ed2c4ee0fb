import { Injectable, type Logger } from '@nestjs/common';
import { userRoom, type FanOut, type ServerToClientEvents } from '@jobsphere/chat-domain';
import { type Server } from 'socket.io';
import { MetricsService } from '../metrics/metrics.service.js';

type EventName = keyof ServerToClientEvents;

/** Rooms the Redis adapter gives a channel of their own: one per user, subscribed where they are. */
export function isUserRoom(room: string): boolean {
  return room.startsWith('user:');
}

/**
 * The one owner of the Socket.IO server (nothing else holds it): fan-out to every device of
 * the given users, by their user rooms. Sockets never join conversation rooms. With Redis, the
 * adapter publishes once per user room on that user's channel, so a message reaches only the
 * instances where a recipient has a socket (redis-kit's routed adapter).
 */
@Injectable()
export class RealtimeBus implements FanOut {
  private server: Server | undefined;

  constructor(private readonly metrics: MetricsService) {}

  attach(server: Server): void {
    this.server = server;
  }

  toUsers<E extends EventName>(
    userIds: readonly string[],
    event: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
    options: { exceptSocketId?: string; volatile?: boolean } = {},
  ): void {
    if (!this.server || userIds.length === 0) return;
    if (event === 'message:new') this.metrics.messagesDelivered.inc(userIds.length);
    let target = this.server.to(userIds.map(userRoom));
    if (options.exceptSocketId) target = target.except(options.exceptSocketId);
    if (options.volatile) target = target.volatile;
    (target.emit as (event: string, payload: unknown) => boolean)(event, payload);
  }

  /** To sockets in these rooms (by room name, e.g. rooms a dropped broadcast missed). */
  toRooms<E extends EventName>(
    rooms: readonly string[],
    event: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
  ): void {
    if (!this.server || rooms.length === 0) return;
    (this.server.to([...rooms]).emit as (e: string, p: unknown) => boolean)(event, payload);
  }

  /** To every socket of every instance. */
  toEveryone<E extends EventName>(event: E, payload: Parameters<ServerToClientEvents[E]>[0]): void {
    (this.server?.emit as ((e: string, p: unknown) => boolean) | undefined)?.(event, payload);
  }

  /** To the sockets of this instance only (nothing crosses Redis). */
  toLocal<E extends EventName>(event: E, payload: Parameters<ServerToClientEvents[E]>[0]): void {
    (this.server?.local.emit as ((e: string, p: unknown) => boolean) | undefined)?.(event, payload);
  }

  /** Disconnects every socket of these users, on every instance (an erased person). */
  disconnectUsers(userIds: readonly string[]): void {
    if (!this.server || userIds.length === 0) return;
    this.server.in(userIds.map(userRoom)).disconnectSockets(true);
  }

  hasLocalSocket(socketId: string): boolean {
    return this.server?.of('/').sockets.has(socketId) ?? false;
  }

  localSocketCount(): number {
    return this.server?.of('/').sockets.size ?? 0;
  }

  /**
   * Tells every local socket to reconnect elsewhere, then disconnects the ones that stay,
   * spread over the drain window so a rolling deploy does not become a reconnect storm.
   * HTTP keeps answering (503 on /health, refusing new sockets) for the whole window, so
   * the load balancer sees the instance leave instead of getting refused connections.
   */
  async drain(drainMs: number, log: Logger): Promise<void> {
    const server = this.server;
    if (!server) return;
    log.log(`draining ${server.of('/').sockets.size} sockets over ${drainMs} ms`);
    this.toLocal('server:draining', { reconnectAfterMs: 0 });
    const tickMs = 100;
    const ticks = Math.max(1, Math.floor(drainMs / tickMs));
    for (let tick = 0; tick < ticks; tick++) {
      const connected = [...server.of('/').sockets.values()];
      // Clients get the first half of the window to leave by themselves.
      const remainingTicks = ticks - tick;
      if (connected.length > 0 && remainingTicks <= ticks / 2) {
        const share = Math.ceil(connected.length / remainingTicks);
        for (const socket of connected.slice(0, share)) socket.disconnect(true);
      }
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    server.local.disconnectSockets(true);
  }
}
