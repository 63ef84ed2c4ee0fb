// One load generator process for Centrifugo: the same commands, schedule, body and clocks as
// worker.ts, with Centrifugo's own JS client (`centrifuge`) as each device. A device subscribes
// to the channel of every conversation its user is in (`chat:<id>`: history and recovery on,
// see centrifugo.ts) and a conversation's messages are published from its sender device over
// that device's own connection (client-side publish), as the gateway's devices send over theirs.
// Centrifugo answers a publish once the message is in the engine (Redis: PUBLISH plus the
// channel's history stream), which is the ack timed here. Centrifugo numbers publications per
// channel (offset) but does not return it to a client-side publisher, so the sender numbers its
// own messages per conversation (one sender per conversation) and the body carries that number.
import { Centrifuge, State, type Subscription } from 'centrifuge';
import WebSocket from 'ws';
import { newHistogram, recordMs } from '../hist.js';
import { nowMs } from './clock.js';
import { openLoop } from './open-loop.js';
import type { Command, ConversationSpec, DeviceSpec, Instance, Reply } from './protocol.js';
import { ranReply, StepBook } from './steps.js';

/** The channel of a conversation, in the namespace centrifugo.ts configures. */
export const channelOf = (conversationId: string) => `chat:${conversationId}`;

interface Device extends DeviceSpec {
  client: Centrifuge;
  subs: Map<string, Subscription>;
  /** Per conversation id: every message number received (first copy). */
  got: Map<string, Set<number>>;
  downAt: number | undefined;
  everConnected: boolean;
}

interface Published {
  /** The sender's number of this message in its conversation. */
  n: number;
  /** "<phase>|<sentAtMs>|padding", as the other targets' bodies. */
  body: string;
}

const devices = new Map<string, Device>();
const book = new StepBook();
let conversations: ConversationSpec[] = [];
let senders: ConversationSpec[] = [];
let urls: Record<Instance, string> = { A: '', B: '' };
const nextNumber = new Map<string, number>();
const reconnects: { key: string; downAt: number; upAt: number }[] = [];
let idle: Centrifuge[] = [];

function newClient(url: string, token: string): Centrifuge {
  return new Centrifuge(url, {
    token,
    websocket: WebSocket,
    // Reconnect soon after a fault, as the SDK does (its first retry is within a second).
    minReconnectDelay: 200,
    maxReconnectDelay: 5_000,
  });
}

async function connectDevice(spec: DeviceSpec): Promise<Device> {
  const client = newClient(urls[spec.instance], spec.token);
  const device: Device = {
    ...spec,
    client,
    subs: new Map(),
    got: new Map(),
    downAt: undefined,
    everConnected: false,
  };
  client.on('connected', () => {
    if (device.downAt !== undefined)
      reconnects.push({ key: device.key, downAt: device.downAt, upAt: nowMs() });
    device.downAt = undefined;
    device.everConnected = true;
  });
  client.on('connecting', () => {
    if (device.everConnected) device.downAt ??= nowMs();
  });
  for (const c of conversations) {
    if (!c.members.includes(spec.userId)) continue;
    const sub = client.newSubscription(channelOf(c.id));
    sub.on('publication', (ctx) => {
      if (device.key === c.senderDevice) return; // its own message coming back
      const data = ctx.data as Published;
      book.received(device.got, c.id, data.n, data.body, nowMs());
    });
    device.subs.set(c.id, sub);
    sub.subscribe();
  }
  client.connect();
  await client.ready(30_000);
  await Promise.all([...device.subs.values()].map((s) => s.ready(30_000)));
  return device;
}

async function connectAll(list: DeviceSpec[]): Promise<Reply> {
  let failed = 0;
  let firstError: string | undefined;
  for (let i = 0; i < list.length; i += 20) {
    await Promise.all(
      list.slice(i, i + 20).map(async (spec) => {
        try {
          devices.set(spec.key, await connectDevice(spec));
        } catch (error) {
          failed++;
          firstError ??= `${spec.key}: ${JSON.stringify(error)}`;
        }
      }),
    );
  }
  return {
    type: 'connected',
    connected: list.length - failed,
    failed,
    ...(firstError && { firstError }),
  };
}

async function run(cmd: Extract<Command, { type: 'run' }>): Promise<Reply> {
  const ackHist = newHistogram();
  const lagHist = newHistogram();
  const outboxHist = newHistogram();
  const acked: [number, number][] = [];
  let ackErrors = 0;
  let firstError: string | undefined;
  const pending = new Set<Promise<void>>();
  const total = Math.round((cmd.ratePerSec * cmd.durationMs) / 1000);
  const padding = 'x'.repeat(Math.max(0, cmd.bodyBytes - 30));
  let sent = 0;
  const { startedAt, endedAt } = await openLoop(cmd.ratePerSec, total, (i, dueAt) => {
    const conversation = senders[i % senders.length]!;
    const sub = devices.get(conversation.senderDevice)!.subs.get(conversation.id)!;
    const n = (nextNumber.get(conversation.id) ?? 0) + 1;
    nextNumber.set(conversation.id, n);
    const at = nowMs();
    recordMs(lagHist, at - dueAt);
    recordMs(outboxHist, 0); // no outbox: the frame leaves within publish()
    sent++;
    const data: Published = { n, body: `${cmd.phase}|${at.toFixed(3)}|${padding}` };
    const p = sub.publish(data).then(
      () => {
        recordMs(ackHist, nowMs() - at);
        acked.push([conversation.idx, n]);
      },
      (error: unknown) => {
        ackErrors++;
        firstError ??= JSON.stringify(error);
      },
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  });
  // What is not answered yet gets this long.
  let ackTimeouts = 0;
  if (pending.size > 0) {
    const all = Promise.all(pending).then(() => 0);
    ackTimeouts = await Promise.race([
      all,
      new Promise<number>((r) => setTimeout(() => r(pending.size), cmd.ackTimeoutMs)),
    ]);
  }
  return ranReply({
    phase: cmd.phase,
    sent,
    onWire: sent,
    acked,
    resent: 0,
    ackErrors,
    ackTimeouts,
    firstError,
    ackTimeoutMs: cmd.ackTimeoutMs,
    unanswered: 'not answered',
    ackHist,
    lagHist,
    outboxHist,
    startedAt,
    endedAt,
  });
}

function collect(cmd: Extract<Command, { type: 'collect' }>): Reply {
  // Recovery on resubscribe arrives as ordinary publications: every delivery counts as live.
  return book.collect(
    cmd.phase,
    cmd.acked,
    conversations,
    devices.values(),
    (device, conversationId, n) => (device.got.get(conversationId)?.has(n) ? 'live' : undefined),
    0,
  );
}

async function openIdle(url: string, users: { userId: string; token: string }[]): Promise<Reply> {
  let failed = 0;
  let firstError: string | undefined;
  for (let i = 0; i < users.length; i += 50) {
    await Promise.all(
      users.slice(i, i + 50).map(async ({ token }) => {
        const client = newClient(url, token);
        client.connect();
        try {
          await client.ready(60_000);
          idle.push(client);
        } catch (error) {
          failed++;
          firstError ??= JSON.stringify(error);
          client.disconnect();
        }
      }),
    );
  }
  return {
    type: 'idle-opened',
    connected: users.length - failed,
    failed,
    ...(firstError && { firstError }),
  };
}

function closeIdle(): void {
  for (const c of idle) c.disconnect();
  idle = [];
}

async function handle(cmd: Command): Promise<Reply> {
  switch (cmd.type) {
    case 'connect':
      urls = cmd.urls;
      conversations = cmd.conversations;
      book.setConversations(conversations);
      senders = cmd.senders.map((i) => conversations[i]!);
      return connectAll(cmd.devices);
    case 'run':
      return run(cmd);
    case 'collect':
      return collect(cmd);
    case 'status': {
      const all = [...devices.values()];
      return {
        type: 'status',
        connected: all.filter((d) => d.client.state === State.Connected).length,
        total: all.length,
        reconnects,
      };
    }
    case 'sync': {
      // Centrifugo recovers a channel's missed publications itself on resubscribe.
      const all = [...devices.values()];
      const behind = all.filter((d) => d.client.state !== State.Connected);
      return {
        type: 'synced',
        devices: all.length,
        behind: behind.length,
        ...(behind[0] && { firstError: `${behind[0].key}: ${behind[0].client.state}` }),
      };
    }
    case 'probe-send':
      return {
        type: 'probed',
        ok: false,
        error: 'no store trace for Centrifugo',
        sentAt: 0,
        ackedAt: 0,
      };
    case 'idle-open':
      return openIdle(cmd.url, cmd.users);
    case 'idle-close':
      closeIdle();
      return { type: 'ack' };
    case 'shutdown':
      for (const d of devices.values()) d.client.disconnect();
      closeIdle();
      setTimeout(() => process.exit(0), 50);
      return { type: 'ack' };
  }
}

process.on('message', (cmd: Command) => {
  handle(cmd).then(
    (reply) => process.send?.(reply),
    (error: unknown) => {
      console.error(`centrifugo load generator ${process.pid}: ${String(error)}`);
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(0));
