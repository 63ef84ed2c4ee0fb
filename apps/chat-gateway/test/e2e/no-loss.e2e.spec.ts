import { mongoServers, waitUntil } from '@jobsphere/testing';
import { type ConversationDto, type MessageDto } from '@jobsphere/chat-domain';
import { Device } from '../support/device.js';
import { rest, tokenFor, acceptInvitations } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';
import {
  describeWithExceptions,
  exceptionsOf,
  FERRETDB_E2E_GAPS,
} from '../support/server-matrix.js';

// Sustained sending through the SDK while Redis restarts and one instance is SIGKILLed: every
// acked message ends up exactly once on every device, by the SDK's own syncs, and nothing is
// acked that is not stored. On every server of the matrix (the emulator and FerretDB, or the one
// in MONGODB_URI).
for (const server of mongoServers())
  describeWithExceptions(server.name, exceptionsOf(server, FERRETDB_E2E_GAPS), (registerCase) =>
    describe(`no loss under faults, store on ${server.name}`, () => {
      let env: Environment;
      const devices: Device[] = [];

      afterAll(async () => {
        for (const d of devices) await d.close();
        await env?.dispose();
      });

      registerCase(
        'keeps every acked message through a Redis restart and an instance SIGKILL',
        async () => {
          const started = Date.now();
          env = await startEnvironment({
            env: { RATE_LIMIT_SEND_PER_10S: '100000', RATE_LIMIT_SYNC_PER_MIN: '100000' },
            mongo: () => server.start(),
          });
          const [A, B] = env.gateways;
          const recruiter = await tokenFor('rita', 'recruiter');
          const conversation = (
            await rest<ConversationDto>(A!.url, recruiter, 'POST', '/conversations', {
              kind: 'group',
              title: 'Loop',
              memberIds: ['sam', 'cora', 'dan'],
            })
          ).body;
          await acceptInvitations(
            B!.url,
            conversation.id,
            await Promise.all(['sam', 'cora', 'dan'].map((u) => tokenFor(u, 'candidate'))),
          );
          // Preferred instance first; when it is gone the SDK moves to the other.
          const spec: [string, 'recruiter' | 'candidate', string][] = [
            ['rita', 'recruiter', A!.url],
            ['sam', 'candidate', B!.url],
            ['cora', 'candidate', B!.url],
            ['cora', 'candidate', A!.url],
            ['dan', 'candidate', B!.url],
          ];
          for (const [user, role, url] of spec) {
            const device = new Device(`${user}@${url === A!.url ? 'A' : 'B'}`, user, role, [
              url,
              url === A!.url ? B!.url : A!.url,
            ]);
            await device.start();
            devices.push(device);
          }
          const [rita, sam] = devices;

          let sent = 0;
          const sendFor = async (ms: number) => {
            const end = Date.now() + ms;
            while (Date.now() < end) {
              rita!.send(conversation.id, `from rita ${sent}`);
              sam!.send(conversation.id, `from sam ${sent}`);
              sent++;
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
          };

          await sendFor(1_500);
          await env.redis!.kill();
          await sendFor(1_000);
          await env.redis!.restart();
          await sendFor(1_500);
          await B!.kill();
          await sendFor(1_500);

          await waitUntil(
            'every send acknowledged',
            () => devices.every((d) => d.unacked === 0),
            30_000,
          );
          const acked = new Map<string, MessageDto>(
            [...rita!.acked.values(), ...sam!.acked.values()].map((m) => [m.id, m]),
          );
          expect(acked.size).toBe(sent * 2);

          // The store holds exactly what was acked: nothing acked is missing, nothing extra.
          const stored: MessageDto[] = [];
          for (let after = 0; ;) {
            const page = await rest<{ messages: MessageDto[]; hasMore: boolean }>(
              A!.url,
              recruiter,
              'GET',
              `/conversations/${conversation.id}/messages?after=${after}&limit=100`,
            );
            stored.push(...page.body.messages);
            if (!page.body.hasMore) break;
            after = page.body.messages.at(-1)!.seq;
          }
          expect(stored.map((m) => m.id).sort()).toEqual([...acked.keys()].sort());
          expect(new Set(stored.map((m) => m.seq)).size).toBe(stored.length);

          // Every device shows every acked message once, in seq order, by its own syncs.
          await waitUntil(
            'every device caught up',
            () =>
              devices.every((d) => {
                const shown = new Set(d.shown(conversation.id).map((m) => m.id));
                return [...acked.keys()].every((id) => shown.has(id));
              }),
            20_000,
          );
          for (const d of devices) {
            const shown = d.shown(conversation.id);
            expect(shown).toHaveLength(acked.size);
            expect(shown.map((m) => m.seq)).toEqual(
              [...stored.map((m) => m.seq)].sort((a, b) => a - b),
            );
          }
          const moved = devices.filter((d) => d.connects > 1).map((d) => d.name);
          const live = devices.map((d) => `${d.name}=${new Set(d.pushed.map((m) => m.id)).size}`);
          console.log(
            `no-loss on ${env.mongo.description} (${Date.now() - started} ms): ${acked.size} messages acked and stored, ${stored.length} in the store, ` +
              `${devices.length} devices each showing all ${acked.size}; reconnected: ${moved.join(', ')}; ` +
              `received live (the rest came by sync): ${live.join(' ')}`,
          );
          expect(moved).toEqual(expect.arrayContaining(['sam@B', 'cora@B', 'dan@B']));
        },
        90_000,
      );
    }),
  );
