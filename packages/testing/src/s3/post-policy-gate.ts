import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import busboy from 'busboy';

/**
 * S3's POST Object policy checks, in front of s3rver (which stores POST uploads but ignores their
 * policy): the SigV4 signature of the policy, its expiration, every condition (exact fields,
 * `eq`, `starts-with`, `content-length-range`), and that no form field goes unmentioned, each
 * refused as S3 does (403 AccessDenied, 400 EntityTooLarge / EntityTooSmall). What passes is
 * handed to s3rver, with the `tagging` field applied as S3 applies it. Everything else is piped
 * through unchanged. Test harness only: it holds the (small) test files in memory.
 */
export function createPostPolicyGate(options: {
  target: { host: string; port: number };
  secretAccessKey: string;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = request(
      { ...options.target, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };

  const refuse = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/xml', connection: 'close' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    );
  };

  const signingKey = (date: string, region: string) => {
    const hmac = (key: string | Buffer, data: string) =>
      createHmac('sha256', key).update(data).digest();
    return hmac(
      hmac(hmac(hmac(`AWS4${options.secretAccessKey}`, date), region), 's3'),
      'aws4_request',
    );
  };

  const handlePost = (req: IncomingMessage, res: ServerResponse, bucket: string) => {
    const fields = new Map<string, string>();
    const chunks: Buffer[] = [];
    let fileName: string | undefined;
    const form = busboy({ headers: req.headers });
    form.on('field', (name, value) => {
      if (fileName === undefined) fields.set(name.toLowerCase(), value);
    });
    form.on('file', (name, file, info) => {
      if (name !== 'file' || fileName !== undefined) return void file.resume();
      fileName = info.filename;
      file.on('data', (chunk: Buffer) => chunks.push(chunk));
    });
    form.on('error', () => refuse(res, 400, 'MalformedPOSTRequest', 'malformed form'));
    form.on('close', () => {
      const problem = check(
        bucket,
        fields,
        chunks.reduce((n, c) => n + c.length, 0),
      );
      if (problem) return refuse(res, ...problem);
      void store(bucket, fields, Buffer.concat(chunks), fileName ?? 'file').then(
        (answer) => {
          res.writeHead(answer.status, { 'content-type': answer.type });
          res.end(answer.body);
        },
        () => refuse(res, 500, 'InternalError', 'upstream failed'),
      );
    });
    req.pipe(form);
  };

  /** Null when S3 would accept the form, else [status, code, message] of its refusal. */
  const check = (
    bucket: string,
    fields: Map<string, string>,
    size: number,
  ): [number, string, string] | null => {
    const policy = fields.get('policy');
    const credential = fields.get('x-amz-credential')?.split('/');
    const given = Buffer.from(fields.get('x-amz-signature') ?? '', 'hex');
    if (!policy || !credential || credential.length !== 5)
      return [403, 'AccessDenied', 'Invalid according to Policy: missing policy or credential'];
    const expected = createHmac('sha256', signingKey(credential[1]!, credential[2]!))
      .update(policy)
      .digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match'];
    const document = JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) as {
      expiration: string;
      conditions: (Record<string, string> | (string | number)[])[];
    };
    if (Date.parse(document.expiration) <= now())
      return [403, 'AccessDenied', 'Invalid according to Policy: Policy expired.'];
    const covered = new Set(['policy', 'x-amz-signature', 'file']);
    const value = (name: string) => (name === 'bucket' ? bucket : fields.get(name));
    for (const condition of document.conditions) {
      if (!Array.isArray(condition)) {
        for (const [name, wanted] of Object.entries(condition)) {
          covered.add(name.toLowerCase());
          if (value(name.toLowerCase()) !== wanted)
            return [
              403,
              'AccessDenied',
              `Invalid according to Policy: Policy Condition failed: ["eq", "$${name}", "${wanted}"]`,
            ];
        }
        continue;
      }
      const [op, a, b] = condition;
      if (op === 'content-length-range') {
        if (size > Number(b))
          return [400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'];
        if (size < Number(a))
          return [
            400,
            'EntityTooSmall',
            'Your proposed upload is smaller than the minimum allowed size',
          ];
        continue;
      }
      const name = String(a).replace(/^\$/, '').toLowerCase();
      covered.add(name);
      const actual = value(name) ?? '';
      const ok =
        op === 'eq' ? actual === b : op === 'starts-with' ? actual.startsWith(String(b)) : false;
      if (!ok)
        return [
          403,
          'AccessDenied',
          `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`,
        ];
    }
    for (const name of fields.keys()) {
      if (!covered.has(name) && !name.startsWith('x-ignore-'))
        return [403, 'AccessDenied', `Invalid according to Policy: Extra input fields: ${name}`];
    }
    return null;
  };

  const store = async (
    bucket: string,
    fields: Map<string, string>,
    file: Buffer,
    fileName: string,
  ) => {
    const base = `http://${options.target.host}:${options.target.port}/${bucket}`;
    const form = new FormData();
    form.set('key', fields.get('key')!);
    if (fields.has('content-type')) form.set('Content-Type', fields.get('content-type')!);
    form.set('file', new Blob([file]), fileName);
    const answer = await fetch(base, { method: 'POST', body: form });
    const body = Buffer.from(await answer.arrayBuffer());
    const tagging = fields.get('tagging');
    if (answer.ok && tagging) {
      const key = fields.get('key')!.split('/').map(encodeURIComponent).join('/');
      const tagged = await fetch(`${base}/${key}?tagging`, { method: 'PUT', body: tagging });
      if (!tagged.ok) throw new Error(`tagging failed: ${tagged.status}`);
    }
    return {
      status: answer.status,
      type: answer.headers.get('content-type') ?? 'text/plain',
      body,
    };
  };

  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://gate').pathname;
    const bucket = /^\/([^/]+)\/?$/.exec(path)?.[1];
    if (
      req.method === 'POST' &&
      bucket &&
      /multipart\/form-data/i.test(req.headers['content-type'] ?? '')
    )
      return handlePost(req, res, bucket);
    forward(req, res);
  });
}
