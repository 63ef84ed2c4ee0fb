import { mkdtemp, rm } from 'node:fs/promises';
import { type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { getFreePort } from '../ports.js';
import { createPostPolicyGate } from './post-policy-gate.js';

export interface S3Server {
  /** For the AWS SDK (`endpoint`, path style) or AWS_ENDPOINT_URL_S3. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  /** s3rver's fixed credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The tags of an object (what the bucket's lifecycle rule would act on). */
  tagsOf(key: string): Promise<Record<string, string>>;
  /** Whether the object is in the bucket. */
  has(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * An S3-compatible server from the npm registry (s3rver) on a free loopback port, with one bucket,
 * behind S3's POST policy checks (see post-policy-gate.ts: s3rver stores POST uploads but does not
 * check their policy). Reach it with the real AWS SDK, path style.
 */
export async function startS3Server(options: { bucket?: string } = {}): Promise<S3Server> {
  const bucket = options.bucket ?? 'attachments-test';
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const port = await getFreePort();
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  await s3rver.run();
  const secretAccessKey = 'S3RVER';
  const gate: Server = createPostPolicyGate({
    target: { host: '127.0.0.1', port },
    secretAccessKey,
  });
  const gatePort = await getFreePort();
  await new Promise<void>((resolve) => gate.listen(gatePort, '127.0.0.1', resolve));
  const direct = `http://127.0.0.1:${port}/${bucket}`;
  const objectUrl = (key: string) =>
    `${direct}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return {
    endpoint: `http://127.0.0.1:${gatePort}`,
    bucket,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey,
    async tagsOf(key) {
      const xml = await (await fetch(`${objectUrl(key)}?tagging`)).text();
      const tags: Record<string, string> = {};
      for (const [, k, v] of xml.matchAll(/<Key>([^<]*)<\/Key>\s*<Value>([^<]*)<\/Value>/g))
        tags[k!] = v!;
      return tags;
    },
    async has(key) {
      return (await fetch(objectUrl(key), { method: 'HEAD' })).ok;
    },
    async close() {
      gate.closeAllConnections();
      await new Promise<void>((resolve) => gate.close(() => resolve()));
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
