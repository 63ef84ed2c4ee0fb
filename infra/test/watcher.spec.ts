import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeImds, waitUntil, type FakeImds } from '@jobsphere/testing';
import { fakeCommand } from './support/shell.js';
import { infraDir } from './support/synth.js';

const WATCHER = join(infraDir, 'assets', 'lifecycle-watcher.sh');

/**
 * The on-instance lifecycle watcher, the same file the instances run, against a fake IMDS on
 * loopback, a stand-in gateway process and a stand-in `aws` CLI.
 */
describe('lifecycle watcher', () => {
  let dir: string;
  let imds: FakeImds;
  let gateway: ChildProcess;
  let gatewayExit: Promise<{ code: number | null; at: number }>;
  let watcher: ChildProcess | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobsphere-watcher-'));
    imds = await startFakeImds({ instanceId: 'i-0abc1234def567890' });
    // Like the gateway: on SIGTERM it drains for a while, then exits 0.
    gateway = spawn(
      process.execPath,
      [
        '-e',
        "process.on('SIGTERM', () => { console.log('draining'); setTimeout(() => process.exit(0), 300); }); setInterval(() => {}, 1000); console.log('listening');",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    gatewayExit = new Promise((resolve) =>
      gateway.once('exit', (code) => resolve({ code, at: Date.now() })),
    );
    await new Promise((resolve) => gateway.stdout!.once('data', resolve));
  });

  afterEach(async () => {
    watcher?.kill('SIGKILL');
    gateway.kill('SIGKILL');
    await imds.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The aws stand-in: the first `notYet` completions fail as before Terminating:Wait. */
  const awsCli = (notYet: number) => {
    const count = join(dir, 'completions');
    writeFileSync(count, '0');
    const calls = fakeCommand(
      join(dir, 'bin'),
      'aws',
      `n=$(( $(cat '${count}') + 1 )); echo "$n" > '${count}'; date +%s%3N >> '${dir}/completion-times'
if (( n <= ${notYet} )); then
  echo 'An error occurred (ValidationError) when calling the CompleteLifecycleAction operation: No active Lifecycle Action found with instance ID i-0abc1234def567890' >&2
  exit 254
fi`,
    );
    return { calls, aws: join(dir, 'bin', 'aws') };
  };

  const startWatcher = (aws: string) => {
    const output: string[] = [];
    watcher = spawn('bash', [WATCHER], {
      env: {
        PATH: process.env.PATH,
        ASG_NAME: 'jobsphere-chat-prod-gateway',
        LIFECYCLE_HOOK_NAME: 'drain-before-terminate',
        AWS_REGION: 'us-east-1',
        IMDS_ENDPOINT: imds.url,
        LIFECYCLE_POLL_SECONDS: '0.1',
        LIFECYCLE_STOP_COMMAND: `kill -TERM ${gateway.pid}; while kill -0 ${gateway.pid} 2>/dev/null; do sleep 0.05; done`,
        AWS_CLI: aws,
        LIFECYCLE_COMPLETE_INTERVAL_SECONDS: '0.1',
        LIFECYCLE_COMPLETE_ATTEMPTS: '20',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    watcher.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    watcher.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise<number | null>((resolve) => watcher!.once('exit', resolve));
    return { output, exited };
  };

  it('leaves an in-service gateway alone, even when a metadata read fails', async () => {
    const { calls, aws } = awsCli(0);
    const { output } = startWatcher(aws);
    await imds.waitForReads('autoscaling/target-lifecycle-state', 3, 5_000);
    imds.failNextReads(2);
    await imds.waitForReads('autoscaling/target-lifecycle-state', 5, 5_000);
    expect(gateway.exitCode).toBeNull();
    expect(() => readFileSync(calls, 'utf8')).toThrow(/ENOENT/);
    expect(output.join('')).toContain(
      'watching i-0abc1234def567890 in jobsphere-chat-prod-gateway',
    );
    // Every read carried an IMDSv2 token (the fake answers 401 otherwise).
    expect(imds.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('on Terminated: stops the gateway first, then completes the hook once it exists', async () => {
    const { calls, aws } = awsCli(2);
    const { output, exited } = startWatcher(aws);
    await imds.waitForReads('autoscaling/target-lifecycle-state', 2, 5_000);
    imds.setLifecycleState('Terminated');

    const [code, gatewayEnd] = await Promise.all([
      waitUntil('the watcher to exit', () => watcher!.exitCode !== null, 10_000).then(() => exited),
      gatewayExit,
    ]);
    expect(code).toBe(0);
    expect(gatewayEnd.code).toBe(0); // drained and exited by itself, not killed
    const completions = readFileSync(calls, 'utf8').trim().split('\n');
    // Two "No active Lifecycle Action" (still deregistering), then the completion.
    expect(completions).toEqual(
      Array(3).fill(
        'autoscaling complete-lifecycle-action --region us-east-1 --auto-scaling-group-name jobsphere-chat-prod-gateway --lifecycle-hook-name drain-before-terminate --instance-id i-0abc1234def567890 --lifecycle-action-result CONTINUE',
      ),
    );
    const firstCompletion = Number(
      readFileSync(join(dir, 'completion-times'), 'utf8').split('\n')[0],
    );
    expect(firstCompletion).toBeGreaterThanOrEqual(gatewayEnd.at);
    const log = output.join('');
    expect(log).toContain('target lifecycle state is Terminated: stopping the gateway');
    expect(log).toMatch(/gateway stopped after \d+ s/);
    expect(log).toContain('No active Lifecycle Action found');
    expect(log).toContain('lifecycle action completed (attempt 3)');
  });
});
