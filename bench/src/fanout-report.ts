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
  `${r.loadAverage.atStart[0] ?? '?'} → ${r.loadAverage.atEnd[0] ?? '?'}`;

export function renderFanoutSection(results: FanoutResult[]): string {
  const lines = [HEADING, ''];
  if (results.length === 0)
    return `${lines.join('\n')}No results yet: run \`node dist/fanout.js\`.\n`;
  const first = results[0]!;
  lines.push(
    `Four gateway instances on one Redis, ${first.users} users spread round-robin over them (one socket each), ` +
      `${first.messages} messages at 40/s over ${first.conversations} conversations (direct, and groups of 8): ` +
      `${first.membersPerMessage} members per message on average, held by ${first.instancesWithMembersPerMessage} ` +
      `of the 4 instances. An instance's **share** is the number of (message, member) pairs whose member it holds, ` +
      `i.e. what it would receive if each recipient's user room had its own channel. **received** is what its ` +
      `Redis subscriber got: the routed adapter counts it (\`chat_redis_adapter_messages_total{direction="in"}\`); ` +
      `the old build has no counter, so a probe subscribed to what every old instance subscribes (the classic ` +
      `adapter's \`socket.io#*\` pattern, the sharded adapter's namespace channel) counts what each of them receives, ` +
      `and what Redis sent the probe is taken out of the egress figure. **Egress** is the growth of ` +
      `\`total_net_output_bytes\` over every master during the sends, divided by the messages: it includes the ` +
      `replies to the gateways' own commands (budgets, presence), the same in both builds. "Before" is \`95006a1\` ` +
      `(stock \`@socket.io/redis-adapter\`: classic on standalone, sharded in its default dynamic mode on the cluster), ` +
      `"after" is the routed adapter. Every run delivered all ${first.deliveries} expected \`message:new\` and acked every send.`,
    '',
  );
  for (const topology of ['cluster', 'standalone'] as const) {
    const runs = results.filter((r) => r.topology === topology);
    if (runs.length === 0) continue;
    lines.push(
      `### ${topology === 'cluster' ? 'Three-master cluster' : 'Standalone Redis'}`,
      '',
      `| instance | share | ${runs.map((r) => `${r.label}: received (ratio)`).join(' | ')} |`,
      `| --- | ---: | ${runs.map(() => '---:').join(' | ')} |`,
    );
    for (const [i, p] of runs[0]!.perInstance.entries()) {
      const cells = runs.map((r) => {
        const q = r.perInstance[i]!;
        return `${q.received} (${q.ratio.toFixed(2)}x)`;
      });
      lines.push(`| ${p.instance} | ${p.share} | ${cells.join(' | ')} |`);
    }
    lines.push(
      '',
      '| run | gateway | received per message, all instances | Redis egress bytes / message | load average (1 min) start → end | at |',
      '| --- | --- | ---: | ---: | --- | --- |',
    );
    for (const r of runs)
      lines.push(
        `| ${r.label} | \`${r.gatewayCommit}\` | ${r.receivedTotalPerMessage} | ${r.redisEgressBytesPerMessage} | ${load(r)} | ${r.at} |`,
      );
    lines.push('');
  }
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
