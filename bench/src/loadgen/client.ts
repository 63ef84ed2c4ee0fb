// The load generator's devices are the SDK (@jobsphere/chat-client): its connection, outbox,
// resends, sync by version and dedupe, exactly as an application runs them, for the gateway and
// the bare relay alike (the relay answers the little the SDK asks of a server). Fairness: the
// clocks are read here, at the socket, outside the SDK. A send is timed from the moment its frame
// leaves the SDK (its body's timestamp is written then, so time spent waiting in the outbox is
// not latency), its ack and every `message:new` the moment they arrive, before the SDK handles
// them. What the SDK itself costs per message is measured apart, on a fake socket and clock
// (sdk-cost.ts), and reported beside the latency tables.
import {
  createChatClient,
  socketIoFactory,
  type ChatClient,
  type SocketFactory,
  type SocketLike,
} from '@jobsphere/chat-client';
import { nowMs } from './clock.js';

export interface IncomingMessage {
  id: string;
  conversationId: string;
  seq: number;
  body: string;
}

/** What the bench sees on the wire, outside the SDK. */
export interface WireProbe {
  /** A `message:send` frame leaves (every attempt). */
  sending?(clientMessageId: string, at: number): void;
  /** Its ack arrived, `ms` after that frame left. */
  acked?(clientMessageId: string, ms: number, ok: boolean): void;
  /** A `message:new` arrived; the SDK has not seen it yet. */
  received?(message: IncomingMessage, at: number): void;
}

/**
 * Where a send's body carries its departure time: replaced on the wire by `nowMs()` with three
 * decimals (the same width until the year 2286).
 */
export const SENT_AT = '0000000000000.000';

export { nowMs } from './clock.js';

interface SendPayload {
  conversationId: string;
  clientMessageId: string;
  body: string;
}

/** socket.io-client as the SDK uses it, with the probe's clocks around it. */
export function probedSocketFactory(probe: WireProbe): SocketFactory {
  return (url, options) => {
    const socket: SocketLike = socketIoFactory(url, options);
    return {
      get connected() {
        return socket.connected;
      },
      on: (event, listener) => socket.on(event, listener),
      onAny: (listener) =>
        socket.onAny((event: string, ...args: unknown[]) => {
          if (event === 'message:new') probe.received?.(args[0] as IncomingMessage, nowMs());
          listener(event, ...args);
        }),
      emit: (event, ...args) => {
        if (event !== 'message:send') return socket.emit(event, ...args);
        const [payload, ack] = args as [SendPayload, (response: unknown) => void];
        const at = nowMs();
        probe.sending?.(payload.clientMessageId, at);
        const body = payload.body.replace(SENT_AT, at.toFixed(3));
        return socket.emit(event, { ...payload, body }, (response: unknown) => {
          const ok = (response as { ok?: unknown } | undefined)?.ok === true;
          probe.acked?.(payload.clientMessageId, nowMs() - at, ok);
          ack(response);
        });
      },
      disconnect: () => socket.disconnect(),
    };
  };
}

/**
 * One device: the SDK with its defaults, on the given instances in order of preference (it
 * moves to the next when one is unreachable, as a client behind a load balancer ends up
 * elsewhere). Nothing happens on the network before `connect()`.
 */
export function createDevice(options: {
  urls: string[];
  userId: string;
  token: string;
  probe?: WireProbe;
}): ChatClient {
  // BENCH_DELIVERED_DEBOUNCE_MS: the SDK's "delivered" acknowledgement debounce on every device
  // (default the SDK's); a very long one leaves them out, to measure what they cost the server.
  const deliveredDebounceMs = Number(process.env['BENCH_DELIVERED_DEBOUNCE_MS'] ?? NaN);
  return createChatClient({
    url: options.urls,
    userId: options.userId,
    token: options.token,
    socketFactory: probedSocketFactory(options.probe ?? {}),
    ...(Number.isFinite(deliveredDebounceMs) && { timings: { deliveredDebounceMs } }),
  });
}
