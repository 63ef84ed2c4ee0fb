import { randomBytes } from 'node:crypto';
import { listenOnLoopback } from './http.js';

/** One request the fake metadata service answered. */
export interface ImdsRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly at: number;
}

export interface FakeImds {
  /** Base URL, e.g. http://127.0.0.1:41234 (what IMDS_ENDPOINT takes). */
  readonly url: string;
  readonly instanceId: string;
  readonly requests: readonly ImdsRequest[];
  /** What autoscaling/target-lifecycle-state answers from now on (InService, Terminated...). */
  setLifecycleState(state: string): void;
  /** The next `count` metadata reads answer 500, as an overloaded metadata service does. */
  failNextReads(count: number): void;
  /** Resolves once `count` more reads of `path` have been answered, or rejects after `timeoutMs`. */
  waitForReads(path: string, count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const TOKEN_PATH = '/latest/api/token';
const META = '/latest/meta-data/';

/**
 * The EC2 instance metadata service on loopback, IMDSv2 only (as the launch template requires):
 * a PUT for a session token first, every read with that token, 401 otherwise. Serves
 * `instance-id` and `autoscaling/target-lifecycle-state`, which a test turns to `Terminated` to
 * play what Auto Scaling does when it terminates an instance.
 */
export async function startFakeImds(
  options: { instanceId?: string; lifecycleState?: string } = {},
): Promise<FakeImds> {
  const instanceId = options.instanceId ?? `i-${randomBytes(8).toString('hex').slice(0, 17)}`;
  let lifecycleState = options.lifecycleState ?? 'InService';
  let failures = 0;
  const tokens = new Set<string>();
  const requests: ImdsRequest[] = [];
  const listeners = new Set<() => void>();

  const http = await listenOnLoopback((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const answer = (status: number, body: string) => {
      requests.push({ method: req.method ?? '', path, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
      for (const listener of [...listeners]) listener();
    };
    if (path === TOKEN_PATH) {
      if (req.method !== 'PUT' || !req.headers['x-aws-ec2-metadata-token-ttl-seconds'])
        return answer(400, 'token requests are PUT with x-aws-ec2-metadata-token-ttl-seconds');
      const token = randomBytes(16).toString('base64url');
      tokens.add(token);
      return answer(200, token);
    }
    if (req.method !== 'GET' || !path.startsWith(META)) return answer(404, 'Not Found');
    const token = req.headers['x-aws-ec2-metadata-token'];
    if (typeof token !== 'string' || !tokens.has(token)) return answer(401, 'Unauthorized');
    if (failures > 0) {
      failures--;
      return answer(500, 'Internal Server Error');
    }
    switch (path.slice(META.length)) {
      case 'instance-id':
        return answer(200, instanceId);
      case 'autoscaling/target-lifecycle-state':
        return answer(200, lifecycleState);
      default:
        return answer(404, 'Not Found');
    }
  });

  return {
    url: http.url,
    instanceId,
    requests,
    setLifecycleState: (state) => {
      lifecycleState = state;
    },
    failNextReads: (count) => {
      failures = count;
    },
    waitForReads: (path, count, timeoutMs) => {
      const full = `${META}${path}`;
      const reads = () => requests.filter((r) => r.path === full).length;
      const target = reads() + count;
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (reads() < target) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`fewer than ${count} reads of ${path} within ${timeoutMs} ms`));
        }, timeoutMs);
        listeners.add(check);
      });
    },
    close: () => http.close(),
  };
}
