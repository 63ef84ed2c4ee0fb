import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { ContractValidator, OPENAPI_FILE } from '../../test/support/contract.js';
import { type ArgumentsHost, ConsoleLogger, Logger } from '@nestjs/common';
import { startGateway, type RunningGateway } from '../bootstrap.js';
import { HttpErrorFilter } from '../common/http-exception.filter.js';
import { loadConfig } from '../config/app-config.js';
import { buildOpenApiDocument, serializeOpenApiDocument } from './openapi.document.js';

const REGENERATE = 'run `pnpm openapi` and commit the result';
const CLIENT_TYPES = fileURLToPath(
  new URL('../../test/contract/openapi-types.ts', import.meta.url),
);
const OPENAPI_TYPESCRIPT = fileURLToPath(
  new URL('../../node_modules/.bin/openapi-typescript', import.meta.url),
);

describe('the OpenAPI document', () => {
  it(`is committed as built from the code (docs/openapi.json; else ${REGENERATE})`, () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(serializeOpenApiDocument());
  });

  it('passes Redocly’s strict ruleset', async () => {
    const config = await createConfig({
      extends: ['recommended-strict'],
      rules: {
        // Health and metrics answer no 4xx by design (never budgeted, never authenticated).
        'operation-4xx-response': 'off',
        // The local development server is listed on purpose.
        'no-server-example.com': 'off',
        // The repository states no license yet.
        'info-license': 'off',
      },
    });
    const problems = await lintFromString({
      source: serializeOpenApiDocument(),
      absoluteRef: OPENAPI_FILE,
      config,
    });
    expect(problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`)).toEqual(
      [],
    );
  });

  it('shares the error responses, each with its stable codes and headers', () => {
    const doc = buildOpenApiDocument();
    const responses = doc.components?.responses as Record<string, { description: string }>;
    expect(responses['NotFound']?.description).toMatch(/Codes: NOT_FOUND, NOT_A_MEMBER\.$/);
    expect(responses['TooManyRequests']).toMatchObject({
      headers: { 'Retry-After': { schema: { type: 'integer' } } },
    });
    // Budgets send it; the quotas (uploads, scheduled sends, templates) cannot: no wait helps.
    const tooMany = responses['TooManyRequests'] as unknown as {
      headers: Record<string, { required?: boolean }>;
    };
    expect(tooMany.headers['Retry-After']?.required).not.toBe(true);
    expect(responses['TooManyRequests']?.description).toMatch(
      /TEMPLATE_QUOTA_EXCEEDED, as many templates/,
    );
    expect(doc.components?.schemas?.['ErrorCode']).toMatchObject({
      enum: expect.arrayContaining(['INVALID_PAYLOAD', 'NOT_A_MEMBER', 'RATE_LIMITED', 'INTERNAL']),
    });
  });

  it(`types a generated client with it (test/contract/openapi-types.ts; else ${REGENERATE})`, async () => {
    const { stdout } = await promisify(execFile)(OPENAPI_TYPESCRIPT, [OPENAPI_FILE], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(readFileSync(CLIENT_TYPES, 'utf8')).toBe(stdout);
  });

  // A 500 is a bug, so no e2e test can provoke one: here the filter answers an unexpected error
  // and that answer is checked against the 500 of every operation that documents one.
  it('documents the 500 every route answers a bug with', () => {
    const contract = new ContractValidator(buildOpenApiDocument());
    const sent = {
      status: 0,
      headers: new Headers({ 'content-type': 'application/json' }),
      text: '',
    };
    const response = {
      status: (status: number) => ((sent.status = status), response),
      setHeader: (name: string, value: unknown) => sent.headers.set(name, String(value)),
      json: (body: unknown) => (sent.text = JSON.stringify(body)),
    };
    const request = { method: 'GET', path: '/conversations', headers: {} };
    const host = {
      switchToHttp: () => ({ getResponse: () => response, getRequest: () => request }),
    } as unknown as ArgumentsHost;
    Logger.overrideLogger(false);
    try {
      new HttpErrorFilter().catch(new Error('connection to 10.0.3.7 reset'), host);
    } finally {
      Logger.overrideLogger(new ConsoleLogger());
    }
    expect(sent.status).toBe(500);
    expect(JSON.parse(sent.text)).toEqual({
      error: { code: 'INTERNAL', message: 'internal error' },
    });
    const withBugs = contract.documented().filter((answer) => answer.endsWith(' 500'));
    expect(withBugs.length).toBeGreaterThan(0);
    for (const [path, item] of Object.entries(buildOpenApiDocument().paths ?? {}))
      for (const [method, op] of Object.entries(item as Record<string, { responses: object }>))
        if ('500' in op.responses) contract.check({ method: method.toUpperCase(), path, ...sent });
    expect(contract.seen.size).toBe(withBugs.length);
  });

  describe('against the routes the gateway serves', () => {
    let gateway: RunningGateway;
    beforeAll(async () => {
      // Development registers every route there is (the dev endpoints, metrics on the main port).
      gateway = await startGateway(
        loadConfig({ NODE_ENV: 'development', PORT: '0', LOG_LEVEL: 'error' }),
      );
    });
    afterAll(() => gateway?.shutdown());

    it('documents each of them, and nothing else (the try page is a browser page, not API)', () => {
      const express = gateway.app.getHttpAdapter().getInstance() as unknown as {
        router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
      };
      const served = express.router.stack
        .flatMap((layer) =>
          layer.route
            ? Object.keys(layer.route.methods).map(
                (m) => `${m.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`,
              )
            : [],
        )
        .filter((route) => !/^GET \/try\b/.test(route));
      const documented = Object.entries(buildOpenApiDocument().paths ?? {}).flatMap(
        ([path, item]) => Object.keys(item as object).map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(served.sort()).toEqual(documented.sort());
    });
  });
});
