import { type AddressInfo } from 'node:net';
import { HttpException } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { methodNotAllowed, type RouteTable } from './method-not-allowed.js';

// A real Express 5 app and real HTTP: the middleware reads the router Express really built.
describe('methodNotAllowed', () => {
  let url: string;
  let close: () => void;
  const seen: string[] = [];

  beforeAll(async () => {
    const app = express();
    app.use(methodNotAllowed(() => app.router as unknown as RouteTable));
    app.use((req: Request, _res: Response, next: NextFunction) => {
      seen.push(`${req.method} ${req.path}`);
      next();
    });
    app.get('/things/:id', (_req, res) => void res.json({ got: true }));
    app.patch('/things/:id', (_req, res) => void res.json({ patched: true }));
    app.post('/things', (_req, res) => void res.status(201).json({ created: true }));
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const status = error instanceof HttpException ? error.getStatus() : 500;
      res.status(status).json({ status });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it('answers 405 with the methods the path has, before any handler sees the request', async () => {
    const response = await fetch(`${url}/things/42`, { method: 'DELETE', body: 'not json' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD, PATCH');
    expect(seen).not.toContain('DELETE /things/42');
  });

  it('lets declared methods, HEAD of a GET, unknown paths and CORS preflights through', async () => {
    expect((await fetch(`${url}/things/42`)).status).toBe(200);
    expect((await fetch(`${url}/things/42`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${url}/things`, { method: 'POST' })).status).toBe(201);
    const unknown = await fetch(`${url}/nothing/here`, { method: 'DELETE' });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('allow')).toBeNull();
    // Express answers OPTIONS itself (and the gateway's CORS layer answers preflights).
    expect((await fetch(`${url}/things`, { method: 'OPTIONS' })).status).toBe(200);
    expect(seen).toContain('OPTIONS /things');
  });
});
