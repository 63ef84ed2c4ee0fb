// One load generator process: owns some users' devices, sends the messages of the conversations
// it is told to, and records what each of its devices receives. It talks to servers only through
// ChatDevice (client.ts), the part the SDK will replace.
import { encode, newHistogram, recordMs, type Histogram } from '../hist.js';
import { connectDevice, nowMs, type ChatDevice } from './client.js';
import type { Command, ConversationSpec, DeviceSpec, Instance, Reply } from './protocol.js';

interface Device extends DeviceSpec {
  client: ChatDevice | undefined;
  /** Per conversation id: every seq this device holds (live, own acks, or sync). */
  seqs: Map<string, Set<number>>;
  /** Per conversation id: highest seq up to which this device holds everything. */
  watermark: Map<string, number>;
  /** Where the device is connected now (B devices move to A when B is lost). */
  at: Instance;
}

interface Phase {
  all: Histogram;
  direct: Histogram;
  group: Histogram;
  lastDeliveryAt: number;
  cross: Map<number, Set<number>>;
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
let idle: ChatDevice[] = [];

function reply(message: Reply): void {
  process.send?.(message);
}

function phaseOf(n: number): Phase {
  let p = phases.get(n);
  if (!p) {
    p = {
      all: newHistogram(),
      direct: newHistogram(),
      group: newHistogram(),
      lastDeliveryAt: 0,
      cross: new Map(),
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

async function connect(device: Device, instance: Instance): Promise<void> {
  device.at = instance;
  device.client = await connectDevice(urls[instance], device.token, {
    onMessage: (m, receivedAt) => {
      if (!hold(device, m.conversationId, m.seq)) {
        duplicates++;
        return;
      }
      // Body: "<phase>|<sentAtMs>|padding"
      const [phaseText, sentText] = m.body.split('|', 2);
      const phase = phaseOf(Number(phaseText));
      const latency = receivedAt - Number(sentText);
      const conversation = conversationsById.get(m.conversationId);
      recordMs(phase.all, latency);
      recordMs(conversation?.kind === 'group' ? phase.group : phase.direct, latency);
      phase.lastDeliveryAt = receivedAt;
      if (conversation && device.at !== conversation.senderInstance) {
        let buckets = phase.cross.get(conversation.idx);
        if (!buckets) phase.cross.set(conversation.idx, (buckets = new Set()));
        buckets.add(Math.floor(receivedAt / 10));
      }
    },
    onDisconnect: () => {
      if (!failover || device.at !== 'B') return;
      // The load balancer sends the device to a healthy instance.
      const downAt = nowMs();
      const retry = (attempt: number): void => {
        connect(device, 'A').then(
          () => reconnects.push({ key: device.key, downAt, upAt: nowMs() }),
          () => {
            if (attempt < 50) setTimeout(() => retry(attempt + 1), 200);
          },
        );
      };
      retry(0);
    },
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
          client: undefined,
          seqs: new Map(),
          watermark: new Map(),
          at: spec.instance,
        };
        devices.set(spec.key, device);
        try {
          await connect(device, spec.instance);
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
    const client = device.client;
    if (!client?.connected) {
      ackErrors++;
      firstError ??= `sender ${device.key} not connected`;
      return;
    }
    pending.push(
      client
        .send(
          {
            conversationId: conversation.id,
            clientMessageId: `p${cmd.phase}-${process.pid}-${n}`,
            body: `${cmd.phase}|${sentAt.toFixed(3)}|${padding}`,
          },
          cmd.ackTimeoutMs,
        )
        .then((result) => {
          if (result.ok) {
            recordMs(ackHist, nowMs() - sentAt);
            acked.push([conversation.idx, result.seq]);
            hold(device, conversation.id, result.seq);
          } else {
            if (result.timeout) ackTimeouts++;
            else ackErrors++;
            firstError ??= `${result.code}: ${result.message}`;
          }
        }),
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

/** One send on a quiet system, for the store round-trip trace. */
async function probeSend(cmd: Extract<Command, { type: 'probe-send' }>): Promise<Reply> {
  const conversation = conversations[cmd.conversation]!;
  const device = devices.get(conversation.senderDevice)!;
  const sentAt = nowMs();
  const result = await device.client!.send(
    { conversationId: conversation.id, clientMessageId: cmd.clientMessageId, body: '0|0|probe' },
    10_000,
  );
  const ackedAt = nowMs();
  if (result.ok) hold(device, conversation.id, result.seq);
  return result.ok
    ? { type: 'probed', ok: true, seq: result.seq, sentAt, ackedAt }
    : { type: 'probed', ok: false, error: `${result.code}: ${result.message}`, sentAt, ackedAt };
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
    crossBuckets: Object.fromEntries(
      [...phase.cross].map(([idx, set]) => [idx, [...set].sort((a, b) => a - b)]),
    ),
  };
}

async function move(device: Device, instance: Instance): Promise<void> {
  device.client?.close();
  await connect(device, instance);
}

/** Every device asks for what it missed after its watermark, page by page, one sync at a time. */
async function syncAll(): Promise<Reply> {
  let recovered = 0;
  let errors = 0;
  let firstError: string | undefined;
  await Promise.all(
    [...devices.values()].map(async (device) => {
      const mine = conversations.filter((c) => c.members.includes(device.userId));
      let todo = mine.map((c) => c.id);
      for (let round = 0; todo.length > 0 && round < 200; round++) {
        const client = device.client;
        if (!client?.connected) {
          errors++;
          firstError ??= `${device.key} not connected for sync`;
          return;
        }
        try {
          const entries = await client.sync(
            todo.map((id) => ({
              conversationId: id,
              // Messages are only appended here, so a conversation's version is its last seq.
              afterVersion: device.watermark.get(id) ?? 0,
            })),
            200,
            15_000,
          );
          const more: string[] = [];
          for (const entry of entries) {
            for (const seq of entry.seqs) if (hold(device, entry.conversationId, seq)) recovered++;
            if (entry.hasMore) more.push(entry.conversationId);
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
  let failed = 0;
  let firstError: string | undefined;
  for (let i = 0; i < tokens.length; i += 50) {
    await Promise.all(
      tokens.slice(i, i + 50).map((token) =>
        connectDevice(url, token, {}, 30_000).then(
          (device) => {
            idle.push(device);
          },
          (error: unknown) => {
            failed++;
            firstError ??= String(error);
          },
        ),
      ),
    );
  }
  return {
    type: 'idle-opened',
    connected: tokens.length - failed,
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
    case 'probe-send':
      return probeSend(cmd);
    case 'collect':
      return collect(cmd);
    case 'failover':
      failover = cmd.enabled;
      return { type: 'ack' };
    case 'status': {
      const all = [...devices.values()];
      return {
        type: 'status',
        connected: all.filter((d) => d.client?.connected).length,
        total: all.length,
        reconnects,
      };
    }
    case 'sync':
      return syncAll();
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
      for (const d of devices.values()) d.client?.close();
      for (const s of idle) s.close();
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
