import { Logger } from '@nestjs/common';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleAll,
  timeout,
  wrap,
} from 'cockatiel';
import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  UnavailableError,
  preSendVerdictSchema,
  type PreSendDraft,
  type PreSendHook,
  type PreSendVerdict,
} from '@jobsphere/chat-domain';
import { describeError } from '../common/log-text.js';
import { type PreSendHookConfig } from '../config/safety-config.js';
import { type MetricsService } from '../metrics/metrics.service.js';
import { type PreSendVerdicts } from './presend-verdicts.service.js';

/** The most of an answer read: a verdict is small (a replacement body is at most 4000 chars). */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Why the platform gave no usable verdict; each is counted, and the failure policy applies. */
export type HookFault = 'timeout' | 'error' | 'garbage' | 'saturated' | 'circuit-open';

class GarbageAnswer extends Error {}

/** One send's (or edit's) identity: what a retry repeats. */
export function draftKey(draft: PreSendDraft): string {
  const identity =
    draft.action === 'send'
      ? ['send', draft.conversationId, draft.senderId, draft.clientMessageId]
      : ['edit', draft.conversationId, draft.senderId, draft.messageId, draft.body];
  return createHash('sha256').update(JSON.stringify(identity)).digest('base64url');
}

/**
 * The platform's pre-send hook over HTTP: the draft POSTed, signed per Standard Webhooks, one
 * attempt within the deadline. At most `concurrency` calls in flight per instance (a bulkhead
 * with no queue: beyond it the failure policy applies at once, so a slow platform holds no
 * more than that many sends and no memory grows); a circuit opened by consecutive failures
 * spares the platform and the senders the wait until a probe succeeds. A timeout, an error, a
 * garbage answer, a full bulkhead or an open circuit: `allow` when the policy is open, UNAVAILABLE
 * (retry with the same clientMessageId) when closed, counted per fault. Verdicts (an open
 * policy's `allow` too: the send may be stored) are kept for retries.
 */
export class PreSendHookClient implements PreSendHook {
  private readonly logger = new Logger('PreSendHook');
  private readonly signer: Webhook;
  private readonly policy;

  constructor(
    private readonly config: PreSendHookConfig,
    private readonly verdicts: PreSendVerdicts,
    private readonly metrics: MetricsService,
  ) {
    this.signer = new Webhook(config.secret);
    this.policy = wrap(
      bulkhead(config.concurrency, 0),
      circuitBreaker(handleAll, {
        halfOpenAfter: config.breakerResetMs,
        breaker: new ConsecutiveBreaker(config.breakerFailures),
      }),
      timeout(config.timeoutMs, TimeoutStrategy.Aggressive),
    );
  }

  async check(draft: PreSendDraft): Promise<PreSendVerdict> {
    const key = draftKey(draft);
    const kept = await this.verdicts.get(key).catch(() => undefined);
    if (kept) {
      this.metrics.presendHook.inc({ outcome: 'kept' });
      return kept;
    }
    let verdict: PreSendVerdict;
    try {
      verdict = await this.policy.execute(({ signal }) => this.call(draft, key, signal));
      this.metrics.presendHook.inc({ outcome: verdict.verdict });
    } catch (error) {
      const fault = faultOf(error);
      this.metrics.presendHookFaults.inc({ fault, applied: this.config.failure });
      if (fault === 'error' || fault === 'garbage')
        this.logger.warn(`pre-send hook ${fault}: ${describeError(error)}`);
      if (this.config.failure === 'closed')
        throw new UnavailableError("the platform's check did not answer; retry");
      verdict = { verdict: 'allow' };
    }
    await this.verdicts.put(key, verdict, this.config.verdictTtlMs).catch(() => undefined);
    return verdict;
  }

  private async call(
    draft: PreSendDraft,
    key: string,
    signal: AbortSignal,
  ): Promise<PreSendVerdict> {
    const id = `presend_${key}`;
    const at = new Date();
    const payload = JSON.stringify({
      type: 'message.presend',
      timestamp: at.toISOString(),
      data: draft,
    });
    const response = await fetch(this.config.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'jobsphere-chat-presend',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': this.signer.sign(id, at, payload),
      },
      body: payload,
      redirect: 'manual',
      signal,
    });
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_ANSWER_BYTES) {
      await response.body?.cancel();
      throw new GarbageAnswer(`answer of ${length} bytes`);
    }
    const text = await response.text();
    if (response.status < 200 || response.status >= 300) throw new Error(`HTTP ${response.status}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.slice(0, MAX_ANSWER_BYTES));
    } catch {
      throw new GarbageAnswer('answer is not JSON');
    }
    const verdict = preSendVerdictSchema.safeParse(parsed);
    if (!verdict.success) throw new GarbageAnswer('answer is not a verdict');
    return verdict.data;
  }
}

function faultOf(error: unknown): HookFault {
  if (error instanceof BulkheadRejectedError) return 'saturated';
  if (error instanceof BrokenCircuitError) return 'circuit-open';
  if (error instanceof TaskCancelledError) return 'timeout';
  if (error instanceof GarbageAnswer) return 'garbage';
  return 'error';
}
