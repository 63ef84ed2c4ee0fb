// The "Fan-out" section of RESULTS.md, rendered from results/fanout-*.json. fanout.js rewrites it
// after each run and the full bench keeps it when it regenerates the rest of the file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FanoutInstance {
  instance: string;
  received: number;
  receivedBytes: number;
  share: number;
  ratio: number;
  source: 'adapter counters' | 'probe subscriber';
}

export interface FanoutResult {
  label: string;
  topology: 'standalone' | 'cluster';
  gateway: string;
  gatewayCommit: string;
  at: string;
  loadAverage: { atStart: number[]; atEnd: number[] };
  instances: number;
  users: number;
  messages: number;
  conversations: number;
  membersPerMessage: number;
  instancesWithMembersPerMessage: number;
  deliveries: number;
  perInstance: FanoutInstance[];
  redisEgressBytesPerMessage: number;
  probeEgressBytesExcluded: number;
  receivedTotalPerMessage: number;
}

const HEADING = '## Fan-out';

/** "before-*" columns first. */
const rank = (label: string) => (label.startsWith('before') ? 0 : 1);

export function readFanoutResults(dir: string): FanoutResult[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^fanout-.+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as FanoutResult)
    .sort((a, b) => rank(a.label) - rank(b.label) || a.label.localeCompare(b.label));
}

/** Replaces the Fan-out section (up to the next `## `), or appends it. */
export function withFanoutSection(markdown: string, section: string): string {
  const start = markdown.indexOf(`\n${HEADING}\n`);
  if (start < 0) return `${markdown.trimEnd()}\n\n${section}`;
  const next = markdown.indexOf('\n## ', start + 1);
  const rest = next < 0 ? '' : markdown.slice(next + 1);
  return `${markdown.slice(0, start + 1)}${section}${rest ? `\n${rest}` : ''}`;
}

const load = (r: FanoutResult) =>
  `${r.loadAverage.atStart[0] ?? '?'} / ${r.loadAverage.atEnd[0] ?? '?'}`;

/** A table as Prettier lays it out (so `prettier --check` passes on the generated file). */
function table(header: string[], align: ('left' | 'right')[], rows: string[][]): string[] {
  const widths = header.map((h, c) => Math.max(3, h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, c) => (align[c] === 'right' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(' | ')} |`;
  const rule = widths.map((w, c) =>
    align[c] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w),
  );
  return [line(header), `| ${rule.join(' | ')} |`, ...rows.map(line)];
}

/** Prose cut at spaces to lines of at most 100 characters. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current && current.length + 1 + word.length > 100) {
      lines.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) lines.push(current);
  return lines;
}

const perDelivery = (r: FanoutResult) => {
  const received = r.perInstance.reduce((a, p) => a + p.received, 0);
  const bytes = r.perInstance.reduce((a, p) => a + p.receivedBytes, 0);
  return String(received === 0 ? 0 : Math.round(bytes / received));
};

/** What the before/after pairs say, in figures taken from them. */
function reading(results: FanoutResult[]): string[] {
  const pairs = (['cluster', 'standalone'] as const).flatMap((topology) => {
    const of = (prefix: string) =>
      results.find((r) => r.topology === topology && r.label.startsWith(prefix));
    const before = of('before');
    const after = of('after');
    return before && after ? [{ topology, before, after }] : [];
  });
  if (pairs.length === 0) return [];
  const { before, after } = pairs[0]!;
  const worst = Math.max(...pairs.flatMap((p) => p.after.perInstance.map((i) => i.ratio)));
  const egress = pairs
    .map(({ topology, before: b, after: a }) => {
      const change = Math.round(
        (1 - a.redisEgressBytesPerMessage / b.redisEgressBytesPerMessage) * 100,
      );
      return `${b.redisEgressBytesPerMessage} to ${a.redisEgressBytesPerMessage} bytes on ${topology === 'cluster' ? 'the cluster' : 'standalone'} (-${change} %)`;
    })
    .join(' and from ');
  return wrap(
    `How it grows: the old adapters hand every message to every instance (received per message ` +
      `= the number of instances, ${before.receivedTotalPerMessage}), so each instance added ` +
      `receives the whole system's traffic. The routed adapter hands a message once to each ` +
      `recipient's user room (received per message = members per message, ` +
      `${after.receivedTotalPerMessage}, whatever the number of instances): each instance ` +
      `receives its own users' share (worst ratio ${worst.toFixed(2)}x; the goal was 1.2x). Redis ` +
      `egress per message went from ${egress}; it follows the recipients (one copy per user ` +
      `room: an instance that holds two members of a group gets two), not the instances. ` +
      `Bytes per delivery differ by encoding: the routed adapter sends JSON, the stock adapters ` +
      `msgpack, so on standalone egress falls less than the count of deliveries does.`,
  );
}

export function renderFanoutSection(results: FanoutResult[]): string {
  const lines = [HEADING, ''];
  if (results.length === 0)
    return `${lines.join('\n')}No results yet: run \`node dist/fanout.js\`.\n`;
  const first = results[0]!;
  lines.push(
    ...wrap(
      `Four gateway instances on one Redis, ${first.users} users spread round-robin over them (one ` +
        `socket each), ${first.messages} messages at 40/s over ${first.conversations} conversations ` +
        `(direct, and groups of 8): ${first.membersPerMessage} members per message on average, held ` +
        `by ${first.instancesWithMembersPerMessage} of the ${first.instances} instances. An instance's ` +
        `**share** is the number of (message, member) pairs whose member it holds: what it receives ` +
        `when each recipient's user room has its own channel. **received** is what its Redis ` +
        `subscriber got: the routed adapter counts it (\`chat_redis_adapter_messages_total{direction="in"}\`); ` +
        `the old build has no counter, so a probe subscribed to what every old instance subscribes ` +
        `(the classic adapter's \`socket.io#*\` pattern, the sharded adapter's namespace channel) ` +
        `counts what each of them receives, and what Redis sent the probe is taken out of the egress ` +
        `figure. **Egress** is the growth of \`total_net_output_bytes\` over every master during the ` +
        `sends, divided by the messages; it includes the replies to the gateways' own commands ` +
        `(budgets, presence heartbeats), alike in both builds. "Before" is \`95006a1\` (stock \`@socket.io/redis-adapter\`: ` +
        `classic on standalone, sharded in its default dynamic mode on the cluster), "after" the ` +
        `routed adapter. Every run delivered all ${first.deliveries} expected \`message:new\` and had ` +
        `every send acked. The counts do not depend on the machine's load; the load is recorded ` +
        `because other work shared the 2 cores during these runs.`,
    ),
    '',
  );
  for (const topology of ['cluster', 'standalone'] as const) {
    const runs = results.filter((r) => r.topology === topology);
    if (runs.length === 0) continue;
    lines.push(
      `### ${topology === 'cluster' ? 'Three-master cluster' : 'Standalone Redis'}`,
      '',
      ...table(
        ['instance', 'share', ...runs.map((r) => `${r.label}: received (ratio)`)],
        ['left', 'right', ...runs.map(() => 'right' as const)],
        runs[0]!.perInstance.map((p, i) => [
          p.instance,
          String(p.share),
          ...runs.map((r) => {
            const q = r.perInstance[i]!;
            return `${q.received} (${q.ratio.toFixed(2)}x)`;
          }),
        ]),
      ),
      '',
      ...table(
        [
          'run',
          'gateway',
          'received / message, all instances',
          'bytes / delivery',
          'Redis egress bytes / message',
          'load (1 min) start / end',
          'at',
        ],
        ['left', 'left', 'right', 'right', 'right', 'left', 'left'],
        runs.map((r) => [
          r.label,
          `\`${r.gatewayCommit}\``,
          String(r.receivedTotalPerMessage),
          perDelivery(r),
          String(r.redisEgressBytesPerMessage),
          load(r),
          r.at,
        ]),
      ),
      '',
    );
  }
  lines.push(...reading(results), '');
  lines.push(
    'Reproduce (from the repository root; "before" needs a checkout of `95006a1` with its gateway built):',
    '',
    '```sh',
    'npx turbo run build --filter=@jobsphere/chat-gateway',
    'git worktree add /tmp/wt-before 95006a1',
    '(cd /tmp/wt-before && pnpm install --frozen-lockfile --offline && npx turbo run build --filter=@jobsphere/chat-gateway)',
    'cd bench && npx tsc -p tsconfig.build.json',
    'for t in cluster standalone; do',
    '  node dist/fanout.js --gateway ../apps/chat-gateway/dist/main.js --topology $t --label after-$t',
    '  node dist/fanout.js --gateway /tmp/wt-before/apps/chat-gateway/dist/main.js --topology $t --label before-$t',
    'done',
    '```',
    '',
    'Each run writes `results/fanout-<label>.json` and rewrites this section from every such file.',
    '',
  );
  return lines.join('\n');
}
