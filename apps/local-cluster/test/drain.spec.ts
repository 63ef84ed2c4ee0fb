import { runDrainProof, type DrainProofResult } from '../src/drain-proof.js';
import {
  ASG_NAME,
  LIFECYCLE_HOOK_NAME,
  startLocalCluster,
  type LocalCluster,
} from '../src/stack.js';

// Item 3, proven on one machine: a rolling deploy terminates instance A under traffic. Auto
// Scaling's part is played by A's metadata service turning Terminated; everything else is what
// runs in production: the lifecycle watcher, the gateway's drain, a health-checked load balancer.
describe('rolling drain behind the load balancer', () => {
  let cluster: LocalCluster;
  let result: DrainProofResult;

  beforeAll(async () => {
    cluster = await startLocalCluster({
      drainMs: 3_000,
      lifecyclePollSeconds: 0.25,
      env: { RATE_LIMIT_SEND_PER_10S: '100000' },
    });
    console.log(`local cluster store: ${cluster.mongoDescription}`);
    result = await runDrainProof(cluster, { victim: 'A' });
    console.log(
      `rolling drain: ${result.acked} acked, ${result.delivered}/${result.expectedDeliveries} delivered, ${result.lost} lost, ` +
        `${result.duplicatesLive} shown twice live; ${result.socketsDrained} sockets drained; sockets ${JSON.stringify(result.socketsBefore)} -> ${JSON.stringify(result.socketsAfter)}\n${result.timeline.join('\n')}`,
    );
  }, 90_000);
  afterAll(() => cluster?.stop());

  it('delivers every acknowledged message to every device of every member: nothing lost', () => {
    expect(result.acked).toBeGreaterThanOrEqual(40); // 10 per sender before the termination, 10 more after
    expect(result.lost).toBe(0);
    expect(result.delivered).toBe(result.expectedDeliveries);
  });

  it('drained A while its sockets were still connected, and A closed by itself', () => {
    expect(result.socketsBefore.A).toBeGreaterThan(0);
    expect(result.socketsDrained).toBe(result.socketsBefore.A);
    expect(result.drainNotices).toBeGreaterThanOrEqual(1);
    expect(result.exitCode).toBe(0);
    expect(cluster.gateways[0]!.logs()).toMatch(/shutdown complete/);
  });

  it('moved every device to B through the one URL', () => {
    const total = Object.values(result.socketsBefore).reduce((a, b) => a + b, 0);
    expect(result.socketsAfter).toEqual({ A: 0, B: total });
  });

  it('took A out of rotation as soon as it drained, and completed the hook only after A exited', () => {
    const out = cluster.loadBalancer.events.find((e) => e.name === 'A' && !e.inRotation);
    expect(out?.reason).toBe('/health 503');
    const [, ...args] = result.lifecycleAction.split(' ');
    expect(args.join(' ')).toBe(
      `autoscaling complete-lifecycle-action --region us-east-1 --auto-scaling-group-name ${ASG_NAME} --lifecycle-hook-name ${LIFECYCLE_HOOK_NAME} --instance-id ${cluster.gateways[0]!.imds.instanceId} --lifecycle-action-result CONTINUE`,
    );
    const timeline = result.timeline.join('\n');
    expect(timeline.indexOf('load balancer took A out of rotation')).toBeLessThan(
      timeline.indexOf('A exited with 0'),
    );
    const watcher = cluster.gateways[0]!.watcher.recentOutput();
    const order = [
      'target lifecycle state is Terminated: stopping the gateway while its clients are connected',
      'gateway stopped after',
      'lifecycle action completed (attempt 1)',
    ].map((line) => watcher.indexOf(line));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
  });

  it('never let B go: it stayed in rotation and healthy', () => {
    expect(cluster.loadBalancer.events.filter((e) => e.name === 'B')).toEqual([]);
    expect(cluster.loadBalancer.inRotation()).toEqual(['B']);
  });
});
