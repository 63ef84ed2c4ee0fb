import { Inject, Logger } from '@nestjs/common';
import { type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import {
  CLIENT_EVENTS,
  assertSupportedProtocol,
  RateLimitedError,
  TooManyConnectionsError,
  UnauthorizedError,
  UnavailableError,
  UnknownEventError,
  authRefreshSchema,
  conversationRefSchema,
  deleteMessageSchema,
  editMessageSchema,
  reactSchema,
  answerActionSchema,
  leaveConversationSchema,
  markDeliveredSchema,
  markReadSchema,
  organiseSchema,
  parsePayload,
  presenceQuerySchema,
  sendMessageSchema,
  settingsUpdateSchema,
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
import { TokenService, bearerToken, principalOf } from '../auth/token.service.js';
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

/** How soon a client whose socket had too many requests in flight may try again. */
const IN_FLIGHT_RETRY_MS = 100;

/** What each event costs; typing:stop only ends what a budgeted start began. */
const EVENT_BUDGET: Record<ClientEvent, BudgetScope | undefined> = {
  'message:send': 'send',
  sync: 'sync',
  'conversation:read': 'read',
  // One acknowledgement per batch of conversations; a device sends few (the SDK debounces).
  'conversation:delivered': 'read',
  // A setting changes rarely; it shares the block budget (a person's own preferences).
  // Organising a conversation is the person's own preference too.
  'conversation:organise': 'block',
  'settings:update': 'block',
  'typing:start': 'typing',
  'typing:stop': undefined,
  'presence:query': 'presence',
  'auth:refresh': 'refresh',
  'message:edit': 'revise',
  'message:delete': 'revise',
  // Its own budget: reacting 10,000 times is refused long before it costs 10,000 versions.
  'message:react': 'react',
  'message:action': 'revise',
  'conversation:accept': 'answer',
  'conversation:decline': 'answer',
  // Leaving is an answer too (rare, and it costs a version of the conversation).
  'conversation:leave': 'answer',
  'user:block': 'block',
  'user:unblock': 'block',
};

const KNOWN_EVENTS: ReadonlySet<unknown> = new Set(CLIENT_EVENTS);

/** What a connection holds of the gateway: the same three listeners for every socket. */
interface SharedListeners {
  /** Every packet: counted, then dispatched (or answered as an unknown event). */
  packet: (this: ChatSocket, event: unknown, ...args: unknown[]) => void;
  disconnect: (this: ChatSocket) => void;
  error: (this: ChatSocket, error: unknown) => void;
}

@WebSocketGateway()
export class ChatGateway implements OnGatewayInit<ChatServer> {
  private readonly logger = new Logger('ChatGateway');
  private readonly handlers: Record<ClientEvent, Handler>;
  private readonly listeners: SharedListeners;

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
      'conversation:delivered': (socket, payload) =>
        this.chat.markDelivered(socket.data.principal, parsePayload(markDeliveredSchema, payload), {
          socketId: socket.id,
        }),
      'conversation:organise': (socket, payload) =>
        this.chat.organise(socket.data.principal, parsePayload(organiseSchema, payload), {
          socketId: socket.id,
        }),
      'settings:update': (socket, payload) =>
        this.chat.updateSettings(
          socket.data.principal,
          parsePayload(settingsUpdateSchema, payload),
          { socketId: socket.id },
        ),
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
      'message:react': (socket, payload) =>
        this.chat.react(socket.data.principal, parsePayload(reactSchema, payload), {
          socketId: socket.id,
        }),
      'message:delete': (socket, payload) =>
        this.chat.delete(socket.data.principal, parsePayload(deleteMessageSchema, payload), {
          socketId: socket.id,
        }),
      'message:action': (socket, payload) =>
        this.chat.answerAction(socket.data.principal, parsePayload(answerActionSchema, payload), {
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
      'conversation:leave': (socket, payload) =>
        this.chat.leave(socket.data.principal, parsePayload(leaveConversationSchema, payload)),
      'user:block': (socket, payload) =>
        this.chat.block(socket.data.principal, parsePayload(userRefSchema, payload).userId),
      'user:unblock': (socket, payload) =>
        this.chat.unblock(socket.data.principal, parsePayload(userRefSchema, payload).userId),
    };
    // Socket.IO calls listeners with the socket as `this`: one function serves every socket,
    // where a closure per socket and event would cost each connection a dozen objects.
    const onPacket = (socket: ChatSocket, event: unknown, args: unknown[]) =>
      this.onPacket(socket, event, args);
    const onDisconnect = (socket: ChatSocket) => this.disconnected(socket);
    const logger = this.logger;
    this.listeners = {
      packet: function (event, ...args) {
        onPacket(this, event, args);
      },
      disconnect: function () {
        onDisconnect(this);
      },
      // Only the server's own errors land here; a client emitting "error" is an unknown event.
      error: function (error) {
        if (error instanceof Error) logger.warn(`socket ${this.id}: ${describeError(error)}`);
      },
    };
  }

  afterInit(server: ChatServer): void {
    this.bus.attach(server);
    // Bound here, not through Nest's OnGatewayConnection, which builds RxJS streams per client
    // (ChatIoAdapter leaves connections to this gateway).
    server.on('connection', (socket) => this.connected(socket));
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
    const auth = socket.handshake.auth as { token?: unknown; protocol?: unknown };
    assertSupportedProtocol(auth.protocol);
    const token =
      typeof auth.token === 'string'
        ? auth.token
        : bearerToken(socket.handshake.headers.authorization);
    const verified = await this.tokens.verify(token).catch(async (error: unknown) => {
      if (error instanceof UnauthorizedError) await this.budgets.consume('authFailureIp', ip);
      throw error;
    });
    const { userId } = verified;
    // A banned person's tokens open no socket (BANNED), on every instance, until unbanned.
    await this.chat.standing(userId);
    const max = this.config.socket.maxPerUser;
    if (this.guard.localSockets(userId) >= max) throw tooMany(max);
    socket.data.principal = principalOf(verified);
    socket.data.expiresAt = verified.expiresAt;
    await socket.join(userRoom(userId));
    // The count over all instances decides when Redis answers in time (counted and added in
    // one step); else this instance's (see redis-loss.policy.ts).
    const recorded = this.presence.connected(userId, socket.id, max);
    const admitted = await withDeadline(
      recorded,
      REDIS_LOSS.presenceHandshakeDeadlineMs,
      'presence',
    ).catch((error: unknown) => {
      this.logger.warn(`presence update failed or is late: ${describeError(error)}`);
      return true;
    });
    if (!admitted) {
      await socket.leave(userRoom(userId));
      throw tooMany(max);
    }
  }

  private connected(socket: ChatSocket): void {
    this.guard.watch(socket, socket.data.principal.userId);
    socket.on('error', this.listeners.error);
    socket.on('disconnect', this.listeners.disconnect);
    socket.onAny(this.listeners.packet);
    this.metrics.connectedSockets.inc();
  }

  private disconnected(socket: ChatSocket): void {
    const { userId } = socket.data.principal;
    this.guard.released(socket, userId);
    this.typing.stopAll(socket.id);
    this.metrics.connectedSockets.dec();
    this.presence
      .disconnected(userId, socket.id)
      .catch((error: unknown) =>
        this.logger.warn(`presence update failed: ${describeError(error)}`),
      );
  }

  private onPacket(socket: ChatSocket, event: unknown, args: unknown[]): void {
    // A flood is cut off before any of it runs.
    if (!this.guard.packet(socket)) return;
    if (KNOWN_EVENTS.has(event)) {
      this.dispatch(socket, event as ClientEvent, args);
      return;
    }
    this.reply(socket, logText(event, 64), args, {
      ok: false,
      error: mapError(new UnknownEventError(String(event))).body,
    });
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
    // A refreshed token may move the person to another company (or none).
    socket.data.principal = principalOf(verified);
    // The guard's sweep reads it: the old expiry no longer disconnects, the new one warns.
    socket.data.expiresAt = verified.expiresAt;
    return { expiresAt: new Date(verified.expiresAt).toISOString() };
  }
}

function tooMany(max: number): TooManyConnectionsError {
  return new TooManyConnectionsError(
    `at most ${max} connections per user; close another device or tab first`,
  );
}
