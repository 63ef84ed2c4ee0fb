import { type Conversation, type MessageFlag, type MessageSafety } from '../entities.js';
import { ContentRejectedError } from '../errors.js';
import {
  judgeContent,
  hasFindings,
  scanContent,
  type ConversationSafetyState,
} from '../content-policy.js';
import { type PreSendDraft } from '../presend.js';
import { type ChatDeps } from './context.js';

export interface Screened {
  body: string;
  safety?: MessageSafety;
}

/**
 * A draft (a send or an edit) before it is stored: the platform's pre-send hook first when
 * configured (reject, replace, flag), then the built-in content policy on what would be stored,
 * acted on per the conversation's state. The conversation is read only when the policy found
 * something (`conversation` loads it), so an ordinary message costs one scan and no call.
 */
export async function screenDraft(
  deps: ChatDeps,
  draft: PreSendDraft,
  conversation: () => Promise<Conversation>,
): Promise<Screened> {
  const at = deps.clock.now();
  const flags: MessageFlag[] = [];
  let body = draft.body;
  let replaced: string | undefined;
  if (deps.presend) {
    const verdict = await deps.presend.check(draft);
    if (verdict.verdict === 'reject') throw new ContentRejectedError(verdict.reason, 'hook');
    if (verdict.verdict === 'flag') flags.push({ source: 'hook', reason: verdict.reason, at });
    if (verdict.verdict === 'replace' && verdict.body !== body) {
      replaced = body;
      body = verdict.body;
    }
  }
  const settings = deps.contentPolicy;
  let safety: MessageSafety = {};
  if (settings?.enabled) {
    const scan = scanContent(body, settings.allowedDomains);
    if (hasFindings(scan)) {
      const state = safetyState(await conversation(), draft.senderId);
      const verdict = judgeContent(body, state, settings, scan);
      if (verdict.reject) throw new ContentRejectedError(verdict.reject, 'policy');
      if (verdict.warning)
        for (const signal of verdict.warning)
          flags.push({ source: 'policy', reason: `scam:${signal}`, at });
      safety = {
        ...(verdict.masked && { masked: verdict.masked }),
        ...(verdict.warning && { warning: verdict.warning }),
      };
    }
  }
  if (flags.length > 0) safety.flags = flags;
  if (replaced !== undefined) safety.replaced = replaced;
  return Object.keys(safety).length > 0 ? { body, safety } : { body };
}

/**
 * A message from the opener of an open request goes to someone who has not accepted them; the
 * recipient's reply accepts it, and every other conversation is accepted.
 */
function safetyState(conversation: Conversation, senderId: string): ConversationSafetyState {
  const request = conversation.request;
  return request?.state === 'pending' && request.from === senderId ? 'request' : 'accepted';
}
