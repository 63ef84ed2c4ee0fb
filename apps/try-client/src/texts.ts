import type { ChatErrorCode, ConnectionStatus, OutboxEntry } from '@jobsphere/chat-client';

interface Reason {
  code: ChatErrorCode;
  message: string;
  retryAfterMs?: number | undefined;
  reason?: string | undefined;
}

const REJECT_REASONS: Record<string, string> = {
  'contact-details': 'contact details can only be shared once they accept your conversation',
  link: 'links can only be shared once they accept your conversation',
  scam: 'it looks like a request that recruitment scams make',
};

/** What the other side is told next to a masked message or one with scam signals. */
export function safetyNoticeText(notices: readonly string[]): string {
  const what = notices.includes('contact-hidden')
    ? notices.includes('link-hidden')
      ? 'Contact details and links are'
      : 'Contact details are'
    : 'Links are';
  return `${what} hidden until you accept this conversation.`;
}

export function safetyWarningText(signals: readonly string[]): string {
  const said: Record<string, string> = {
    'off-platform': 'moving the chat to another app',
    fee: 'a fee',
    'gift-card': 'gift cards',
    crypto: 'crypto or money transfers',
    'bank-details': 'your bank details',
  };
  return `Be careful: this message mentions ${signals.map((s) => said[s] ?? s).join(', ')}. Real employers never ask you to pay or to leave the platform.`;
}

// What people read: every error code the client can meet, said the way a recruiter or a
// candidate would want to hear it (the technical message stays in the console).

export function errorText(error: Reason): string {
  switch (error.code) {
    case 'NETWORK':
      return "Can't reach the chat server.";
    case 'TIMEOUT':
      return "The chat server didn't answer in time.";
    case 'UNAUTHORIZED':
    case 'TOKEN':
      return 'Your session has expired. Sign in again.';
    case 'RATE_LIMITED':
      return `You're going a bit fast. Trying again${waitText(error.retryAfterMs)}.`;
    case 'TOO_MANY_CONNECTIONS':
      return 'You have too many chat windows open. Close a few and this one reconnects.';
    case 'UNAVAILABLE':
      return 'The chat server is restarting or busy.';
    case 'NOT_A_MEMBER':
    case 'NOT_FOUND':
      return 'This conversation no longer exists on the server.';
    case 'FORBIDDEN':
      return "You're not allowed to do that.";
    case 'PAYLOAD_TOO_LARGE':
      return 'This message is too long.';
    case 'INVALID_PAYLOAD':
      return `This can't be sent: ${error.message.replace(/^invalid \w+: /, '')}.`;
    case 'OUTBOX_FULL':
      return 'Too many messages are waiting to be sent. Wait until you are back online.';
    case 'CONFLICT':
      return 'That was already done.';
    case 'BLOCKED':
      return "You can't message each other: one of you blocked the other.";
    case 'REQUEST_PENDING':
      return 'Wait for a reply: a first conversation allows only a few messages until it is accepted.';
    case 'REQUEST_DECLINED':
      return 'They declined this conversation.';
    case 'EDIT_WINDOW_PASSED':
      return 'This message is too old to edit.';
    case 'CONTENT_REJECTED':
      return `Not sent: ${(error.reason && REJECT_REASONS[error.reason]) ?? `the platform refused it (${error.reason ?? 'no reason given'})`}.`;
    case 'ALREADY_ANSWERED':
      return 'This was answered already.';
    case 'ACTION_EXPIRED':
      return 'This can no longer be answered: it expired.';
    case 'BANNED': {
      // The server's message names the moderator's reason: "you are banned: <reason>".
      const reason = /^you are banned: (.+)$/.exec(error.message)?.[1];
      return `A moderator suspended your account${reason ? `: ${reason}` : ''}. Contact support to appeal.`;
    }
    case 'SLOW_MODE': {
      const seconds = error.retryAfterMs
        ? Math.ceil(error.retryAfterMs / 1000)
        : Number(/may go in (\d+) s/.exec(error.message)?.[1] ?? 0);
      return `Slow mode is on in this conversation: it goes out by itself${seconds > 0 ? ` in ${seconds} s` : ' shortly'}.`;
    }
    case 'CLOSED':
      return 'You signed out.';
    default:
      return 'Something went wrong on the chat server.';
  }
}

function waitText(ms: number | undefined): string {
  if (!ms) return ' shortly';
  return ` in ${Math.max(1, Math.round(ms / 1000))} s`;
}

export function connectionText(status: ConnectionStatus, now: number): string {
  switch (status.state) {
    case 'idle':
      return 'Not connected';
    case 'connected':
      return 'Connected';
    case 'closed':
      return 'Signed out';
    case 'failed':
      return `Disconnected: ${errorText(status.error ?? { code: 'UNAUTHORIZED', message: '' })}`;
    default: {
      const base = status.state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
      if (status.draining) return `${base} (the server is restarting)`;
      if (!status.error) return base;
      const retry =
        status.retryAt !== undefined && status.retryAt > now + 900
          ? ` Next try in ${Math.round((status.retryAt - now) / 1000)} s.`
          : '';
      return `${base} ${errorText(status.error)}${retry}`;
    }
  }
}

/** The line under a message of mine that is not stored yet. */
export function pendingText(entry: OutboxEntry, online: boolean): string {
  if (entry.state === 'failed')
    return `Not sent: ${errorText(entry.error ?? { code: 'INTERNAL', message: '' })}`;
  if (!online) return 'Waiting for the connection…';
  if (entry.state === 'queued' && entry.error) return `Retrying… (${errorText(entry.error)})`;
  return 'Sending…';
}
