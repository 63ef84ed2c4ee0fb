import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pythonTool, startMongoWireServer, type MongoHandle } from '@jobsphere/testing';
import { SERVICE_SCOPES } from '@jobsphere/chat-domain';
import { SignJWT } from 'jose';
import { DEV_JWT_SECRET } from '../../src/config/app-config.js';
import { readCommittedDocument } from '../support/contract.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway.js';

// An outside judge of the HTTP API: schemathesis (pinned in scripts/python-tools) generates
// requests from the OpenAPI document the running dev gateway serves and runs every check it has
// (no 5xx, documented status codes, content types, headers and bodies, bad input refused, valid
// input accepted, auth not ignored). Bounded: MAX_EXAMPLES cases per operation and phase, one
// worker, a fixed seed so a failure reproduces.
const MAX_EXAMPLES = 25;
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);
const SEED = 20261207;
const TEXT_RULE =
  'text holds a visible character and no control character: Unicode property classes (\\p{Cf}, \\p{Cc}, White_Space) that the pattern dialect schemathesis generates from (Python re) lacks';

const TEMPLATE_RULE =
  'every {{…}} of the text a variable of the grammar and every brace part of one, at most 20 distinct: a grammar over the text';
const FILL_RULE =
  'every variable of the template needs a value the platform set for the conversation, and the filled text must fit a message: depends on the conversation';

/**
 * Operations where a request that fits the document can still be refused with 400, and why: a
 * rule the document cannot state. On these operations alone, positive_data_acceptance also
 * accepts 400; every other check (no 5xx, documented answers, bodies, headers, bad input
 * refused, auth) still runs on them. (In the stateful phase the check is off for every operation:
 * see the configuration below.)
 */
const RULES_OUTSIDE_THE_SCHEMA: Record<string, string> = {
  'GET /conversations':
    'cursor: an opaque value signed by this server (nextCursor), any other refused',
  'GET /search':
    'cursor: an opaque value signed by this server (nextCursor), any other refused; q: words only (no regular-expression characters), 1 to 8 distinct words',
  'GET /blocks': 'cursor: an opaque value signed by this server (nextCursor), any other refused',
  'GET /admin/reports':
    'cursor: an opaque value signed by this server (nextCursor), any other refused',
  'GET /service/v1/webhooks/dead-letters':
    'cursor: an opaque value signed by this server (nextCursor), any other refused',
  'GET /conversations/{id}/messages':
    'before and after exclude each other: OpenAPI parameters cannot state a rule across two of them',
  'PATCH /conversations/{id}/messages/{messageId}': TEXT_RULE,
  'POST /service/v1/conversations/{id}/messages': TEXT_RULE,
  'POST /conversations': TEXT_RULE,
  'PATCH /service/v1/conversations/{id}': TEXT_RULE,
  'POST /reports': TEXT_RULE,
  'POST /service/v1/conversations': `${TEXT_RULE}; memberIds distinct and a group needs a title (across fields)`,
  'POST /attachments':
    "the type is on the allow-list (any case), the name's extension fits it and the size is under ATTACHMENTS_MAX_BYTES: across fields and configuration",
  'POST /attachments/uploads':
    'the form carries the fields of a slot this server signed (key, expiry, signature): any other form is refused',
  'POST /conversations/{id}/read':
    "seq at most the conversation's last message: depends on the conversation",
  'POST /admin/reports/{id}/resolve':
    'message_deleted only for a report about a message: depends on the report',
  'DELETE /service/v1/conversations/{id}/members/{userId}':
    'members are removed from groups only: depends on the conversation',
  'POST /conversations/{id}/leave':
    'the last owner hands the group over to a member who joined: depends on the group',
  'PUT /users/{userId}/block': 'nobody blocks themselves: depends on who asks',
  'POST /service/v1/conversations/{id}/members':
    'members are added to groups only: depends on the conversation',
  'GET /admin/moderation':
    'cursor: an opaque value signed by this server (nextCursor), any other refused',
  'GET /admin/audit':
    'cursor: an opaque value signed by this server (nextCursor), any other refused',
  'POST /admin/users/{userId}/ban': TEXT_RULE,
  'POST /admin/users/{userId}/unban': TEXT_RULE,
  'POST /admin/users/{userId}/shadow-ban': TEXT_RULE,
  'POST /admin/users/{userId}/shadow-unban': TEXT_RULE,
  'PUT /admin/conversations/{id}/slow-mode': TEXT_RULE,
  'PUT /service/v1/conversations/{id}/slow-mode': TEXT_RULE,
  'POST /scheduled-messages': `${TEXT_RULE}; sendAt within the scheduling window (depends on the clock)`,
  'PATCH /scheduled-messages/{id}': `${TEXT_RULE}; sendAt within the scheduling window (depends on the clock)`,
  'POST /service/v1/conversations/{id}/action-messages': `${TEXT_RULE}; a link action carries its url (across fields)`,
  'POST /templates': `${TEXT_RULE}; ${TEMPLATE_RULE}`,
  'PATCH /templates/{id}': `${TEXT_RULE}; ${TEMPLATE_RULE}`,
  'POST /service/v1/companies/{companyId}/templates': `${TEXT_RULE}; ${TEMPLATE_RULE}`,
  'PATCH /service/v1/companies/{companyId}/templates/{id}': `${TEXT_RULE}; ${TEMPLATE_RULE}`,
  'PUT /service/v1/conversations/{id}/template-variables': TEXT_RULE,
  'POST /templates/{id}/send': FILL_RULE,
  'POST /templates/{id}/schedule': `${FILL_RULE}; sendAt within the scheduling window (depends on the clock)`,
  'POST /templates/{id}/preview': FILL_RULE,
};

const SERVICE_SECRET = 'schemathesis-service-secret-0123456789abcd';
const LOTS = '1000000';

function serviceToken(): Promise<string> {
  return new SignJWT({ scope: SERVICE_SCOPES.join(' '), token_use: 'service' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('schemathesis')
    .setAudience('jobsphere-chat-service')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SERVICE_SECRET));
}

interface Run {
  status: number | null;
  output: string;
}

function runSchemathesis(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs: number,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      // Its cache (.schemathesis/) goes to the test's temporary folder, not the clone.
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`schemathesis did not finish in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

describe('schemathesis against the running dev gateway', () => {
  let mongo: MongoHandle;
  let gateway: GatewayProcess;
  let dir: string;
  let schemathesis: string;

  // First: a fresh machine builds the pinned venv here (minutes, printed), not in the test's time.
  beforeAll(() => {
    schemathesis = pythonTool('schemathesis');
  }, 900_000);

  beforeAll(async () => {
    mongo = await startMongoWireServer();
    console.log(`store: ${mongo.description}`);
    dir = await mkdtemp(join(tmpdir(), 'schemathesis-'));
    gateway = await startGatewayProcess({
      MONGODB_URI: mongo.uri,
      ATTACHMENTS_DIR: join(dir, 'attachments'),
      // The development secret: the gateway serves /dev/token, as `pnpm dev` does.
      JWT_SECRET: DEV_JWT_SECRET,
      SERVICE_TOKEN_SECRET: SERVICE_SECRET,
      // Thousands of requests from one address and one user: budgets are tested elsewhere.
      RATE_LIMIT_REST_PER_MIN: LOTS,
      RATE_LIMIT_SERVICE_PER_MIN: LOTS,
      RATE_LIMIT_CONVERSATIONS_PER_HOUR: LOTS,
      RATE_LIMIT_REVISE_PER_MIN: LOTS,
      RATE_LIMIT_ANSWER_PER_MIN: LOTS,
      RATE_LIMIT_BLOCK_PER_HOUR: LOTS,
      RATE_LIMIT_REPORT_PER_HOUR: LOTS,
      RATE_LIMIT_UPLOADS_PER_HOUR: LOTS,
      RATE_LIMIT_READ_PER_MIN: LOTS,
      RATE_LIMIT_SEND_PER_MIN: LOTS,
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.process.dispose();
    await mongo?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds no failure in any operation of docs/openapi.json', async () => {
    // The user token comes from the gateway itself, as a developer gets one (`pnpm token`).
    const minted = await fetch(`${gateway.url}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'schemathesis-admin', role: 'admin' }),
    });
    expect(minted.status).toBe(200);
    const { token } = (await minted.json()) as { token: string };

    const config = join(dir, 'schemathesis.toml');
    await writeFile(
      config,
      [
        // Each security scheme of the document gets its own credential.
        '[auth.openapi.bearer]',
        'bearer = "${JOBSPHERE_USER_TOKEN}"',
        '[auth.openapi.serviceToken]',
        'bearer = "${JOBSPHERE_SERVICE_TOKEN}"',
        // In the stateful phase whether a request may succeed depends on what earlier steps made
        // (a direct conversation, the group's last owner, a message's age), which no schema
        // states: there, schema-valid requests may be refused; every other check still runs.
        '[phases.stateful]',
        'checks.positive_data_acceptance.enabled = false',
        ...Object.keys(RULES_OUTSIDE_THE_SCHEMA).flatMap((name) => [
          '[[operations]]',
          `include-name = "${name}"`,
          'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]',
        ]),
      ].join('\n'),
    );
    const report = join(dir, 'junit.xml');
    const run = await runSchemathesis(
      schemathesis,
      [
        '--config-file',
        config,
        'run',
        `${gateway.url}/openapi.json`,
        '--checks',
        'all',
        '--phases',
        'examples,coverage,fuzzing,stateful',
        '--max-examples',
        String(MAX_EXAMPLES),
        '--seed',
        String(SEED),
        '--workers',
        '1',
        '--request-timeout',
        '10',
        '--report',
        'junit',
        '--report-junit-path',
        report,
        '--no-color',
      ],
      {
        ...process.env,
        JOBSPHERE_USER_TOKEN: token,
        JOBSPHERE_SERVICE_TOKEN: await serviceToken(),
        SCHEMATHESIS_HOOKS: '',
      },
      dir,
      300_000,
    );
    const operations = /Operations:\s+(\d+) selected \/ (\d+) total/.exec(run.output);
    const cases = /Test cases:\s*\n\s*(\d+) generated, ([^\n]*)/.exec(run.output);
    console.log(
      [
        `schemathesis ${operations?.[1]} of ${operations?.[2]} operations, ${cases?.[1]} cases (${cases?.[2]?.trim()}); seed ${SEED}, ${MAX_EXAMPLES} examples per operation and phase`,
        `  400 also accepted for a schema-valid request on ${Object.keys(RULES_OUTSIDE_THE_SCHEMA).length} operations:`,
        ...Object.entries(RULES_OUTSIDE_THE_SCHEMA).map(([name, why]) => `    ${name}: ${why}`),
      ].join('\n'),
    );
    if (run.status !== 0) console.log(run.output);
    expect(run.status).toBe(0);
    // Every operation of the committed contract was exercised.
    const documented = Object.entries(readCommittedDocument().paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item ?? {})
        .filter((key) => HTTP_METHODS.has(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const junit = await readFile(report, 'utf8');
    const tested = new Set(
      [...junit.matchAll(/<testcase name="([A-Z]+ [^"]+)"/g)].map((m) => m[1]),
    );
    // All but the document's own route, which schemathesis reads the schema from and leaves out.
    expect(documented.filter((name) => !tested.has(name))).toEqual(['GET /openapi.json']);
  }, 360_000);
});
