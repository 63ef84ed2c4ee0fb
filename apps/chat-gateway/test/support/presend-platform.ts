import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export const PRESEND_SECRET = `whsec_${Buffer.from('presend-test-secret-of-32-bytes!').toString('base64')}`;

export type PlatformAnswer =
  | { kind: 'json'; status?: number; body: unknown }
  | { kind: 'text'; status?: number; body: string }
  /** Holds the request until `release()`: a platform that is slow. */
  | { kind: 'hold' };

export interface PresendDraftSeen {
  action: string;
  conversationId: string;
  senderId: string;
  body: string;
  clientMessageId?: string;
}

/**
 * The platform's pre-send endpoint, a real HTTP server on loopback: verifies the Standard
 * Webhooks signature (a bad one gets 401), counts calls and calls in flight, and answers as the
 * test says.
 */
export class PresendPlatform {
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  badSignatures = 0;
  readonly drafts: PresendDraftSeen[] = [];
  answer: (draft: PresendDraftSeen) => PlatformAnswer = () => ({
    kind: 'json',
    body: { verdict: 'allow' },
  });
  private held: (() => void)[] = [];
  private server: Server | undefined;
  private readonly verifier = new Webhook(PRESEND_SECRET);

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/presend`;
  }

  /** Lets every held request go (answered `allow`). */
  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      let event: { data: PresendDraftSeen };
      try {
        event = this.verifier.verify(raw, req.headers as Record<string, string>) as {
          data: PresendDraftSeen;
        };
      } catch {
        this.badSignatures++;
        res.writeHead(401).end();
        return;
      }
      this.drafts.push(event.data);
      const answer = this.answer(event.data);
      if (answer.kind === 'hold') {
        await new Promise<void>((resolve) => this.held.push(resolve));
        if (!res.destroyed)
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"verdict":"allow"}');
        return;
      }
      const text = answer.kind === 'json' ? JSON.stringify(answer.body) : answer.body;
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(text);
    } finally {
      this.inFlight--;
    }
  }
}
