import { io } from 'socket.io-client';

/**
 * The part of a Socket.IO client socket this client uses. A socket.io-client `Socket`
 * satisfies it as it is; tests pass a fake. One socket is one connection attempt: the client
 * runs its own reconnect loop (token refresh, backoff, moving off a draining instance), so
 * the socket must not reconnect by itself.
 */
export interface SocketLike {
  readonly connected: boolean;
  /** `connect`, `connect_error` and `disconnect`. */
  on(event: string, listener: (...args: never[]) => void): unknown;
  /** Every event the server sends (the reserved ones above excepted). */
  onAny(listener: (event: string, ...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  disconnect(): unknown;
}

export interface SocketOptions {
  token: string;
  /** The socket protocol version this client speaks (sent as `auth.protocol`). */
  protocol: number;
  /** `['websocket']` unless the application asks for more. */
  transports: readonly ('websocket' | 'polling' | 'webtransport')[];
  connectTimeoutMs: number;
}

/** Opens one socket to `url`: it connects at once and emits connect or connect_error. */
export type SocketFactory = (url: string, options: SocketOptions) => SocketLike;

/**
 * The real thing: socket.io-client (the peer dependency), one Manager per attempt and no
 * built-in reconnection. Websocket first and only by default: the gateway refuses long
 * polling unless it is configured behind sticky sessions.
 */
export const socketIoFactory: SocketFactory = (url, options) =>
  io(url, {
    auth: { token: options.token, protocol: options.protocol },
    transports: [...options.transports],
    reconnection: false,
    forceNew: true,
    timeout: options.connectTimeoutMs,
  });
