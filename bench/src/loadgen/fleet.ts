// The coordinator's side of the load generators: one fleet of worker processes per target.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { signTestToken } from '@jobsphere/testing';
import type { TargetName } from '../processes.js';
import { acceptAsRecipient } from '../requests.js';
import type { Command, ConversationSpec, DeviceSpec, Instance, Reply } from './protocol.js';

export interface Workload {
  users: number;
  devicesPerUser: number;
  directConversations: number;
  groups: number;
  groupSize: number;
}

/**
 * 'shared': one store behind both instances (MongoDB): conversations are opened through A and B
 * alike, devices and senders spread over both. 'instance-a': each instance has its own memory
 * store, so everything is created on A and every device is on A: B's store knows none of the
 * conversations, and the SDK (rightly) shows nothing of a conversation its server cannot
 * describe (no deployment runs this).
 */
export type Layout = 'shared' | 'instance-a';

/**
 * How a target's devices talk to it: the SDK over Socket.IO (gateway, relay, seed app; the
 * conversations opened over REST), or Centrifugo's own JS client (a conversation is a channel,
 * nothing to open).
 */
export type Protocol = 'socketio' | 'centrifugo';

const workerPaths: Record<Protocol, string> = {
  socketio: fileURLToPath(new URL('./worker.js', import.meta.url)),
  centrifugo: fileURLToPath(new URL('./centrifugo-worker.js', import.meta.url)),
};

export const protocolOf = (target: TargetName): Protocol =>
  target === 'centrifugo' ? 'centrifugo' : 'socketio';

/** One load generator process; one command at a time, so replies come back in order. */
export class LoadWorker {
  private readonly queue: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] =
    [];
  private readonly child: ChildProcess;

  constructor(protocol: Protocol = 'socketio') {
    this.child = fork(workerPaths[protocol], [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (reply: Reply) => this.queue.shift()?.resolve(reply));
    this.child.on('error', (error) => {
      for (const waiter of this.queue.splice(0)) waiter.reject(error);
    });
    this.child.on('exit', (code) => {
      for (const waiter of this.queue.splice(0))
        waiter.reject(new Error(`load generator exited (${code}) with a command pending`));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

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

  async shutdown(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null || !this.child.connected)
      return;
    await this.call({ type: 'shutdown' }, 5_000).catch(() => undefined);
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

/** Users, their devices and conversations for one target, spread over its two instances. */
export class Fleet {
  readonly devices: DeviceSpec[] = [];
  readonly conversations: ConversationSpec[] = [];
  private readonly workers: LoadWorker[] = [];
  private readonly tokens = new Map<string, string>();
  private senderShare: number[] = [];

  constructor(
    readonly target: TargetName,
    private readonly urls: Record<Instance, string>,
    private readonly workload: Workload,
    private readonly workerCount: number,
    readonly layout: Layout,
    /** Distinguishes the users of fleets that share a Redis or a store. */
    private readonly prefix: string = target,
  ) {}

  private instanceOf(user: number, device: number): Instance {
    if (this.layout === 'instance-a') return 'A';
    return (user + device) % 2 === 0 ? 'A' : 'B';
  }

  async setUp(secret: string): Promise<void> {
    const w = this.workload;
    const users = Array.from({ length: w.users }, (_, i) => `${this.prefix}-u${i}`);
    for (const u of users) this.tokens.set(u, await mintToken(secret, u, 'recruiter'));
    const owner = new Map<string, number>(users.map((u, i) => [u, i % this.workerCount]));
    for (const [i, u] of users.entries()) {
      for (let d = 0; d < w.devicesPerUser; d++) {
        this.devices.push({
          key: `${u}-d${d}`,
          userId: u,
          token: this.tokens.get(u)!,
          instance: this.instanceOf(i, d),
        });
      }
    }
    const add = async (kind: 'direct' | 'group', members: number[]) => {
      const idx = this.conversations.length;
      const [creator, ...others] = members as [number, ...number[]];
      const body =
        kind === 'direct'
          ? { kind, userId: users[others[0]!] }
          : { kind, title: `bench ${idx}`, memberIds: others.map((m) => users[m]) };
      // Shared store: conversations opened through both instances; senders alternate A, B.
      const via: Instance = this.layout === 'shared' && idx % 2 === 1 ? 'B' : 'A';
      let id: string;
      if (protocolOf(this.target) === 'centrifugo') {
        // A channel per conversation: nothing to open, its members subscribe to it.
        id = randomUUID();
      } else {
        id = await createConversation(this.urls[via], this.tokens.get(users[creator]!)!, body);
        // A request (direct) or an invitation (a group with people who are not the creator's
        // contacts yet): each recipient accepts, as people do, before the load starts.
        for (const other of others)
          await acceptAsRecipient(this.urls[via], this.tokens.get(users[other]!)!, id);
      }
      const device =
        this.layout === 'shared'
          ? [...Array(w.devicesPerUser).keys()].find((d) => this.instanceOf(creator, d) === via)!
          : 0;
      this.conversations.push({
        idx,
        id,
        kind,
        members: members.map((m) => users[m]!),
        senderDevice: `${users[creator]}-d${device}`,
        senderInstance: this.instanceOf(creator, device),
      });
    };
    for (let i = 0; i < w.directConversations; i++)
      await add('direct', [(2 * i) % w.users, (2 * i + 1) % w.users]);
    for (let g = 0; g < w.groups; g++) {
      await add(
        'group',
        Array.from({ length: w.groupSize }, (_, k) => (g * w.groupSize + k) % w.users),
      );
    }
    for (let i = 0; i < this.workerCount; i++)
      this.workers.push(new LoadWorker(protocolOf(this.target)));
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
          failover: this.layout === 'shared',
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

  /** The worker that owns a conversation's sender. */
  workerOf(conversation: number): number {
    const creator = this.conversations[conversation]!.members[0]!;
    return Number(/-u(\d+)$/.exec(creator)![1]) % this.workerCount;
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

  one<T extends Reply>(i: number, command: Command, timeoutMs?: number): Promise<T> {
    return this.workers[i]!.call<T>(command, timeoutMs);
  }

  share(i: number): number {
    return this.senderShare[i] ?? 0;
  }

  get pids(): number[] {
    return this.workers.flatMap((w) => (w.pid === undefined ? [] : [w.pid]));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.shutdown()));
  }
}

/** Client processes that only hold idle sockets (each well under the 20,000 open-files limit). */
export class IdlePool {
  private readonly workers: LoadWorker[];

  constructor(processes: number, protocol: Protocol = 'socketio') {
    this.workers = Array.from({ length: processes }, () => new LoadWorker(protocol));
  }

  get size(): number {
    return this.workers.length;
  }

  async open(
    url: string,
    users: { userId: string; token: string }[],
  ): Promise<Extract<Reply, { type: 'idle-opened' }>[]> {
    return Promise.all(
      this.workers.map((w, i) =>
        w.call<Extract<Reply, { type: 'idle-opened' }>>(
          {
            type: 'idle-open',
            url,
            users: users.filter((_, k) => k % this.workers.length === i),
          },
          600_000,
        ),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ type: 'idle-close' }, 60_000)));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.shutdown()));
  }
}
