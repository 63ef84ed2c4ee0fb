import { startMongoWireServer, signTestServiceToken, type MongoHandle } from '@jobsphere/testing';
import { TEMPLATE_LIMITS } from '@jobsphere/chat-domain';
import { startGatewayProcess, tokenFor, type GatewayProcess } from '../support/gateway.js';

const SERVICE_SECRET = 'templates-caps-secret-0123456789abcdefghij';
const LOTS = '1000000';
const OVER = 30;

// The template caps across instances (issue 27): two gateway processes on one store, a
// recruiter's and a company's creations raced over both at once; the counter per owner in the
// store lets exactly the cap through and refuses the rest TEMPLATE_QUOTA_EXCEEDED (429).
describe('template caps across two instances', () => {
  let mongo: MongoHandle;
  const gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    mongo = await startMongoWireServer();
    console.log(`store: ${mongo.description}`);
    const env = {
      MONGODB_URI: mongo.uri,
      SERVICE_TOKEN_SECRET: SERVICE_SECRET,
      RATE_LIMIT_REST_PER_MIN: LOTS,
      RATE_LIMIT_REVISE_PER_MIN: LOTS,
      RATE_LIMIT_SERVICE_PER_MIN: LOTS,
    };
    gateways.push(...(await Promise.all([startGatewayProcess(env), startGatewayProcess(env)])));
  }, 60_000);

  afterAll(async () => {
    for (const g of gateways) await g.process.dispose();
    await mongo?.stop();
  });

  async function race(count: number, request: (i: number) => [string, string, unknown]) {
    const answers = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const [token, path, body] = request(i);
        const response = await fetch(`${gateways[i % 2]!.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        });
        const json = (await response.json()) as { error?: { code: string } };
        return `${response.status} ${json.error?.code ?? ''}`.trim();
      }),
    );
    const tally: Record<string, number> = {};
    for (const a of answers) tally[a] = (tally[a] ?? 0) + 1;
    return tally;
  }

  it('a recruiter’s creations raced over two instances stop at the cap', async () => {
    const token = await tokenFor('rita', 'recruiter');
    const n = TEMPLATE_LIMITS.maxPerRecruiter + OVER;
    const tally = await race(n, (i) => [token, '/templates', { name: `T${i}`, body: 'Hi' }]);
    expect(tally).toEqual({
      '201': TEMPLATE_LIMITS.maxPerRecruiter,
      '429 TEMPLATE_QUOTA_EXCEEDED': OVER,
    });
    console.log(
      `[figure] template cap per recruiter: ${n} raced over 2 instances, ${tally['201']} kept, ${OVER} refused`,
    );
    const listed = await fetch(`${gateways[1]!.url}/templates`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { templates } = (await listed.json()) as { templates: { id: string }[] };
    expect(templates).toHaveLength(TEMPLATE_LIMITS.maxPerRecruiter);
    // A deletion frees a place, on either instance.
    const gone = await fetch(`${gateways[0]!.url}/templates/${templates[0]!.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(gone.status).toBe(204);
    expect(await race(2, (i) => [token, '/templates', { name: `Again${i}`, body: 'x' }])).toEqual({
      '201': 1,
      '429 TEMPLATE_QUOTA_EXCEEDED': 1,
    });
  });

  it('a company’s creations raced over two instances stop at the cap', async () => {
    const token = await signTestServiceToken({
      secret: SERVICE_SECRET,
      scopes: ['templates:write'],
    });
    const n = TEMPLATE_LIMITS.maxPerCompany + OVER;
    const tally = await race(n, (i) => [
      token,
      '/service/v1/companies/acme/templates',
      { name: `C${i}`, body: 'Hello {{candidate.firstName}}' },
    ]);
    expect(tally).toEqual({
      '201': TEMPLATE_LIMITS.maxPerCompany,
      '429 TEMPLATE_QUOTA_EXCEEDED': OVER,
    });
    console.log(
      `[figure] template cap per company: ${n} raced over 2 instances, ${tally['201']} kept, ${OVER} refused`,
    );
  });
});
