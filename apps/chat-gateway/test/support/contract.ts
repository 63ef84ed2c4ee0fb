import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { type oas31 } from 'zod-openapi';

/** The committed contract: what clients generate from. */
export const OPENAPI_FILE = fileURLToPath(
  new URL('../../../../docs/openapi.json', import.meta.url),
);

export function readCommittedDocument(): oas31.OpenAPIObject {
  return JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as oas31.OpenAPIObject;
}

// ajv-formats is CommonJS: its default export arrives as the module object.
const addFormats = addFormatsModule.default;

export interface ObservedResponse {
  method: string;
  /** The request path, query string allowed. */
  path: string;
  status: number;
  headers: { get(name: string): string | null };
  /** The body as received (text). */
  text: string;
}

interface Route {
  template: string;
  pattern: RegExp;
  method: string;
  operation: oas31.OperationObject;
}

/**
 * Checks real answers against the document: the operation must document the status, the
 * content type, every required header (with its schema), and the body must validate (ajv, JSON
 * Schema 2020-12 as OpenAPI 3.1 uses). Records which `operationId status` pairs were seen.
 */
export class ContractValidator {
  readonly seen = new Map<string, number>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly routes: Route[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly document: oas31.OpenAPIObject) {
    addFormats(this.ajv);
    this.ajv.addSchema({ ...document, $id: 'openapi.json' });
    this.routes = Object.entries(document.paths ?? {}).flatMap(([template, item]) =>
      (['get', 'post', 'put', 'patch', 'delete'] as const)
        .filter((m) => item[m])
        .map((m) => ({
          template,
          // Static segments first: a template matches only what no literal path does.
          pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
          method: m.toUpperCase(),
          operation: item[m]!,
        })),
    );
  }

  /** Every `operationId status` the document lists. */
  documented(): string[] {
    return this.routes.flatMap((r) =>
      Object.keys(r.operation.responses ?? {}).map((s) => `${r.operation.operationId} ${s}`),
    );
  }

  /** Throws with what is wrong; returns the parsed body. */
  check(answer: ObservedResponse): unknown {
    const path = answer.path.split('?')[0]!;
    const route =
      this.routes.find((r) => r.method === answer.method && r.template === path) ??
      this.routes.find((r) => r.method === answer.method && r.pattern.test(path));
    const where = `${answer.method} ${answer.path} -> ${answer.status}`;
    if (!route) throw new Error(`${where}: no such operation in the document`);
    const operationId = route.operation.operationId!;
    const status = String(answer.status);
    let pointer = ['paths', route.template, route.method.toLowerCase(), 'responses', status];
    let response: oas31.ResponseObject | oas31.ReferenceObject | undefined =
      route.operation.responses?.[status];
    if (!response) throw new Error(`${where}: status not documented for ${operationId}`);
    if ('$ref' in response) {
      const name = response.$ref.replace('#/components/responses/', '');
      response = this.document.components?.responses?.[name];
      pointer = ['components', 'responses', name];
      if (!response || '$ref' in response) throw new Error(`${where}: cannot resolve ${name}`);
    }
    const headers: Record<string, oas31.HeaderObject | oas31.ReferenceObject> =
      response.headers ?? {};
    for (const [name, header] of Object.entries(headers)) {
      const value = answer.headers.get(name);
      if (value === null) {
        if ('required' in header && header.required)
          throw new Error(`${where}: required header ${name} missing`);
        continue;
      }
      const schema = 'schema' in header ? (header.schema as { type?: string }) : undefined;
      const typed = schema?.type === 'integer' ? Number(value) : value;
      this.validate([...pointer, 'headers', name, 'schema'], typed, `${where}: header ${name}`);
    }
    const key = `${operationId} ${answer.status}`;
    if (!response.content) {
      if (answer.text !== '') throw new Error(`${where}: a body where none is documented`);
      this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
      return undefined;
    }
    const contentType = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const media = response.content[contentType];
    if (!media) {
      const expected = Object.keys(response.content).join(', ');
      throw new Error(`${where}: content type "${contentType}" not documented (${expected})`);
    }
    const body: unknown = contentType.endsWith('json') ? JSON.parse(answer.text) : answer.text;
    this.validate([...pointer, 'content', contentType, 'schema'], body, `${where}: body`);
    this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
    return body;
  }

  private validate(pointer: string[], value: unknown, what: string): void {
    const ref = `openapi.json#/${pointer.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    if (!validate(value))
      throw new Error(
        `${what} does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`,
      );
  }
}

/** One request to check against the document: a JSON body, a raw body or a form. */
export interface CheckedCall {
  token?: string;
  json?: unknown;
  raw?: { body: string; type: string };
  /** multipart/form-data (the local attachments folder's upload form). */
  form?: FormData;
  /** Sent as X-Forwarded-For (the gateway trusts one proxy in the contract tests). */
  ip?: string;
}

/**
 * Sends one request and checks its answer against the document before the test sees it. Every
 * answer is bounded in time (store calls have a deadline): a hang fails here, by name.
 */
export async function checkedCall<T = unknown>(
  contract: ContractValidator,
  baseUrl: string,
  method: string,
  path: string,
  options: CheckedCall = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (options.ip) headers['x-forwarded-for'] = options.ip;
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | FormData | undefined;
  if (options.form) body = options.form;
  else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.raw) {
    headers['content-type'] = options.raw.type;
    body = options.raw.body;
  }
  const response = await fetch(baseUrl + path, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(5_000),
  }).catch((error: unknown) => {
    throw new Error(`${method} ${path}: ${String(error)}`);
  });
  const text = await response.text();
  const parsed = contract.check({
    method,
    path,
    status: response.status,
    headers: response.headers,
    text,
  });
  return { status: response.status, body: parsed as T, headers: response.headers };
}
