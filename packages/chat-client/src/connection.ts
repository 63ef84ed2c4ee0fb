import { SOCKET_PROTOCOL } from '@jobsphere/chat-domain';
import { backoffDelay, Timer, type BackoffOptions, type Clock, type Random } from './clock.js';
import { ChatConnectError, ChatError, toChatError } from './errors.js';
import { asAck, isErrorBody } from './guards.js';
import type { ClientRequests } from './protocol.js';
import type { SocketFactory, SocketLike, SocketOptions } from './transport.js';

export type ConnectionState =
  /** `connect()` was not called yet. */
  | 'idle'
  /** The first connection is being made. */
  | 'connecting'
  | 'connected'
  /** The connection went away (or an attempt failed): the next attempt is scheduled. */
  | 'reconnecting'
  /** The server refused the credentials for good: `reconnect()` after signing in again. */
  | 'failed'
  | 'closed';

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** The URL connected to, or being tried. */
  readonly url?: string;
  /** Why the last attempt failed or the connection dropped. */
  readonly error?: ChatError;
  /** Failed attempts in a row. */
  readonly attempt: number;
  /** Clock time of the next attempt, while reconnecting. */
  readonly retryAt?: number;
  /** The instance announced it is shutting down (`server:draining`). */
  readonly draining?: boolean;
}

/**
 * Gives the access token for each connection attempt. `forceRefresh` is true after the
 * server refused the previous one (expired, revoked) or asked for a refresh.
 */
export type TokenProvider =
  string | ((context: { forceRefresh: boolean }) => string | Promise<string>);

export interface ConnectionOptions {
  urls: readonly string[];
  token: TokenProvider;
  /** Throws (WRONG_USER) for a token that is not the signed-in user's. */
  checkToken(token: string): void;
  socketFactory: SocketFactory;
  transports: SocketOptions['transports'];
  clock: Clock;
  random: Random;
  backoff: BackoffOptions;
  connectTimeoutMs: number;
  /** An instance that said it drains (or refused with UNAVAILABLE) is skipped this long. */
  avoidMs: number;
  /** A connection that lasted this long resets the backoff when it drops. */
  stableAfterMs: number;
  onStatus(status: ConnectionStatus): void;
  onEvent(name: string, payload: unknown): void;
  onConnected(): void;
  onDisconnected(error: ChatError): void;
}

type Deferred = { resolve(): void; reject(error: ChatError): void; failFast: boolean };

/**
 * One logical connection over a series of sockets: picks the URL, gets a token, maps
 * handshake refusals to typed errors, retries with capped jittered backoff (or after the
 * server's `retryAfterMs`), moves away from a draining instance, and turns requests into
 * promises with deadlines on the injected clock.
 */
export class Connection {
  private status: ConnectionStatus = { state: 'idle', attempt: 0 };
  private socket: SocketLike | undefined;
  private live = false;
  private generation = 0;
  private urlIndex = 0;
  private readonly avoid = new Map<string, number>();
  private forceRefresh = false;
  private connectedAt = 0;
  private everConnected = false;
  private readonly retry: Timer;
  private readonly deadline: Timer;
  private readonly waiting = new Set<Deferred>();
  private readonly inFlight = new Set<(error: ChatError) => void>();

  constructor(private readonly options: ConnectionOptions) {
    if (options.urls.length === 0) throw new ChatError('INVALID_PAYLOAD', 'no server URL given');
    this.retry = new Timer(options.clock);
    this.deadline = new Timer(options.clock);
  }

  get state(): ConnectionState {
    return this.status.state;
  }

  get current(): ConnectionStatus {
    return this.status;
  }

  get connected(): boolean {
    return this.live;
  }

  /** The URL in use (or to be tried next): REST goes to the same instance. */
  get url(): string {
    return this.status.url ?? this.options.urls[this.urlIndex]!;
  }

  /**
   * Starts connecting (if not already) and resolves once connected. Rejects when the server
   * refuses for good, when the client is closed, or, with `failFast`, on the first failure.
   */
  connect(failFast = false): Promise<void> {
    if (this.status.state === 'closed')
      return Promise.reject(new ChatError('CLOSED', 'the client is closed'));
    if (this.live) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) =>
      this.waiting.add({ resolve, reject, failFast }),
    );
    if (this.status.state === 'idle' || this.status.state === 'failed') this.attemptSoon(0);
    return done;
  }

  /** Drops the current connection (if any) and tries again at once. */
  reconnect(): void {
    if (this.status.state === 'closed') return;
    this.teardown(new ChatError('DISCONNECTED', 'reconnecting'));
    this.attemptSoon(0);
  }

  close(): void {
    if (this.status.state === 'closed') return;
    const error = new ChatError('CLOSED', 'the client is closed');
    this.teardown(error);
    this.retry.cancel();
    this.setStatus({ state: 'closed', attempt: 0 });
    this.settle(error);
  }

  /** `server:draining`: leave this instance before it closes, and stay off it for a while. */
  moveAway(reconnectAfterMs: number): void {
    if (!this.live) return;
    const url = this.url;
    if (this.options.urls.length > 1)
      this.avoid.set(url, this.options.clock.now() + this.options.avoidMs);
    const error = new ChatError('UNAVAILABLE', 'the server is shutting down; moving to another');
    this.teardown(error);
    const delay =
      Math.max(0, reconnectAfterMs) +
      Math.round(this.options.random() * this.options.backoff.initialMs);
    this.scheduleAttempt(delay, { error, draining: true });
  }

  /** Sends a request and resolves with its ack data; rejects with the ack's error code. */
  request<K extends keyof ClientRequests>(
    event: K,
    payload: ClientRequests[K]['payload'],
    timeoutMs: number,
  ): Promise<ClientRequests[K]['data']> {
    const socket = this.socket;
    if (!socket || !this.live)
      return Promise.reject(new ChatError('DISCONNECTED', 'not connected'));
    return new Promise((resolve, reject) => {
      const clock = this.options.clock;
      let done = false;
      const finish = (error: ChatError | undefined, data?: unknown) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        this.inFlight.delete(abort);
        if (error) reject(error);
        else resolve(data as ClientRequests[K]['data']);
      };
      const abort = (error: ChatError) => finish(error);
      const timer = clock.setTimeout(
        () => finish(new ChatError('TIMEOUT', `no answer to ${event} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.inFlight.add(abort);
      try {
        socket.emit(event, payload, (response: unknown) => {
          const ack = asAck(response);
          if (!ack) finish(new ChatError('PROTOCOL', `unreadable answer to ${event}`));
          else if (ack.ok) finish(undefined, ack.data);
          else finish(ChatError.fromBody(ack.error));
        });
      } catch (error) {
        finish(toChatError(error, 'DISCONNECTED'));
      }
    });
  }

  /** Fire and forget (typing): dropped when not connected. */
  notify(event: 'typing:start' | 'typing:stop', payload: { conversationId: string }): void {
    if (this.live) this.socket?.emit(event, payload);
  }

  /** Gets a token for the next attempts from the provider (used for `auth:refresh`). */
  async token(forceRefresh: boolean): Promise<string> {
    const provider = this.options.token;
    const token = typeof provider === 'string' ? provider : await provider({ forceRefresh });
    if (typeof token !== 'string' || token.length === 0)
      throw new ChatError('TOKEN', 'the token provider returned no token');
    this.options.checkToken(token);
    return token;
  }

  private attemptSoon(delay: number): void {
    this.scheduleAttempt(delay, {});
  }

  private scheduleAttempt(delay: number, extra: { error?: ChatError; draining?: boolean }): void {
    const retryAt = this.options.clock.now() + delay;
    const state = this.everConnected ? 'reconnecting' : 'connecting';
    this.setStatus({
      state,
      attempt: this.status.attempt,
      url: this.options.urls[this.pickUrl()]!,
      ...(extra.error && { error: extra.error }),
      ...(extra.draining && { draining: true }),
      ...(delay > 0 && { retryAt }),
    });
    this.retry.set(delay, () => void this.attempt());
  }

  private async attempt(): Promise<void> {
    const generation = ++this.generation;
    this.urlIndex = this.pickUrl();
    const url = this.options.urls[this.urlIndex]!;
    const timeoutMs = this.options.connectTimeoutMs;
    const { retryAt: _retryAt, ...status } = this.status;
    this.setStatus({ ...status, url });
    let token: string;
    try {
      token = await this.withDeadline(
        this.token(this.forceRefresh),
        timeoutMs,
        'the token provider',
      );
    } catch (error) {
      if (generation !== this.generation) return;
      const cause = toChatError(error, 'TOKEN');
      this.failed(
        cause.code === 'WRONG_USER'
          ? new ChatConnectError('WRONG_USER', cause.message, url, { cause })
          : new ChatConnectError('TOKEN', `no access token: ${cause.message}`, url, { cause }),
        url,
      );
      return;
    }
    if (generation !== this.generation) return;
    let socket: SocketLike;
    try {
      socket = this.options.socketFactory(url, {
        token,
        protocol: SOCKET_PROTOCOL.current,
        transports: this.options.transports,
        connectTimeoutMs: timeoutMs,
      });
    } catch (error) {
      this.failed(
        new ChatConnectError('NETWORK', `could not open a socket to ${url}: ${String(error)}`, url),
        url,
      );
      return;
    }
    this.socket = socket;
    const current = () => generation === this.generation;
    this.deadline.set(timeoutMs, () => {
      if (!current() || this.live) return;
      this.drop(socket);
      this.failed(
        new ChatConnectError('TIMEOUT', `no answer from ${url} within ${timeoutMs} ms`, url),
        url,
      );
    });
    socket.on('connect', () => {
      if (!current()) return;
      this.deadline.cancel();
      this.live = true;
      this.everConnected = true;
      this.forceRefresh = false;
      this.connectedAt = this.options.clock.now();
      this.setStatus({ state: 'connected', url, attempt: this.status.attempt });
      for (const w of [...this.waiting]) w.resolve();
      this.waiting.clear();
      this.options.onConnected();
    });
    socket.on('connect_error', (error: Error & { data?: unknown }) => {
      if (!current() || this.live) return;
      this.deadline.cancel();
      this.drop(socket);
      this.failed(connectError(error, url), url);
    });
    socket.on('disconnect', (reason: string) => {
      if (!current() || !this.live) return;
      this.dropped(new ChatError('DISCONNECTED', `connection lost (${reason})`));
    });
    socket.onAny((event: string, payload: unknown) => {
      if (current() && this.live) this.options.onEvent(event, payload);
    });
  }

  private failed(error: ChatConnectError, url: string): void {
    this.socket = undefined;
    const attempt = this.status.attempt + 1;
    const fastWaiter = [...this.waiting].some((w) => w.failFast);
    const backoff = backoffDelay(attempt - 1, this.options.backoff, this.options.random);
    if (fastWaiter && !this.everConnected) {
      this.setStatus({ state: 'closed', url, error, attempt });
      this.settle(error);
      return;
    }
    let delay = backoff;
    switch (error.code) {
      // Another user's token, or a gateway that does not speak this client's protocol:
      // retrying cannot help (and another user's token would act as them).
      case 'WRONG_USER':
      case 'UNSUPPORTED_PROTOCOL':
      case 'BANNED': // a moderator banned the user: no token of theirs connects until an unban
        this.setStatus({ state: 'failed', url, error, attempt });
        this.settle(error);
        return;
      case 'UNAUTHORIZED':
        if (this.forceRefresh) {
          // A freshly provided token was refused too: only the application can fix that.
          this.setStatus({ state: 'failed', url, error, attempt });
          this.settle(error);
          return;
        }
        this.forceRefresh = true;
        delay = Math.round(this.options.random() * this.options.backoff.initialMs);
        break;
      case 'RATE_LIMITED':
        delay = Math.max(
          (error.retryAfterMs ?? 0) +
            Math.round(this.options.random() * this.options.backoff.initialMs),
          backoff,
        );
        break;
      case 'UNAVAILABLE':
        if (this.options.urls.length > 1) {
          this.avoid.set(url, this.options.clock.now() + this.options.avoidMs);
          delay = Math.round(this.options.random() * this.options.backoff.initialMs);
        }
        break;
      case 'NETWORK':
      case 'TIMEOUT':
        this.urlIndex = (this.urlIndex + 1) % this.options.urls.length;
        break;
      default:
        break;
    }
    this.status = { ...this.status, attempt };
    this.scheduleAttempt(delay, { error });
  }

  private dropped(error: ChatError): void {
    const stable = this.options.clock.now() - this.connectedAt >= this.options.stableAfterMs;
    this.teardown(error);
    // A connection that keeps dropping right after it opens backs off like failed attempts.
    const attempt = stable ? 0 : this.status.attempt + 1;
    this.status = { ...this.status, attempt };
    this.scheduleAttempt(backoffDelay(attempt, this.options.backoff, this.options.random), {
      error,
    });
  }

  /** Closes the socket (if any) without treating it as a drop, and fails what waits on it. */
  private teardown(error: ChatError): void {
    this.generation++;
    this.deadline.cancel();
    const socket = this.socket;
    const wasLive = this.live;
    this.socket = undefined;
    this.live = false;
    if (socket) this.drop(socket);
    for (const abort of [...this.inFlight]) abort(error);
    if (wasLive) this.options.onDisconnected(error);
  }

  private drop(socket: SocketLike): void {
    try {
      socket.disconnect();
    } catch {
      // Already gone.
    }
  }

  private settle(error: ChatError): void {
    for (const w of [...this.waiting]) w.reject(error);
    this.waiting.clear();
  }

  /** The next URL not avoided, from the current one on; all avoided: the soonest free. */
  private pickUrl(): number {
    const urls = this.options.urls;
    const now = this.options.clock.now();
    let best = this.urlIndex;
    let bestUntil = Number.POSITIVE_INFINITY;
    for (let i = 0; i < urls.length; i++) {
      const index = (this.urlIndex + i) % urls.length;
      const until = this.avoid.get(urls[index]!) ?? 0;
      if (until <= now) return index;
      if (until < bestUntil) [best, bestUntil] = [index, until];
    }
    return best;
  }

  private withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = this.options.clock.setTimeout(
        () => reject(new ChatError('TIMEOUT', `${what} did not answer within ${ms} ms`)),
        ms,
      );
      promise.then(
        (value) => {
          this.options.clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          this.options.clock.clearTimeout(timer);
          reject(toChatError(error, 'TOKEN'));
        },
      );
    });
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    this.options.onStatus(status);
  }
}

/** What a refused or failed handshake means, as a typed error. */
function connectError(error: Error & { data?: unknown }, url: string): ChatConnectError {
  const data = error.data;
  if (isErrorBody(data)) {
    const details = {
      cause: error,
      ...(data.retryAfterMs !== undefined && { retryAfterMs: data.retryAfterMs }),
    };
    return new ChatConnectError(data.code, data.message, url, details);
  }
  if (error.message === 'timeout')
    return new ChatConnectError('TIMEOUT', `no answer from ${url}`, url, { cause: error });
  return new ChatConnectError(
    'NETWORK',
    `could not reach ${url} (${error.message}); is the gateway running there, and does it accept websocket?`,
    url,
    { cause: error },
  );
}
