import { getFreePort } from '@jobsphere/testing';
import {
  ChatConnectError,
  createChatClient,
  type ChatClient,
  type ChatClientOptions,
} from '../../src/index.js';
import { startEnvironment, tokenFor, type Environment } from './environment.js';

// Every way a connection is refused by a real gateway reaches the application as a typed
// ChatConnectError with a stable code (and retryAfterMs where the server gives one).
describe('connecting to a real gateway', () => {
  let env: Environment;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    env = await startEnvironment(['A', 'B'], {
      SHUTDOWN_DRAIN_MS: '4000',
      RATE_LIMIT_HANDSHAKE_PER_IP_PER_MIN: '100000',
    });
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    await env?.dispose();
  });

  const client = (options: Partial<ChatClientOptions> & Pick<ChatClientOptions, 'token'>) => {
    const c = createChatClient({ url: env.gateways[0]!.url, userId: 'ana', ...options });
    clients.push(c);
    return c;
  };
  const refusal = (c: ChatClient, failFast = true) =>
    c.connect({ failFast }).then(
      () => undefined,
      (error: unknown) => error as ChatConnectError,
    );

  it('connects with a valid token and reports connected', async () => {
    const c = client({ token: await tokenFor('ana') });
    await c.connect({ failFast: true });
    expect(c.status).toMatchObject({ state: 'connected', url: env.gateways[0]!.url });
  });

  it('an invalid token: UNAUTHORIZED, asked again once with forceRefresh, then "failed"', async () => {
    const asked: boolean[] = [];
    const c = client({
      token: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return 'not-a-jwt';
      },
    });
    const error = await refusal(c, false);
    expect(error).toBeInstanceOf(ChatConnectError);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', url: env.gateways[0]!.url });
    expect(asked).toEqual([false, true]);
    expect(c.status.state).toBe('failed');
  });

  it('an expired token: UNAUTHORIZED', async () => {
    const c = client({ token: await tokenFor('ana', 'candidate', -60) });
    expect(await refusal(c)).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('nothing listening on the port: NETWORK, saying where it tried', async () => {
    const url = `http://127.0.0.1:${await getFreePort()}`;
    const c = client({ url, token: await tokenFor('ana') });
    const error = await refusal(c);
    expect(error).toMatchObject({ code: 'NETWORK', url });
    expect(error!.message).toContain(url);
  });

  it('a client that insists on long polling is refused by the websocket-only gateway: NETWORK', async () => {
    const c = client({ token: await tokenFor('ana'), transports: ['polling'] });
    const error = await refusal(c);
    expect(error).toMatchObject({ code: 'NETWORK' });
    expect(error!.message).toMatch(/xhr poll error|websocket/);
  });

  it('more sockets than one user may hold: TOO_MANY_CONNECTIONS', async () => {
    const token = await tokenFor('crowd');
    const held: ChatClient[] = [];
    let refused: ChatConnectError | undefined;
    for (let i = 0; i < 25 && !refused; i++) {
      const c = client({ userId: 'crowd', token });
      const error = await refusal(c);
      if (error) refused = error;
      else held.push(c);
    }
    expect(refused).toMatchObject({ code: 'TOO_MANY_CONNECTIONS' });
    expect(held.length).toBe(20);
    for (const c of held) await c.close();
  });

  it('a draining instance: UNAVAILABLE, and a client given two instances moves to the other', async () => {
    const [A, B] = env.gateways as [(typeof env.gateways)[0], (typeof env.gateways)[0]];
    const token = await tokenFor('ana');
    const stopped = A.process.stop(30_000);
    try {
      const refusedOnA = await (async () => {
        for (let i = 0; i < 50; i++) {
          const error = await refusal(client({ url: A.url, token }));
          if (error?.code === 'UNAVAILABLE') return error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return undefined;
      })();
      expect(refusedOnA).toMatchObject({ code: 'UNAVAILABLE', url: A.url });
      const both = client({ url: [A.url, B.url], token });
      await both.connect();
      expect(both.status).toMatchObject({ state: 'connected', url: B.url });
    } finally {
      await stopped;
    }
  });
});

describe('a handshake flood', () => {
  let env: Environment;
  afterAll(() => env?.dispose());

  it('RATE_LIMITED with retryAfterMs, and the client waits that long before it tries again', async () => {
    env = await startEnvironment(['A'], { RATE_LIMIT_HANDSHAKE_PER_IP_PER_MIN: '3' });
    const token = await tokenFor('ana');
    const url = env.gateways[0]!.url;
    const opened: ChatClient[] = [];
    let refused: ChatConnectError | undefined;
    for (let i = 0; i < 10 && !refused; i++) {
      const c = createChatClient({ url, userId: 'ana', token });
      opened.push(c);
      await c.connect({ failFast: true }).catch((error: ChatConnectError) => (refused = error));
    }
    expect(refused).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused!.retryAfterMs).toBeGreaterThan(0);
    // Without failFast the client keeps the connection attempt alive and schedules it after the wait.
    const patient = createChatClient({ url, userId: 'ana', token });
    opened.push(patient);
    void patient.connect().catch(() => undefined);
    await new Promise<void>((resolve) => {
      const off = patient.on('connection', (s) => {
        if (s.error?.code === 'RATE_LIMITED') {
          off();
          resolve();
        }
      });
    });
    const status = patient.status;
    expect(status.retryAt! - Date.now()).toBeGreaterThan(status.error!.retryAfterMs! - 1_000);
    for (const c of opened) await c.close();
  });
});
