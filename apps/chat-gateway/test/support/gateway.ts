import { fileURLToPath } from 'node:url';
import {
  signTestToken,
  startGatewayProcess as startBuiltGateway,
  type GatewayProcess,
} from '@jobsphere/testing';
import {
  type ConversationDto,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type UserRole,
} from '@jobsphere/chat-domain';
import { io, type Socket } from 'socket.io-client';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-1234';
export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export type ChatClient = Socket<ServerToClientEvents, ClientToServerEvents>;

export type { GatewayProcess } from '@jobsphere/testing';

/** Starts the built gateway (dist/main.js) as a real process on a free port (test mode). */
export function startGatewayProcess(env: Record<string, string> = {}): Promise<GatewayProcess> {
  return startBuiltGateway(MAIN, {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'info',
    // Every test client comes from 127.0.0.1: the per-IP budgets are tested on their own.
    RATE_LIMIT_HANDSHAKE_PER_IP_PER_MIN: '100000',
    RATE_LIMIT_AUTH_FAILURES_PER_IP_PER_MIN: '100000',
    RATE_LIMIT_REST_PER_IP_PER_MIN: '100000',
    ...env,
  });
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

/** A token for each user in its role, into `tokens` (the users of a spec, by name). */
export async function mintTokens(
  tokens: Record<string, string>,
  users: readonly (readonly [string, UserRole])[],
): Promise<void> {
  for (const [user, role] of users) tokens[user] = await tokenFor(user, role);
}

/** `rest` as one of the users named in `tokens`: `api(url, 'rita', 'GET', '/conversations')`. */
export function restAs(tokens: Record<string, string>) {
  return <T>(url: string, user: string, method: string, path: string, body?: unknown) =>
    rest<T>(url, tokens[user], method, path, body);
}

/**
 * Opens a direct conversation and has the recipient accept it, as people who already talk do:
 * a stranger's first conversation is a request (a few messages, no read receipts or presence
 * shared) until then. Answers the conversation as the opener sees it now.
 */
export async function openAccepted(
  url: string,
  openerToken: string,
  recipientToken: string,
  input: { userId: string; jobId?: string; applicationId?: string },
): Promise<ConversationDto> {
  const opened = await rest<ConversationDto>(url, openerToken, 'POST', '/conversations', {
    kind: 'direct',
    ...input,
  });
  if (opened.status >= 300) throw new Error(`opening failed: HTTP ${opened.status}`);
  const id = opened.body.id;
  const accepted = await rest(url, recipientToken, 'POST', `/conversations/${id}/accept`);
  // 409: nothing to answer (they were contacts already, so it never was a request).
  if (accepted.status !== 200 && accepted.status !== 409)
    throw new Error(`accepting failed: HTTP ${accepted.status}`);
  return (await rest<ConversationDto>(url, openerToken, 'GET', `/conversations/${id}`)).body;
}

/**
 * Has the invited members of a group accept, as people do: being added by someone who is not a
 * contact yet is an invitation, and nothing of the group reaches them until they accept. A
 * member who was a contact already has nothing to answer (409).
 */
export async function acceptInvitations(
  url: string,
  conversationId: string,
  memberTokens: string[],
): Promise<void> {
  for (const token of memberTokens) {
    const answer = await rest(url, token, 'POST', `/conversations/${conversationId}/accept`);
    if (answer.status !== 200 && answer.status !== 409)
      throw new Error(`accepting the invitation failed: HTTP ${answer.status}`);
  }
}
