import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  getFreePort,
  signTestToken,
  startNodeService,
  type ManagedProcess,
} from '@jobsphere/testing';
import { readmeQuickStart } from '../support/readme.js';
import { GATEWAY_MAIN, JWT_SECRET, tokenFor } from './environment.js';

// The package README's quick start, run verbatim as a user would run it: against a real gateway it
// sends; with a wrong port or a bad token it exits non-zero at once with a clear message
// (the hand-written example it replaced hung silently in both cases). test/pack runs it again
// from the packed packages installed outside the workspace.
// Inside the package, so `@jobsphere/chat-client` resolves to this package's build.
const SCRIPT = fileURLToPath(new URL('../../test-output/hello.mjs', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], {
      env: { PATH: process.env['PATH'], ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A hang is the failure this test exists for: kill it and say so.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('the README quick start', () => {
  let gateway: ManagedProcess | undefined;
  let url: string;

  beforeAll(async () => {
    mkdirSync(fileURLToPath(new URL('../../test-output/', import.meta.url)), { recursive: true });
    writeFileSync(SCRIPT, readmeQuickStart());
    const service = await startNodeService({
      script: GATEWAY_MAIN,
      env: { PATH: process.env['PATH'], NODE_ENV: 'test', JWT_SECRET, LOG_LEVEL: 'info' },
    });
    gateway = service.process;
    url = service.url;
  });

  afterAll(() => gateway?.dispose());

  it('sends a message and exits 0', async () => {
    const result = await run({ CHAT_URL: url, CHAT_TOKEN: await tokenFor('ana'), CHAT_TO: 'ravi' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^sent as #1 in conversation \S+\n$/);
    expect(result.code).toBe(0);
  });

  it('a wrong port: exits 1 at once, naming the URL', async () => {
    const wrong = `http://127.0.0.1:${await getFreePort()}`;
    const result = await run({
      CHAT_URL: wrong,
      CHAT_TOKEN: await tokenFor('ana'),
      CHAT_TO: 'ravi',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `hello: NETWORK: could not reach ${wrong} (websocket error); is the gateway running there, and does it accept websocket?\n`,
    );
    console.log(`wrong port: exit 1 after ${result.ms} ms`);
  });

  it('a token the gateway did not sign: exits 1 at once with UNAUTHORIZED', async () => {
    const forged = await signTestToken({
      secret: 'not-the-gateways-secret-0123456789abcdef',
      userId: 'ana',
    });
    const result = await run({ CHAT_URL: url, CHAT_TOKEN: forged, CHAT_TO: 'ravi' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hello: UNAUTHORIZED: .+\n$/);
    console.log(`bad token: exit 1 after ${result.ms} ms, said ${result.stderr.trim()}`);
  });

  it('not a token at all: exits 1 at once, before connecting, saying so', async () => {
    const result = await run({ CHAT_URL: url, CHAT_TOKEN: 'not-a-token', CHAT_TO: 'ravi' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hello: TOKEN: the token names no user .+\n$/);
  });

  it('nothing set: exits 2 and says what to set', async () => {
    const result = await run({});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('set CHAT_TOKEN');
  });
});
