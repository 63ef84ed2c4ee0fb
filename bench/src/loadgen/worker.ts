// One load generator process: owns some users' devices (sockets), sends the messages of the
// conversations it is told to, and records what each of its devices receives.
import { io, type Socket } from 'socket.io-client';
import { encode, newHistogram, recordMs, type Histogram } from '../hist.js';
import {
  nowMs,
  type Command,
  type ConversationSpec,
  type DeviceSpec,
  type Instance,
  type Reply,
} from './protocol.js';

interface Device extends DeviceSpec {
  socket: Socket | undefined;
  /** Per conversation id: every seq this device holds (live, own acks, or sync). */
  seqs: Map<string, Set<number>>;
  /** Per conversation id: highest seq up to which this device holds everything. */
  watermark: Map<string, number>;
  /** Where the device is connected now (B devices move to A on failover). */
  at: Instance;
}

interface Phase {
  all: Histogram;
  direct: Histogram;
  group: Histogram;
  lastDeliveryAt: number;
  bBuckets: Set<number>;
}

interface AckShape {
  ok: boolean;
  data?: { message: { seq: number } };
  error?: { code: string; message: string };
}

interface SyncShape {
  ok: boolean;
  data?: {
    conversations: { conversationId: string; messages: { seq: number }[]; hasMore: boolean }[];
  };
  error?: { code: string; message: string };
}

const devices = new Map<string, Device>();
const conversationsById = new Map<string, ConversationSpec>();
let conversations: ConversationSpec[] = [];
let senders: ConversationSpec[] = [];
let urls: Record<Instance, string> = { A: '', B: '' };
const phases = new Map<number, Phase>();
let duplicates = 0;
let failover = false;
const reconnects: { key: string; downAt: number; upAt: number }[] = [];
let idle: Socket[] = [];

function send(reply: Reply): void {
  process.send?.(reply);
}

function phaseOf(n: number): Phase {
  let p = phases.get(n);
  if (!p) {
    p = {
      all: newHistogram(),
      direct: newHistogram(),
      group: newHistogram(),
      lastDeliveryAt: 0,
      bBuckets: new Set(),
    };
    phases.set(n, p);
  }
  return p;
}

function hold(device: Device, conversationId: string, seq: number): boolean {
  let set = device.seqs.get(conversationId);
  if (!set) device.seqs.set(conversationId, (set = new Set()));
  if (set.has(seq)) return false;
  set.add(seq);
  let w = device.watermark.get(conversationId) ?? 0;
  while (set.has(w + 1)) w++;
  device.watermark.set(conversationId, w);
  return true;
}

function connectSocket(device: Device, instance: Instance): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = io(urls[instance], {
      auth: { token: device.token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 20_000,
    });
    device.socket = socket;
    device.at = instance;
    socket.on('message:new', (m: { conversationId: string; seq: number; body: string }) => {
      const receivedAt = nowMs();
      if (!hold(device, m.conversationId, m.seq)) {
        duplicates++;
        return;
      }
      // Body: "<phase>|<sentAtMs>|padding"
      const [phaseText, sentText] = m.body.split('|', 2);
      const phase = phaseOf(Number(phaseText));
      const latency = receivedAt - Number(sentText);
      recordMs(phase.all, latency);
      recordMs(
        conversationsById.get(m.conversationId)?.kind === 'group' ? phase.group : phase.direct,
        latency,
      );
      phase.lastDeliveryAt = receivedAt;
      if (device.at === 'B') phase.bBuckets.add(Math.floor(receivedAt / 10));
    });
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(error));
    socket.on('disconnect', () => {
      if (!failover || device.instance !== 'B' || device.at !== 'B') return;
      // The load balancer sends the device to a healthy instance.
      const downAt = nowMs();
      const retry = (attempt: number): void => {
        connectSocket(device, 'A').then(
          () => reconnects.push({ key: device.key, downAt, upAt: nowMs() }),
          () => {
            if (attempt < 50) setTimeout(() => retry(attempt + 1), 200);
          },
        );
      };
      retry(0);
    });
  });
}

async function connectAll(list: DeviceSpec[]): Promise<Reply> {
  let failed = 0;
  let firstError: string | undefined;
  // A few at a time: a burst of handshakes would measure the connect storm, not the steady state.
  for (let i = 0; i < list.length; i += 20) {
    await Promise.all(
      list.slice(i, i + 20).map(async (spec) => {
        const device: Device = {
          ...spec,
          socket: undefined,
          seqs: new Map(),
          watermark: new Map(),
          at: spec.instance,
        };
        devices.set(spec.key, device);
        try {
          await connectSocket(device, spec.instance);
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
  const ackHist = newHistogram();
  const lagHist = newHistogram();
  const total = Math.round((cmd.ratePerSec * cmd.durationMs) / 1000);
  const acked: [number, number][] = [];
  let ackErrors = 0;
  let ackTimeouts = 0;
  let firstError: string | undefined;
  const pending: Promise<void>[] = [];
  const padding = 'x'.repeat(Math.max(0, cmd.bodyBytes - 30));
  const startedAt = nowMs();
  let sent = 0;
  const sendOne = (scheduledAt: number) => {
    const conversation = senders[sent % senders.length]!;
    const device = devices.get(conversation.senderDevice)!;
    const n = sent++;
    const sentAt = nowMs();
    recordMs(lagHist, sentAt - scheduledAt);
    const payload = {
      conversationId: conversation.id,
      clientMessageId: `p${cmd.phase}-${process.pid}-${n}`,
      body: `${cmd.phase}|${sentAt.toFixed(3)}|${padding}`,
    };
    const socket = device.socket;
    if (!socket?.connected) {
      ackErrors++;
      firstError ??= `sender ${device.key} not connected`;
      return;
    }
    pending.push(
      socket
        .timeout(cmd.ackTimeoutMs)
        .emitWithAck('message:send', payload)
        .then(
          (ack: AckShape) => {
            if (ack.ok && ack.data) {
              recordMs(ackHist, nowMs() - sentAt);
              acked.push([conversation.idx, ack.data.message.seq]);
              hold(device, conversation.id, ack.data.message.seq);
            } else {
              ackErrors++;
              firstError ??= `${ack.error?.code}: ${ack.error?.message}`;
            }
          },
          (error: unknown) => {
            ackTimeouts++;
            firstError ??= String(error);
          },
        ),
    );
  };
  // Open loop: message i is due at start + i / rate, whatever the replies do.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      const due = Math.min(total, Math.floor(((now - startedAt) * cmd.ratePerSec) / 1000) + 1);
      while (sent < due) sendOne(startedAt + (sent * 1000) / cmd.ratePerSec);
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const endedAt = nowMs();
  await Promise.all(pending);
  return {
    type: 'ran',
    phase: cmd.phase,
    sent,
    acked,
    ackErrors,
    ackTimeouts,
    ...(firstError && { firstError }),
    ackHist: encode(ackHist),
    lagHist: encode(lagHist),
    startedAt,
    endedAt,
  };
}

function collect(cmd: Extract<Command, { type: 'collect' }>): Reply {
  let expected = 0;
  let delivered = 0;
  for (const [idxText, seqs] of Object.entries(cmd.acked)) {
    const conversation = conversations[Number(idxText)]!;
    const members = new Set(conversation.members);
    for (const device of devices.values()) {
      if (!members.has(device.userId) || device.key === conversation.senderDevice) continue;
      const held = device.seqs.get(conversation.id);
      expected += seqs.length;
      for (const seq of seqs) if (held?.has(seq)) delivered++;
    }
  }
  const phase = phaseOf(cmd.phase);
  return {
    type: 'collected',
    phase: cmd.phase,
    expected,
    delivered,
    missing: expected - delivered,
    duplicates,
    e2e: { all: encode(phase.all), direct: encode(phase.direct), group: encode(phase.group) },
    lastDeliveryAt: phase.lastDeliveryAt,
    bDeliveryBuckets: [...phase.bBuckets].sort((a, b) => a - b),
  };
}

async function move(device: Device, instance: Instance): Promise<void> {
  const old = device.socket;
  device.at = instance;
  old?.close();
  await connectSocket(device, instance);
}

/**
 * Every device asks for what it missed after its watermark, page by page. With the in-memory
 * store only A knows the conversations, so devices on B first reconnect to A.
 */
async function syncAll(moveBToA: boolean): Promise<Reply> {
  let recovered = 0;
  let errors = 0;
  let firstError: string | undefined;
  await Promise.all(
    [...devices.values()].map(async (device) => {
      if (moveBToA && device.at === 'B') {
        const downAt = nowMs();
        await move(device, 'A');
        reconnects.push({ key: device.key, downAt, upAt: nowMs() });
      }
      const mine = conversations.filter((c) => c.members.includes(device.userId));
      let todo = mine.map((c) => c.id);
      for (let round = 0; todo.length > 0 && round < 100; round++) {
        const socket = device.socket;
        if (!socket?.connected) {
          errors++;
          firstError ??= `${device.key} not connected for sync`;
          return;
        }
        try {
          const reply = (await socket.timeout(15_000).emitWithAck('sync', {
            conversations: todo.map((id) => ({
              conversationId: id,
              // Messages are only appended here, so a conversation's version is its last seq.
              afterVersion: device.watermark.get(id) ?? 0,
            })),
            limit: 200,
          })) as SyncShape;
          if (!reply.ok || !reply.data)
            throw new Error(`${reply.error?.code}: ${reply.error?.message}`);
          const more: string[] = [];
          for (const c of reply.data.conversations) {
            for (const m of c.messages) if (hold(device, c.conversationId, m.seq)) recovered++;
            if (c.hasMore) more.push(c.conversationId);
          }
          todo = more;
        } catch (error) {
          errors++;
          firstError ??= String(error);
          return;
        }
      }
    }),
  );
  return { type: 'synced', recovered, errors, ...(firstError && { firstError }) };
}

async function openIdle(url: string, tokens: string[]): Promise<Reply> {
  const count = tokens.length;
  let failed = 0;
  let firstError: string | undefined;
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      tokens.slice(i, i + 50).map(
        (token) =>
          new Promise<void>((resolve) => {
            const socket = io(url, {
              auth: { token },
              transports: ['websocket'],
              reconnection: false,
              forceNew: true,
              timeout: 30_000,
            });
            socket.once('connect', () => {
              idle.push(socket);
              resolve();
            });
            socket.once('connect_error', (error) => {
              failed++;
              firstError ??= String(error);
              socket.close();
              resolve();
            });
          }),
      ),
    );
  }
  return {
    type: 'idle-opened',
    connected: count - failed,
    failed,
    ...(firstError && { firstError }),
  };
}

async function handle(cmd: Command): Promise<Reply> {
  switch (cmd.type) {
    case 'connect':
      urls = cmd.urls;
      conversations = cmd.conversations;
      for (const c of conversations) conversationsById.set(c.id, c);
      senders = cmd.senders.map((i) => conversations[i]!);
      return connectAll(cmd.devices);
    case 'run':
      return run(cmd);
    case 'collect':
      return collect(cmd);
    case 'failover':
      failover = cmd.enabled;
      return { type: 'ack' };
    case 'status': {
      const all = [...devices.values()];
      return {
        type: 'status',
        connected: all.filter((d) => d.socket?.connected).length,
        total: all.length,
        reconnects,
      };
    }
    case 'sync':
      return syncAll(cmd.moveBToA);
    case 'rehome':
      // Back to where each device started (after a fault moved some to A).
      await Promise.all(
        [...devices.values()].filter((d) => d.at !== d.instance).map((d) => move(d, d.instance)),
      );
      reconnects.length = 0;
      return { type: 'ack' };
    case 'idle-open':
      return openIdle(cmd.url, cmd.tokens);
    case 'idle-close':
      for (const s of idle) s.close();
      idle = [];
      return { type: 'ack' };
    case 'shutdown':
      failover = false;
      for (const d of devices.values()) d.socket?.close();
      for (const s of idle) s.close();
      setTimeout(() => process.exit(0), 50);
      return { type: 'ack' };
  }
}

process.on('message', (cmd: Command) => {
  handle(cmd).then(send, (error: unknown) => {
    console.error(`load generator ${process.pid}: ${String(error)}`);
    process.exit(1);
  });
});
// The coordinator is gone: so are we.
process.on('disconnect', () => process.exit(0));
