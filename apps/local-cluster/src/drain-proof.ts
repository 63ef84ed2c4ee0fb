import type { ConversationDto } from '@jobsphere/chat-domain';
import { signTestToken, waitUntil } from '@jobsphere/testing';
import { Device } from './device.js';
import type { LocalCluster } from './stack.js';

export interface DrainProofResult {
  /** Messages the server acknowledged as stored. */
  acked: number;
  /** (message, device) pairs: every acked message on every device of every member. */
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  /** Messages some device got live more than once (a client shows them once). */
  duplicatesLive: number;
  /** Sockets the terminated instance still held when its drain began. */
  socketsDrained: number;
  /** Devices told `server:draining`. */
  drainNotices: number;
  /** Devices connected, per instance, before the termination. */
  socketsBefore: Record<string, number>;
  /** ...and after: everything on the instance that stayed. */
  socketsAfter: Record<string, number>;
  /** Exit code of the terminated gateway (0: it drained and closed by itself). */
  exitCode: number | null;
  /** The lifecycle action the watcher completed. */
  lifecycleAction: string;
  timeline: string[];
}

const MAX_IN_FLIGHT = 5;

/** Sockets an instance holds, from its metrics listener (loopback, not through the balancer). */
export async function connectedSockets(gateway: {
  metricsUrl: string;
  url: string;
}): Promise<number> {
  for (const base of [gateway.metricsUrl, gateway.url]) {
    try {
      const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(2_000) });
      if (!response.ok) continue;
      const line = /^chat_connected_sockets (\d+)/m.exec(await response.text());
      if (line) return Number(line[1]);
    } catch {
      // not on this port (e.g. a gateway that serves /metrics on its main port)
    }
  }
  throw new Error(`no chat_connected_sockets from ${gateway.url}`);
}

/**
 * Item 3 of the deploy, played locally: people send through the load balancer while Auto Scaling
 * terminates instance `victim` (its metadata turns Terminated); the lifecycle watcher stops that
 * gateway while its sockets are connected, the balancer takes it out of rotation, the clients move
 * to the other instance and sync. Every acknowledged message must reach every device.
 */
export async function runDrainProof(
  cluster: LocalCluster,
  options: { victim?: string; sendIntervalMs?: number; log?: (line: string) => void } = {},
): Promise<DrainProofResult> {
  const victim = options.victim ?? cluster.gateways[0]!.name;
  const started = Date.now();
  const timeline: string[] = [];
  const note = (line: string) => {
    const entry = `+${((Date.now() - started) / 1000).toFixed(2)}s ${line}`;
    timeline.push(entry);
    options.log?.(entry);
  };
  const token = (userId: string, role: 'candidate' | 'recruiter') =>
    signTestToken({ secret: cluster.jwtSecret, userId, role, ttlSeconds: 3600 });

  const people = [
    { userId: 'rita', role: 'recruiter' as const },
    { userId: 'sam', role: 'candidate' as const },
    { userId: 'cora', role: 'candidate' as const },
  ];
  const response = await fetch(`${cluster.url}/conversations`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await token('rita', 'recruiter')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ kind: 'group', title: 'Rolling deploy', memberIds: ['sam', 'cora'] }),
    signal: AbortSignal.timeout(5_000),
  });
  if (response.status !== 201 && response.status !== 200)
    throw new Error(`creating the conversation through the balancer: HTTP ${response.status}`);
  const conversation = (await response.json()) as ConversationDto;
  // Sam and Cora are not Rita's contacts yet: being added is an invitation they accept.
  for (const person of people.slice(1)) {
    const accepted = await fetch(`${cluster.url}/conversations/${conversation.id}/accept`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(person.userId, person.role)}` },
      signal: AbortSignal.timeout(5_000),
    });
    if (accepted.status !== 200 && accepted.status !== 409)
      throw new Error(`${person.userId} accepting the invitation: HTTP ${accepted.status}`);
  }

  // Two devices per person, all through the balancer's one URL (round robin spreads them).
  const devices: Device[] = [];
  for (const person of people) {
    for (const n of [1, 2]) {
      const device = new Device(
        `${person.userId}#${n}`,
        cluster.url,
        person.userId,
        await token(person.userId, person.role),
        conversation.id,
      );
      await device.start();
      devices.push(device);
    }
  }
  const socketsBefore: Record<string, number> = {};
  for (const g of cluster.gateways) socketsBefore[g.name] = await connectedSockets(g);
  note(`devices connected: ${JSON.stringify(socketsBefore)}`);

  const senders = devices.filter((d) => d.name.endsWith('#1') && !d.name.startsWith('cora'));
  // A device's own messages are shown from its outbox; the second device of each sender, and
  // cora's two, only ever learn of them from the gateways.
  let sending = true;
  let sent = 0;
  const traffic = (async () => {
    while (sending) {
      // Like a client's outbox: a few messages in flight per device, so a slow store (the wire
      // double on a loaded machine) slows the senders down instead of building a backlog.
      for (const sender of senders) {
        if (sender.unacked >= MAX_IN_FLIGHT) continue;
        sender.send(`${sender.name.replace('#', '-')}-${sent}`, `${sender.name} says ${sent}`);
      }
      sent++;
      await new Promise((resolve) => setTimeout(resolve, options.sendIntervalMs ?? 50));
    }
  })();
  try {
    await waitUntil(
      'some messages acknowledged',
      () => senders.every((s) => s.acked.size >= 10),
      10_000,
    );
    note(`terminating ${victim} (target-lifecycle-state = Terminated)`);
    const outRotation = cluster.loadBalancer
      .waitForRotation(victim, false, 20_000)
      .then(() => note(`load balancer took ${victim} out of rotation`));
    const { exitCode } = await cluster.terminate(victim);
    await outRotation;
    note(`${victim} exited with ${exitCode}; lifecycle action completed`);
    // Keep sending on the instance that stayed, then stop.
    const afterTermination = senders.map((s) => s.acked.size);
    await waitUntil(
      'more messages acknowledged after the termination',
      () => senders.every((s, i) => s.acked.size >= afterTermination[i]! + 10),
      10_000,
    );
  } finally {
    sending = false;
    await traffic;
  }
  await waitUntil('every send acknowledged', () => devices.every((d) => d.unacked === 0), 30_000);
  const acked = new Map(senders.flatMap((s) => [...s.acked]));
  // Devices that were moved catch up by sync; give them the time a person would (a marker wait).
  await waitUntil(
    'every device showing every acknowledged message',
    () => devices.every((d) => [...acked.keys()].every((id) => d.shown().has(id))),
    10_000,
  ).catch(() => undefined); // what is still missing then is counted as lost below
  note(`traffic stopped after ${sent} rounds; every message acknowledged`);

  let delivered = 0;
  let lost = 0;
  for (const device of devices) {
    const shown = device.shown();
    for (const id of acked.keys()) {
      if (shown.has(id)) delivered++;
      else lost++;
    }
  }
  const duplicatesLive = new Set(
    devices.flatMap((d) => [...d.liveDeliveries].filter(([, n]) => n > 1).map(([id]) => id)),
  ).size;
  const socketsAfter: Record<string, number> = {};
  for (const g of cluster.gateways) {
    socketsAfter[g.name] = g.name === victim ? 0 : await connectedSockets(g);
  }
  const victimGateway = cluster.gateways.find((g) => g.name === victim)!;
  // One line per worker (GATEWAY_WORKERS), each draining its own sockets.
  const drained = [...victimGateway.logs().matchAll(/draining (\d+) sockets/g)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
  const result: DrainProofResult = {
    acked: acked.size,
    expectedDeliveries: acked.size * devices.length,
    delivered,
    lost,
    duplicatesLive,
    socketsDrained: drained,
    drainNotices: devices.reduce((n, d) => n + d.drainNotices, 0),
    socketsBefore,
    socketsAfter,
    exitCode: victimGateway.process.exitCode,
    lifecycleAction: cluster.lifecycleActions().at(-1) ?? '',
    timeline,
  };
  await Promise.all(devices.map((device) => device.close()));
  return result;
}
