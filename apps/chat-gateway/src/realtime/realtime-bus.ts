import { Injectable } from '@nestjs/common';
import { userRoom, type ServerToClientEvents } from '@jobsphere/chat-domain';
import { type Server } from 'socket.io';

type EventName = keyof ServerToClientEvents;
type EventArgs<E extends EventName> = Parameters<ServerToClientEvents[E]>;

/**
 * Fan-out to every device of the given users: one emit to their user rooms, which the
 * Redis adapter carries to every instance. Sockets never join conversation rooms.
 */
@Injectable()
export class RealtimeBus {
  server: Server | undefined;

  attach(server: Server): void {
    this.server = server;
  }

  toUsers<E extends EventName>(userIds: string[], event: E, ...args: EventArgs<E>): void {
    this.emit(userIds, undefined, false, event, ...args);
  }

  /** Same, leaving out one socket (the sender's device, which already has the ack). */
  toUsersExcept<E extends EventName>(
    userIds: string[],
    exceptSocketId: string | undefined,
    event: E,
    ...args: EventArgs<E>
  ): void {
    this.emit(userIds, exceptSocketId, false, event, ...args);
  }

  /** Dropped rather than buffered when a client is not ready: for typing and presence. */
  volatileToUsers<E extends EventName>(
    userIds: string[],
    exceptSocketId: string | undefined,
    event: E,
    ...args: EventArgs<E>
  ): void {
    this.emit(userIds, exceptSocketId, true, event, ...args);
  }

  private emit<E extends EventName>(
    userIds: string[],
    except: string | undefined,
    volatile: boolean,
    event: E,
    ...args: EventArgs<E>
  ): void {
    if (!this.server || userIds.length === 0) return;
    let target = this.server.to(userIds.map(userRoom));
    if (except) target = target.except(except);
    if (volatile) target = target.volatile;
    (target.emit as (event: string, ...rest: unknown[]) => boolean)(event, ...args);
  }
}
