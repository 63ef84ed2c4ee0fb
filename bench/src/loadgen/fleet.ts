// The coordinator's side of the load generators: one fleet of worker processes per target.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { signTestToken } from '@jobsphere/testing';
import type { Command, ConversationSpec, DeviceSpec, Instance, Reply } from './protocol.js';

export interface Workload {
  users: number;
  devicesPerUser: number;
  directConversations: number;
  groups: number;
  groupSize: number;
}

class Worker {
  private readonly queue: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] =
    [];
  private readonly child: ChildProcess;

  constructor(path: string) {
    this.child = fork(path, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (reply: Reply) => this.queue.shift()?.resolve(reply));
    this.child.on('exit', (code) => {
      for (const waiter of this.queue.splice(0))
        waiter.reject(new Error(`load generator exited (${code}) with a command pending`));
    });
  }

  /** One command at a time per worker, so replies come back in order. */
  call<T extends Reply>(command: Command, timeoutMs = 120_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`load generator: no reply to ${command.type} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.queue.push({
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send(command);
    });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

export function mintToken(
  secret: string,
  userId: string,
  role: 'candidate' | 'recruiter' | 'admin',
): Promise<string> {
  return signTestToken({ secret, userId, role, ttlSeconds: 2 * 3600 });
}

async function createConversation(baseUrl: string, token: string, body: unknown): Promise<string> {
  const res = await fetch(`${baseUrl}/conversations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`POST /conversations: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/**
 * Users, their devices and conversations for one target. Every conversation is created
 * through instance A (the in-memory store lives there); sending devices (device 0) are on A,
 * the other devices alternate B, A, B..., so part of every fan-out crosses Redis.
 */
export class Fleet {
  readonly devices: DeviceSpec[] = [];
  readonly conversations: ConversationSpec[] = [];
  private readonly workers: Worker[] = [];
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly target: 'gateway' | 'baseline',
    private readonly urls: Record<Instance, string>,
    private readonly workload: Workload,
    private readonly workerCount: number,
  ) {}

  async setUp(secret: string): Promise<void> {
    const w = this.workload;
    const users = Array.from({ length: w.users }, (_, i) => `${this.target}-u${i}`);
    for (const u of users) this.tokens.set(u, await mintToken(secret, u, 'recruiter'));
    const owner = new Map<string, number>(users.map((u, i) => [u, i % this.workerCount]));
    for (const [i, u] of users.entries()) {
      for (let d = 0; d < w.devicesPerUser; d++) {
        const instance: Instance = d === 0 ? 'A' : (d + i) % 2 === 1 ? 'B' : 'A';
        this.devices.push({ key: `${u}-d${d}`, userId: u, token: this.tokens.get(u)!, instance });
      }
    }
    const add = async (kind: 'direct' | 'group', members: string[]) => {
      const [creator, ...others] = members as [string, ...string[]];
      const body =
        kind === 'direct'
          ? { kind, userId: others[0] }
          : { kind, title: `bench ${this.conversations.length}`, memberIds: others };
      const id = await createConversation(this.urls.A, this.tokens.get(creator)!, body);
      this.conversations.push({
        idx: this.conversations.length,
        id,
        kind,
        members,
        senderDevice: `${creator}-d0`,
      });
    };
    for (let i = 0; i < w.directConversations; i++)
      await add('direct', [users[(2 * i) % w.users]!, users[(2 * i + 1) % w.users]!]);
    for (let g = 0; g < w.groups; g++) {
      await add(
        'group',
        Array.from({ length: w.groupSize }, (_, k) => users[(g * w.groupSize + k) % w.users]!),
      );
    }
    const workerPath = fileURLToPath(new URL('./worker.js', import.meta.url));
    for (let i = 0; i < this.workerCount; i++) this.workers.push(new Worker(workerPath));
    const replies = await Promise.all(
      this.workers.map((worker, i) =>
        worker.call<Extract<Reply, { type: 'connected' }>>({
          type: 'connect',
          urls: this.urls,
          devices: this.devices.filter((d) => owner.get(d.userId) === i),
          conversations: this.conversations,
          senders: this.conversations
            .filter((c) => owner.get(c.members[0]!) === i)
            .map((c) => c.idx),
        }),
      ),
    );
    const failed = replies.reduce((n, r) => n + r.failed, 0);
    if (failed > 0)
      throw new Error(
        `${this.target}: ${failed} devices failed to connect: ${replies.find((r) => r.firstError)?.firstError}`,
      );
    // Worker i sends for the conversations its users created; split the rate in proportion.
    this.senderShare = this.workers.map(
      (_, i) =>
        this.conversations.filter((c) => owner.get(c.members[0]!) === i).length /
        this.conversations.length,
    );
  }

  private senderShare: number[] = [];

  tokenOf(userId: string): string {
    return this.tokens.get(userId)!;
  }

  /** Sends to every worker, returning the replies in worker order. */
  all<T extends Reply>(make: (i: number) => Command | undefined, timeoutMs?: number): Promise<T[]> {
    return Promise.all(
      this.workers.flatMap((worker, i) => {
        const command = make(i);
        return command ? [worker.call<T>(command, timeoutMs)] : [];
      }),
    );
  }

  share(i: number): number {
    return this.senderShare[i] ?? 0;
  }

  get size(): number {
    return this.workers.length;
  }

  async shutdown(): Promise<void> {
    await this.all(() => ({ type: 'shutdown' }), 5_000).catch(() => undefined);
    for (const w of this.workers) w.kill();
  }
}
