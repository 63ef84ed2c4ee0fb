import { fileURLToPath } from 'node:url';
import { signTestToken, startNodeService, type ManagedProcess } from '@jobsphere/testing';
import {
  type ClientToServerEvents,
  type ServerToClientEvents,
  type UserRole,
} from '@jobsphere/chat-domain';
import { io, type Socket } from 'socket.io-client';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-1234';
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export type ChatClient = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface GatewayProcess {
  url: string;
  port: number;
  process: ManagedProcess;
  /** Kills -9: the instance vanishes without a goodbye. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  terminate(): Promise<number | null>;
  logs(): string;
}

/** Starts the built gateway (dist/main.js) as a real process on a free port. */
export async function startGatewayProcess(
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  const service = await startNodeService({
    script: MAIN,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'info',
      // Every test client comes from 127.0.0.1: the per-IP budgets are tested on their own.
      RATE_LIMIT_HANDSHAKE_PER_IP_PER_MIN: '100000',
      RATE_LIMIT_AUTH_FAILURES_PER_IP_PER_MIN: '100000',
      RATE_LIMIT_REST_PER_IP_PER_MIN: '100000',
      ...env,
    },
  });
  const proc = service.process;
  return {
    ...service,
    kill: () => proc.kill(),
    terminate: async () => {
      await proc.stop(30_000);
      return proc.exitCode;
    },
    logs: () => proc.recentOutput(500),
  };
}

export function tokenFor(
  userId: string,
  role: UserRole = 'candidate',
  ttlSeconds = 3600,
  secret = TEST_JWT_SECRET,
): Promise<string> {
  return signTestToken({ secret, userId, role, ttlSeconds });
}

const openClients = new Set<ChatClient>();

/** A connected device of a user; rejects with the server's connect_error. */
export async function connectClient(
  url: string,
  token: string,
  timeoutMs = 5_000,
): Promise<ChatClient> {
  const socket: ChatClient = io(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  openClients.add(socket);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connect to ${url} timed out`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
  });
  return socket;
}

export function closeAllClients(): void {
  for (const socket of openClients) socket.close();
  openClients.clear();
}

/** Collects every payload of one event, for asserting exactly-once and order. */
export function collect<E extends keyof ServerToClientEvents>(
  socket: ChatClient,
  event: E,
): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
  (socket.on as (e: string, l: (p: unknown) => void) => void)(event, (payload) =>
    seen.push(payload as never),
  );
  return seen;
}

export async function rest<T = unknown>(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url + path, {
    method,
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}
