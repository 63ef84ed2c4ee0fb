import { Inject, Logger } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import {
  CLIENT_EVENTS,
  RateLimitedError,
  TooManyConnectionsError,
  UnauthorizedError,
  UnavailableError,
  UnknownEventError,
  authRefreshSchema,
  conversationRefSchema,
  deleteMessageSchema,
  editMessageSchema,
  markReadSchema,
  parsePayload,
  presenceQuerySchema,
  sendMessageSchema,
  syncSchema,
  typingSchema,
  userRefSchema,
  userRoom,
  withDeadline,
  type Ack,
  type Chat,
  type ClientToServerEvents,
  type Principal,
  type ServerToClientEvents,
} from '@jobsphere/chat-domain';
import { type Server, type Socket } from 'socket.io';
import { TokenService, bearerToken } from '../auth/token.service.js';
import { clientIp } from '../common/client-ip.js';
import { mapError } from '../common/error-table.js';
import { describeError, logText } from '../common/log-text.js';
import { type AppConfig, type BudgetScope } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LifecycleState } from '../health/lifecycle.state.js';
import { BudgetService } from '../limits/budget.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PresenceService } from '../presence/presence.service.js';
import { ConnectionGuard } from '../realtime/connection-guard.js';
import { RealtimeBus } from '../realtime/realtime-bus.js';
import { REDIS_LOSS } from '../realtime/redis-loss.policy.js';
import { CHAT } from './chat.tokens.js';
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

type ClientEvent = (typeof CLIENT_EVENTS)[number];
type Handler = (socket: ChatSocket, payload: unknown) => Promise<unknown>;

/** Warn a socket this long before its token expires, so it can refresh without a drop. */
const EXPIRY_WARNING_MS = 30_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How soon a client whose socket had too many requests in flight may try again. */
const IN_FLIGHT_RETRY_MS = 100;

/** What each event costs; typing:stop only ends what a budgeted start began. */
const EVENT_BUDGET: Record<ClientEvent, BudgetScope | undefined> = {
  'message:send': 'send',
  sync: 'sync',
  'conversation:read': 'read',
  'typing:start': 'typing',
  'typing:stop': undefined,
  'presence:query': 'presence',
  'auth:refresh': 'refresh',
  'message:edit': 'revise',
  'message:delete': 'revise',
  'conversation:accept': 'answer',
  'conversation:decline': 'answer',
  'user:block': 'block',
  'user:unblock': 'block',
};

@WebSocketGateway()
export class ChatGateway implements OnGatewayInit<ChatServer>, OnGatewayConnection<ChatSocket> {
  private readonly logger = new Logger('ChatGateway');
  private readonly handlers: Record<ClientEvent, Handler>;
  private readonly expiryTimers = new WeakMap<ChatSocket, NodeJS.Timeout[]>();

  constructor(
    @Inject(CHAT) private readonly chat: Chat,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: TokenService,
    private readonly bus: RealtimeBus,
    private readonly budgets: BudgetService,
    private readonly presence: PresenceService,
    private readonly typing: TypingService,
    private readonly guard: ConnectionGuard,
    private readonly metrics: MetricsService,
    private readonly lifecycle: LifecycleState,
  ) {
    this.handlers = {
      'message:send': async (socket, payload) => {
        const input = parsePayload(sendMessageSchema, payload);
        const result = await this.chat.send(socket.data.principal, input, { socketId: socket.id });
        this.typing.stop(socket.id, input.conversationId);
        if (!result.duplicate) this.metrics.messagesStored.inc();
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
        // Only those who may see this user's activity here; refused across a block.
        const { audience } = await this.chat.typingAudience(socket.data.principal, conversationId);
        this.typing.start(socket.id, socket.data.principal.userId, conversationId, audience);
        return null;
      },
      'typing:stop': async (socket, payload) => {
        this.typing.stop(socket.id, parsePayload(typingSchema, payload).conversationId);
        return null;
      },
      'presence:query': async (socket, payload) => {
        const { userIds } = parsePayload(presenceQuerySchema, payload);
        const visible = await this.chat.visibleContacts(socket.data.principal.userId, userIds);
        return { users: await this.presence.query(visible) };
      },
      'auth:refresh': (socket, payload) =>
        this.refresh(socket, parsePayload(authRefreshSchema, payload).token),
      'message:edit': (socket, payload) =>
        this.chat.edit(socket.data.principal, parsePayload(editMessageSchema, payload), {
          socketId: socket.id,
        }),
      'message:delete': (socket, payload) =>
        this.chat.delete(socket.data.principal, parsePayload(deleteMessageSchema, payload), {
          socketId: socket.id,
        }),
      'conversation:accept': (socket, payload) =>
        this.chat.answerRequest(
          socket.data.principal,
          parsePayload(conversationRefSchema, payload).conversationId,
          'accept',
        ),
      'conversation:decline': (socket, payload) =>
        this.chat.answerRequest(
          socket.data.principal,
          parsePayload(conversationRefSchema, payload).conversationId,
          'decline',
        ),
      'user:block': (socket, payload) =>
        this.chat.block(socket.data.principal, parsePayload(userRefSchema, payload).userId),
      'user:unblock': (socket, payload) =>
        this.chat.unblock(socket.data.principal, parsePayload(userRefSchema, payload).userId),
    };
  }

  afterInit(server: ChatServer): void {
    this.bus.attach(server);
    // Authentication happens in the handshake: a bad token never reaches `connection`.
    server.use((socket, next) => {
      this.admit(socket).then(
        () => next(),
        (error: unknown) => {
          const { body } = mapError(error);
          this.metrics.connectionsRefused.inc({ code: body.code });
          next(Object.assign(new Error(body.message), { data: body }));
        },
      );
    });
  }

  /**
   * Runs before the client hears `connect`: from then on its user room reaches it and it is
   * online, so nothing sent to it right away is missed and switching devices never flickers.
   * Every step is budgeted or bounded in time: a flood of handshakes costs little.
   */
  private async admit(socket: ChatSocket): Promise<void> {
    if (this.lifecycle.draining) throw new UnavailableError('instance draining, reconnect');
    const ip = clientIp(
      socket.handshake.address,
      socket.handshake.headers['x-forwarded-for'],
      this.config.http.trustProxyHops,
    );
    await this.budgets.consume('handshakeIp', ip);
    const auth = socket.handshake.auth as { token?: unknown };
    const token =
      typeof auth.token === 'string'
        ? auth.token
        : bearerToken(socket.handshake.headers.authorization);
    const verified = await this.tokens.verify(token).catch(async (error: unknown) => {
      await this.budgets.consume('authFailureIp', ip);
      throw error;
    });
    const { userId } = verified;
    const max = this.config.socket.maxPerUser;
    if (this.guard.localSockets(userId) >= max) throw tooMany(max);
    socket.data.principal = { userId, role: verified.role };
    socket.data.expiresAt = verified.expiresAt;
    await socket.join(userRoom(userId));
    // The count over all instances decides when Redis answers in time; else this instance's
    // (see redis-loss.policy.ts).
    const recorded = this.presence.connected(userId, socket.id);
    const live = await withDeadline(
      recorded,
      REDIS_LOSS.presenceHandshakeDeadlineMs,
      'presence',
    ).catch((error: unknown) => {
      this.logger.warn(`presence update failed or is late: ${describeError(error)}`);
      return 0;
    });
    if (live > max) {
      await socket.leave(userRoom(userId));
      void this.presence.disconnected(userId, socket.id).catch(() => undefined);
      throw tooMany(max);
    }
  }

  handleConnection(socket: ChatSocket): void {
    const { principal } = socket.data;
    this.guard.watch(socket, principal.userId);
    // Only the server's own errors land here; a client emitting "error" is an unknown event.
    socket.on('error', (error: unknown) => {
      if (error instanceof Error) this.logger.warn(`socket ${socket.id}: ${describeError(error)}`);
    });
    for (const event of CLIENT_EVENTS) {
      socket.on(event, (...args: unknown[]) => this.dispatch(socket, event, args));
    }
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if ((CLIENT_EVENTS as readonly unknown[]).includes(event)) return;
      this.reply(socket, logText(event, 64), args, {
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
        .catch((error: unknown) =>
          this.logger.warn(`presence update failed: ${describeError(error)}`),
        );
    });
    this.metrics.connectedSockets.inc();
    this.scheduleExpiry(socket);
  }

  private dispatch(socket: ChatSocket, event: ClientEvent, args: unknown[]): void {
    const timer = this.metrics.ackLatency.startTimer({ event });
    let started = false;
    const run = async (): Promise<Ack<unknown>> => {
      // Cut off (a flood, a client that stopped reading): no work for an answer nobody gets.
      if (socket.disconnected) throw new UnavailableError('socket closed');
      if (!(started = this.guard.begin(socket, event))) {
        throw new RateLimitedError(
          IN_FLIGHT_RETRY_MS,
          'too many requests in flight on this socket',
        );
      }
      if (Date.now() >= socket.data.expiresAt && event !== 'auth:refresh') {
        throw new UnauthorizedError('access token expired');
      }
      const scope = EVENT_BUDGET[event];
      if (scope) await this.budgets.consume(scope, socket.data.principal.userId);
      return { ok: true, data: await this.handlers[event](socket, args[0]) };
    };
    run()
      .finally(() => {
        if (started) this.guard.finish(socket, event);
      })
      .then(
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
              `${event} by ${socket.data.principal.userId} failed: ${describeError(error)}`,
            );
          this.reply(socket, event, args, { ok: false, error: mapped.body });
        },
      );
  }

  /** Answers through the ack callback when the client gave one, else with a `chat:error` event. */
  private reply(socket: ChatSocket, event: string, args: unknown[], ack: Ack<unknown>): void {
    if (!this.guard.mayAnswer(socket)) return;
    const callback = args.at(-1);
    if (typeof callback === 'function') (callback as (a: Ack<unknown>) => void)(ack);
    else if (!ack.ok) socket.emit('chat:error', { event, error: ack.error });
  }

  private async refresh(socket: ChatSocket, token: string): Promise<{ expiresAt: string }> {
    const verified = await this.tokens.verify(token);
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

function tooMany(max: number): TooManyConnectionsError {
  return new TooManyConnectionsError(
    `at most ${max} connections per user; close another device or tab first`,
  );
}
