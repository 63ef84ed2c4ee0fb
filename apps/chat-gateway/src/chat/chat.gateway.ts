import { Logger } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import {
  CLIENT_EVENTS,
  UnauthorizedError,
  UnknownEventError,
  authRefreshSchema,
  markReadSchema,
  parsePayload,
  presenceQuerySchema,
  sendMessageSchema,
  syncSchema,
  typingSchema,
  UnavailableError,
  userRoom,
  type Ack,
  type ClientToServerEvents,
  type Principal,
  type ServerToClientEvents,
} from '@jobsphere/chat-domain';
import { type Server, type Socket } from 'socket.io';
import { TokenService, bearerToken, type VerifiedToken } from '../auth/token.service.js';
import { mapError } from '../common/error-table.js';
import { describe } from '../common/http-exception.filter.js';
import { LifecycleState } from '../health/lifecycle.state.js';
import { RateLimitService } from '../limits/rate-limit.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PresenceService } from '../presence/presence.service.js';
import { RealtimeBus } from '../realtime/realtime-bus.js';
import { ChatService } from './chat.service.js';
import { TypingService } from './typing.service.js';

interface SocketData {
  principal: Principal;
  expiresAt: number;
}
export type ChatServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
export type ChatSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

type Handler = (socket: ChatSocket, payload: unknown) => Promise<unknown>;

/** Warn a socket this long before its token expires, so it can refresh without a drop. */
const EXPIRY_WARNING_MS = 30_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

@WebSocketGateway()
export class ChatGateway implements OnGatewayInit<ChatServer>, OnGatewayConnection<ChatSocket> {
  private readonly logger = new Logger('ChatGateway');
  private readonly handlers: Record<(typeof CLIENT_EVENTS)[number], Handler>;
  private readonly expiryTimers = new WeakMap<ChatSocket, NodeJS.Timeout[]>();

  constructor(
    private readonly chat: ChatService,
    private readonly tokens: TokenService,
    private readonly bus: RealtimeBus,
    private readonly limits: RateLimitService,
    private readonly presence: PresenceService,
    private readonly typing: TypingService,
    private readonly metrics: MetricsService,
    private readonly lifecycle: LifecycleState,
  ) {
    this.handlers = {
      'message:send': async (socket, payload) => {
        const input = parsePayload(sendMessageSchema, payload);
        await this.limits.consume('send', socket.data.principal.userId);
        const result = await this.chat.send(socket.data.principal, input, { socketId: socket.id });
        this.typing.stop(socket.id, input.conversationId);
        return result;
      },
      sync: (socket, payload) =>
        this.chat.sync(socket.data.principal, parsePayload(syncSchema, payload)),
      'conversation:read': (socket, payload) => {
        const input = parsePayload(markReadSchema, payload);
        return this.chat.markRead(socket.data.principal, input.conversationId, input.seq, {
          socketId: socket.id,
        });
      },
      'typing:start': async (socket, payload) => {
        const { conversationId } = parsePayload(typingSchema, payload);
        await this.limits.consume('typing', socket.data.principal.userId);
        const conversation = await this.chat.memberConversation(
          socket.data.principal,
          conversationId,
        );
        this.typing.start(socket.id, socket.data.principal.userId, conversation);
        return null;
      },
      'typing:stop': async (socket, payload) => {
        this.typing.stop(socket.id, parsePayload(typingSchema, payload).conversationId);
        return null;
      },
      'presence:query': async (socket, payload) => {
        const { userIds } = parsePayload(presenceQuerySchema, payload);
        const visible = await this.chat.contactsAmong(socket.data.principal.userId, userIds);
        return { users: await this.presence.query(visible) };
      },
      'auth:refresh': (socket, payload) =>
        this.refresh(socket, parsePayload(authRefreshSchema, payload).token),
    };
  }

  afterInit(server: ChatServer): void {
    this.bus.attach(server);
    // Authentication happens in the handshake: a bad token never reaches `connection`.
    server.use((socket, next) => {
      this.admit(socket).then(
        () => next(),
        (error: unknown) =>
          next(
            Object.assign(new Error(mapError(error).body.message), { data: mapError(error).body }),
          ),
      );
    });
  }

  /**
   * Runs before the client hears `connect`: from then on its user room reaches it and it is
   * online, so nothing sent to it right away is missed and switching devices never flickers.
   */
  private async admit(socket: ChatSocket): Promise<void> {
    if (this.lifecycle.draining) throw new UnavailableError('instance draining, reconnect');
    const auth = socket.handshake.auth as { token?: unknown };
    const token =
      typeof auth.token === 'string'
        ? auth.token
        : bearerToken(socket.handshake.headers.authorization);
    const verified = await this.tokens.verify(token);
    socket.data.principal = { userId: verified.userId, role: verified.role };
    socket.data.expiresAt = verified.expiresAt;
    await socket.join(userRoom(verified.userId));
    await this.presence
      .connected(verified.userId, socket.id)
      .catch((error: unknown) => this.logger.warn(`presence update failed: ${describe(error)}`));
  }

  handleConnection(socket: ChatSocket): void {
    const { principal } = socket.data;
    socket.on('error', (error) =>
      this.logger.warn(`socket ${socket.id} error: ${describe(error)}`),
    );
    for (const event of CLIENT_EVENTS) {
      socket.on(event, (...args: unknown[]) => this.dispatch(socket, event, args));
    }
    socket.onAny((event: string, ...args: unknown[]) => {
      if ((CLIENT_EVENTS as readonly string[]).includes(event)) return;
      this.reply(socket, String(event), args, {
        ok: false,
        error: mapError(new UnknownEventError(String(event))).body,
      });
    });
    socket.on('disconnect', () => {
      this.clearExpiry(socket);
      this.typing.stopAll(socket.id);
      this.metrics.connectedSockets.dec();
      this.presence
        .disconnected(principal.userId, socket.id)
        .catch((error: unknown) => this.logger.warn(`presence update failed: ${describe(error)}`));
    });
    this.metrics.connectedSockets.inc();
    this.scheduleExpiry(socket);
  }

  private dispatch(
    socket: ChatSocket,
    event: (typeof CLIENT_EVENTS)[number],
    args: unknown[],
  ): void {
    const timer = this.metrics.ackLatency.startTimer({ event });
    const run = async (): Promise<Ack<unknown>> => {
      if (Date.now() >= socket.data.expiresAt && event !== 'auth:refresh') {
        throw new UnauthorizedError('access token expired');
      }
      return { ok: true, data: await this.handlers[event](socket, args[0]) };
    };
    run().then(
      (ack) => {
        timer({ outcome: 'ok' });
        this.reply(socket, event, args, ack);
      },
      (error: unknown) => {
        const mapped = mapError(error);
        timer({ outcome: mapped.body.code });
        if (mapped.body.code === 'UNAVAILABLE')
          this.metrics.dependencyErrors.inc({ dependency: 'store' });
        if (mapped.unexpected)
          this.logger.error(
            `${event} by ${socket.data.principal.userId} failed: ${describe(error)}`,
          );
        this.reply(socket, event, args, { ok: false, error: mapped.body });
      },
    );
  }

  /** Answers through the ack callback when the client gave one, else with a `chat:error` event. */
  private reply(socket: ChatSocket, event: string, args: unknown[], ack: Ack<unknown>): void {
    const callback = args.at(-1);
    if (typeof callback === 'function') (callback as (a: Ack<unknown>) => void)(ack);
    else if (!ack.ok) socket.emit('chat:error', { event, error: ack.error });
  }

  private async refresh(socket: ChatSocket, token: string): Promise<{ expiresAt: string }> {
    const verified: VerifiedToken = await this.tokens.verify(token);
    if (verified.userId !== socket.data.principal.userId) {
      throw new UnauthorizedError('token belongs to another user');
    }
    socket.data.principal = { userId: verified.userId, role: verified.role };
    socket.data.expiresAt = verified.expiresAt;
    this.scheduleExpiry(socket);
    return { expiresAt: new Date(verified.expiresAt).toISOString() };
  }

  /** A socket never keeps rights past `exp`: warned first, then disconnected. */
  private scheduleExpiry(socket: ChatSocket): void {
    this.clearExpiry(socket);
    const remaining = socket.data.expiresAt - Date.now();
    if (remaining > MAX_TIMER_MS) {
      // setTimeout overflows past ~24.8 days; look again later.
      const later = setTimeout(() => this.scheduleExpiry(socket), MAX_TIMER_MS);
      later.unref();
      this.expiryTimers.set(socket, [later]);
      return;
    }
    const warnIn = Math.max(0, remaining - EXPIRY_WARNING_MS);
    const timers = [
      setTimeout(() => {
        socket.emit('auth:expiring', {
          expiresAt: new Date(socket.data.expiresAt).toISOString(),
          graceMs: Math.max(0, socket.data.expiresAt - Date.now()),
        });
      }, warnIn),
      setTimeout(
        () => {
          this.logger.log(
            `token of ${socket.data.principal.userId} expired; disconnecting ${socket.id}`,
          );
          socket.disconnect(true);
        },
        Math.max(0, remaining),
      ),
    ];
    for (const t of timers) t.unref();
    this.expiryTimers.set(socket, timers);
  }

  private clearExpiry(socket: ChatSocket): void {
    for (const t of this.expiryTimers.get(socket) ?? []) clearTimeout(t);
    this.expiryTimers.delete(socket);
  }
}
