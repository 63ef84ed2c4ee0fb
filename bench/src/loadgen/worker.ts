// One load generator process: owns some users' devices, sends the messages of the conversations
// it is told to, and records what each of its devices shows. Every device is the SDK
// (client.ts): reconnects, outbox resends, sync and dedupe are its own logic; the worker only
// hands it messages and counts, with the clocks read at the socket.
import type { ChatClient, MessageSource } from '@jobsphere/chat-client';
import { newHistogram, recordMs, type Histogram } from '../hist.js';
import { createDevice, nowMs, SENT_AT } from './client.js';
import { openLoop } from './open-loop.js';
import type { Command, ConversationSpec, DeviceSpec, Instance, Reply } from './protocol.js';
import { ranReply, StepBook } from './steps.js';

interface Device extends DeviceSpec {
  client: ChatClient;
  /** Per conversation id: every seq the SDK shows, with where it first came from. */
  shown: Map<string, Map<number, MessageSource>>;
  /** Per conversation id: every seq received in a `message:new` frame. */
  wire: Map<string, Set<number>>;
  /** Since when it is away, while the SDK reconnects. */
  downAt: number | undefined;
  everConnected: boolean;
  lastError: string | undefined;
}

interface RunState {
  ackHist: Histogram;
  outboxHist: Histogram;
  acked: [number, number][];
  resent: number;
  ackErrors: number;
  firstError: string | undefined;
  onWire: number;
  scheduling: boolean;
  /** Sends without an outcome yet. */
  left: number;
  drained: (() => void) | undefined;
}

function newRunState(scheduling: boolean, left: number): RunState {
  return {
    ackHist: newHistogram(),
    outboxHist: newHistogram(),
    acked: [],
    resent: 0,
    ackErrors: 0,
    firstError: undefined,
    onWire: 0,
    scheduling,
    left,
    drained: undefined,
  };
}

/** A message handed to the SDK whose outcome (acked, refused) is not known yet. */
interface Outstanding {
  run: RunState;
  conversation: ConversationSpec;
  queuedAt: number;
  onWire: boolean;
  ackTimed: boolean;
}

type Outcome = { ok: true; seq: number; attempts: number } | { ok: false; error: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const devices = new Map<string, Device>();
const book = new StepBook();
const outstanding = new Map<string, Outstanding>();
let conversations: ConversationSpec[] = [];
let senders: ConversationSpec[] = [];
let urls: Record<Instance, string> = { A: '', B: '' };
let failover = false;
let shownTwice = 0;
const reconnects: { key: string; downAt: number; upAt: number }[] = [];
let idle: ChatClient[] = [];

function reply(message: Reply): void {
  process.send?.(message);
}

function at(device: Device): Instance {
  return device.client.status.url === urls.B ? 'B' : 'A';
}

function shown(device: Device, conversationId: string, seq: number, source: MessageSource): void {
  let seqs = device.shown.get(conversationId);
  if (!seqs) device.shown.set(conversationId, (seqs = new Map<number, MessageSource>()));
  if (seqs.has(seq)) shownTwice++;
  else seqs.set(seq, source);
}

function settle(clientMessageId: string, outcome: Outcome): void {
  const o = outstanding.get(clientMessageId);
  if (!o) return;
  outstanding.delete(clientMessageId);
  const run = o.run;
  if (outcome.ok) {
    run.acked.push([o.conversation.idx, outcome.seq]);
    if (outcome.attempts > 1) run.resent++;
  } else {
    run.ackErrors++;
    run.firstError ??= outcome.error;
  }
  if (--run.left === 0) run.drained?.();
}

function makeDevice(spec: DeviceSpec): Device {
  const other: Instance = spec.instance === 'A' ? 'B' : 'A';
  const device = {
    ...spec,
    shown: new Map<string, Map<number, MessageSource>>(),
    wire: new Map<string, Set<number>>(),
    downAt: undefined,
    everConnected: false,
    lastError: undefined,
  } as Omit<Device, 'client'> as Device;
  const client = createDevice({
    urls: failover ? [urls[spec.instance], urls[other]] : [urls[spec.instance]],
    userId: spec.userId,
    token: spec.token,
    probe: {
      sending: (id, sentAt) => {
        const o = outstanding.get(id);
        if (!o || o.onWire) return;
        o.onWire = true;
        recordMs(o.run.outboxHist, sentAt - o.queuedAt);
        if (o.run.scheduling) o.run.onWire++;
      },
      acked: (id, ms, ok) => {
        const o = outstanding.get(id);
        if (!o || !ok || o.ackTimed) return;
        o.ackTimed = true;
        recordMs(o.run.ackHist, ms);
      },
      // A `message:new` frame, before the SDK sees it: end-to-end latency, first copy only.
      received: (m, receivedAt) =>
        book.received(device.wire, m.conversationId, m.seq, m.body, receivedAt, at(device)),
    },
  });
  device.client = client;
  client.on('message', ({ conversationId, message, source }) =>
    shown(device, conversationId, message.seq, source),
  );
  client.on('sent', ({ entry, message }) =>
    settle(entry.clientMessageId, { ok: true, seq: message.seq, attempts: entry.attempts }),
  );
  client.on('outbox', ({ entry, removed }) => {
    const id = entry.clientMessageId;
    if (!outstanding.has(id)) return;
    if (entry.state === 'failed') {
      settle(id, { ok: false, error: `${entry.error?.code}: ${entry.error?.message}` });
      queueMicrotask(() => client.discard(id));
    } else if (removed) {
      // `sent` follows an ack at once; otherwise a copy seen in a sync resolved it, or it was dropped.
      queueMicrotask(() => {
        if (!outstanding.has(id)) return;
        const stored = client
          .conversation(entry.conversationId)
          ?.messages.find((m) => m.clientMessageId === id && m.senderId === spec.userId);
        settle(
          id,
          stored
            ? { ok: true, seq: stored.seq, attempts: entry.attempts }
            : { ok: false, error: 'left the outbox unsent' },
        );
      });
    }
  });
  client.on('connection', ({ state }) => {
    if (state === 'connected') {
      if (device.downAt !== undefined)
        reconnects.push({ key: device.key, downAt: device.downAt, upAt: nowMs() });
      device.downAt = undefined;
      device.everConnected = true;
    } else if (state === 'reconnecting' && device.everConnected) {
      device.downAt ??= nowMs();
    }
  });
  client.on('error', (error) => {
    device.lastError = `${error.code}: ${error.message}`;
  });
  return device;
}

async function connectAll(list: DeviceSpec[]): Promise<Reply> {
  let failed = 0;
  let firstError: string | undefined;
  // A few at a time: a burst of handshakes would measure the connect storm, not the steady state.
  for (let i = 0; i < list.length; i += 20) {
    await Promise.all(
      list.slice(i, i + 20).map(async (spec) => {
        const device = makeDevice(spec);
        devices.set(spec.key, device);
        try {
          await device.client.connect({ failFast: true });
          await device.client.loadConversations();
        } catch (error) {
          failed++;
          firstError ??= String(error);
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
  const state = newRunState(true, 0);
  const lagHist = newHistogram();
  const total = Math.round((cmd.ratePerSec * cmd.durationMs) / 1000);
  const padding = 'x'.repeat(Math.max(0, cmd.bodyBytes - 30));
  let sent = 0;
  const sendOne = (scheduledAt: number) => {
    const conversation = senders[sent % senders.length]!;
    const device = devices.get(conversation.senderDevice)!;
    const n = sent++;
    const queuedAt = nowMs();
    recordMs(lagHist, queuedAt - scheduledAt);
    const id = `p${cmd.phase}-${process.pid}-${n}`;
    // Registered first: the SDK puts the frame on the wire within send() when it can.
    outstanding.set(id, { run: state, conversation, queuedAt, onWire: false, ackTimed: false });
    state.left++;
    try {
      device.client.send(conversation.id, `${cmd.phase}|${SENT_AT}|${padding}`, id);
    } catch (error) {
      // Not taken (OUTBOX_FULL, closed): a send the application saw refused.
      settle(id, { ok: false, error: String(error) });
    }
  };
  const { startedAt, endedAt } = await openLoop(cmd.ratePerSec, total, (_, dueAt) =>
    sendOne(dueAt),
  );
  state.scheduling = false;
  // The SDK keeps trying what is not acked yet; the run waits for it this long.
  if (state.left > 0)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, cmd.ackTimeoutMs);
      state.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const ackTimeouts = state.left;
  for (const [id, o] of outstanding) if (o.run === state) outstanding.delete(id);
  return ranReply({
    phase: cmd.phase,
    sent,
    onWire: state.onWire,
    acked: state.acked,
    resent: state.resent,
    ackErrors: state.ackErrors,
    ackTimeouts,
    firstError: state.firstError,
    ackTimeoutMs: cmd.ackTimeoutMs,
    unanswered: 'still in the outbox',
    ackHist: state.ackHist,
    lagHist,
    outboxHist: state.outboxHist,
    startedAt,
    endedAt,
  });
}

/** One send on a quiet system, for the store round-trip trace. */
async function probeSend(cmd: Extract<Command, { type: 'probe-send' }>): Promise<Reply> {
  const conversation = conversations[cmd.conversation]!;
  const device = devices.get(conversation.senderDevice)!;
  const state = newRunState(false, 1);
  const done = new Promise<void>((resolve) => (state.drained = resolve));
  const id = cmd.clientMessageId;
  const sentAt = nowMs();
  outstanding.set(id, {
    run: state,
    conversation,
    queuedAt: sentAt,
    onWire: false,
    ackTimed: false,
  });
  try {
    device.client.send(conversation.id, '0|0|probe', id);
  } catch (error) {
    settle(id, { ok: false, error: String(error) });
  }
  await Promise.race([done, sleep(10_000)]);
  const ackedAt = nowMs();
  outstanding.delete(id);
  const seq = state.acked[0]?.[1];
  return seq !== undefined
    ? { type: 'probed', ok: true, seq, sentAt, ackedAt }
    : { type: 'probed', ok: false, error: state.firstError ?? 'no ack', sentAt, ackedAt };
}

function collect(cmd: Extract<Command, { type: 'collect' }>): Reply {
  return book.collect(
    cmd.phase,
    cmd.acked,
    conversations,
    devices.values(),
    (device, conversationId, seq) => device.shown.get(conversationId)?.get(seq),
    shownTwice,
  );
}

/**
 * Every device catches up as an application does when it comes back to the foreground: it
 * reloads its conversation list, and the SDK syncs each conversation the list shows ahead of
 * its cursor. Then waits (bounded) until every SDK is connected and done syncing.
 */
async function catchUp(): Promise<Reply> {
  const all = [...devices.values()];
  await Promise.all(
    all.map((d) =>
      d.client.loadConversations().then(
        () => undefined,
        (error: unknown) => {
          d.lastError = `conversation list: ${String(error)}`;
        },
      ),
    ),
  );
  const behind = () => all.filter((d) => d.client.syncing || d.client.status.state !== 'connected');
  const deadline = Date.now() + 30_000;
  while (behind().length > 0 && Date.now() < deadline) await sleep(20);
  const late = behind();
  const firstError = late.map((d) => `${d.key}: ${d.lastError ?? d.client.status.state}`)[0];
  return {
    type: 'synced',
    devices: all.length,
    behind: late.length,
    ...(firstError && { firstError }),
  };
}

async function openIdle(url: string, users: { userId: string; token: string }[]): Promise<Reply> {
  let failed = 0;
  let firstError: string | undefined;
  for (let i = 0; i < users.length; i += 50) {
    await Promise.all(
      users.slice(i, i + 50).map(async ({ userId, token }) => {
        const client = createDevice({ urls: [url], userId, token });
        try {
          await client.connect({ failFast: true });
          idle.push(client);
        } catch (error) {
          failed++;
          firstError ??= String(error);
          await client.close();
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

async function handle(cmd: Command): Promise<Reply> {
  switch (cmd.type) {
    case 'connect':
      urls = cmd.urls;
      failover = cmd.failover;
      conversations = cmd.conversations;
      book.setConversations(conversations);
      senders = cmd.senders.map((i) => conversations[i]!);
      return connectAll(cmd.devices);
    case 'run':
      return run(cmd);
    case 'probe-send':
      return probeSend(cmd);
    case 'collect':
      return collect(cmd);
    case 'status': {
      const all = [...devices.values()];
      return {
        type: 'status',
        connected: all.filter((d) => d.client.status.state === 'connected').length,
        total: all.length,
        reconnects,
      };
    }
    case 'sync':
      return catchUp();
    case 'idle-open':
      return openIdle(cmd.url, cmd.users);
    case 'idle-close':
      await Promise.all(idle.map((c) => c.close()));
      idle = [];
      return { type: 'ack' };
    case 'shutdown':
      await Promise.all([...devices.values()].map((d) => d.client.close()));
      await Promise.all(idle.map((c) => c.close()));
      setTimeout(() => process.exit(0), 50);
      return { type: 'ack' };
  }
}

process.on('message', (cmd: Command) => {
  handle(cmd).then(reply, (error: unknown) => {
    console.error(`load generator ${process.pid}: ${String(error)}`);
    process.exit(1);
  });
});
// The coordinator is gone: so are we.
process.on('disconnect', () => process.exit(0));
