import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { type Socket as ClientSocket, io as connectClient } from 'socket.io-client';
import {
  type RedisConnectedAdapter,
  type RedisConfig,
  type RedisKitLogger,
  createRedisAdapter,
} from '../src/index.js';

/** Collects what the kit logs, so a test can look at it and nothing is printed. */
export function memoryLogger(): RedisKitLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log: (m) => lines.push(`log ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

/** Records unhandled rejections for the life of a test file. */
export function trackUnhandledRejections(): { reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => reasons.push(reason);
  process.on('unhandledRejection', listener);
  return { reasons, stop: () => process.off('unhandledRejection', listener) };
}

export interface Instance {
  io: Server;
  port: number;
  handle: RedisConnectedAdapter;
  /** What this instance's adapter published and received, in messages. */
  traffic: { in: number; out: number };
}

/** One gateway-like Socket.IO server on an ephemeral port, fanning out through the kit's adapter. */
export async function startInstance(
  config: RedisConfig,
  logger: RedisKitLogger,
): Promise<Instance> {
  const traffic = { in: 0, out: 0 };
  const handle = await createRedisAdapter(config, {
    logger,
    key: 'kit-test',
    onTraffic: (direction) => traffic[direction]++,
  });
  const http = createServer();
  const io = new Server(http, { adapter: handle.adapter, transports: ['websocket'] });
  // Joined before the client hears `connect`, as the gateway does: the room's channel is
  // subscribed by then, so a broadcast sent right after connecting reaches the socket.
  io.use((socket, next) => {
    const room = socket.handshake.query['room'];
    if (typeof room !== 'string') return next();
    Promise.resolve(socket.join(room)).then(() => next(), next);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { io, port: (http.address() as AddressInfo).port, handle, traffic };
}

export async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance) return;
  await instance.io.close();
  await instance.handle.close();
}

export interface Receiver {
  socket: ClientSocket;
  /** Resolves when a `probe` event with this id arrives. */
  next(id: string, timeoutMs: number): Promise<boolean>;
}

/** A real socket.io-client connected to `instance`, in `room`. */
export async function connectReceiver(instance: Instance, room: string): Promise<Receiver> {
  const socket = connectClient(`http://127.0.0.1:${instance.port}`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    query: { room },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const waiting = new Map<string, () => void>();
  socket.on('probe', (id: string) => waiting.get(id)?.());
  return {
    socket,
    next: (id, timeoutMs) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(false);
        }, timeoutMs);
        waiting.set(id, () => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(true);
        });
      }),
  };
}

let counter = 0;

/** Broadcasts one probe from `from` to `room` and tells whether `receiver` (on another instance) got it. */
export async function deliverOnce(
  from: Instance,
  room: string,
  receiver: Receiver,
  timeoutMs = 1_000,
): Promise<boolean> {
  const id = `p${++counter}`;
  const arrived = receiver.next(id, timeoutMs);
  from.io.to(room).emit('probe', id);
  return arrived;
}

/**
 * Probes every 100 ms until one probe crosses instances; returns the time that took.
 * Used to wait for subscriptions to settle and to measure an interruption, not to hide a failure:
 * it gives up (returns undefined) at the deadline.
 */
export async function timeUntilDelivery(
  from: Instance,
  room: string,
  receiver: Receiver,
  deadlineMs: number,
): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < deadlineMs) {
    if (await deliverOnce(from, room, receiver, 100)) return Date.now() - start;
  }
  return undefined;
}

/** Median one-way cross-instance latency over `count` sequential probes, in ms. */
export async function medianLatency(
  from: Instance,
  room: string,
  receiver: Receiver,
  count: number,
): Promise<{ medianMs: number; p95Ms: number; lost: number }> {
  const samples: number[] = [];
  let lost = 0;
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    if (await deliverOnce(from, room, receiver, 1_000))
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    else lost++;
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return { medianMs: round(at(0.5)), p95Ms: round(at(0.95)), lost };
}

export const round = (n: number) => Math.round(n * 100) / 100;
