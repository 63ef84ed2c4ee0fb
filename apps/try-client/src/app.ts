import {
  createChatClient,
  type ChatClient,
  type ChatError,
  type ConversationView,
  type MessageDto,
  type OutboxEntry,
  type SearchPage,
} from '@jobsphere/chat-client';
import type { UserRole } from '@jobsphere/chat-domain';
import { DevTokenError, mintToken } from './api.js';
import { DEMO_JOBS, DEMO_PEOPLE, jobText, nameWithRole, person, roleText } from './directory.js';
import {
  clearIdentity,
  loadIdentity,
  ROLES,
  saveIdentity,
  USER_ID,
  type Identity,
} from './identity.js';
import { receiptLabel, setupReceipts } from './receipts.js';
import { setupTemplates } from './templates.js';
import {
  connectionText,
  errorText,
  pendingText,
  safetyNoticeText,
  safetyWarningText,
} from './texts.js';

// The try page is a thin view over @jobsphere/chat-client: the client keeps the connection,
// the outbox, every conversation and its read state; this file only draws them.

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
};

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props))
    if (value !== undefined) el.setAttribute(name, value);
  for (const child of children) if (child !== undefined) el.append(child);
  return el;
}

const time = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const day = (iso: string) =>
  new Date(iso).toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' });

function announce(text: string): void {
  const region = $('announcer');
  region.textContent = '';
  // A fresh text node after clearing makes screen readers speak repeated texts too.
  requestAnimationFrame(() => (region.textContent = text));
}

function notice(text: string | undefined): void {
  $('notice').hidden = text === undefined;
  $('notice-text').textContent = text ?? '';
}

async function signIn(userId: string, role: UserRole): Promise<Identity> {
  const identity = { userId, role, token: await mintToken(userId, role) };
  saveIdentity(identity);
  return identity;
}

function signInError(error: unknown): string {
  if (error instanceof DevTokenError && error.status === 0)
    return "Can't reach the chat server. Is it running?";
  if (error instanceof DevTokenError && error.status === 404)
    return 'This server does not hand out development identities (is it in production mode?).';
  return error instanceof Error ? error.message : String(error);
}

function showLogin(): void {
  $('login').hidden = false;
  $('chat').hidden = true;
  $('whoami').hidden = true;
  const form = $<HTMLFormElement>('login-form');
  const user = $<HTMLInputElement>('login-user');
  const role = $<HTMLSelectElement>('login-role');
  const error = $('login-error');
  const submit = async () => {
    error.textContent = '';
    const userId = user.value.trim();
    if (!USER_ID.test(userId)) {
      error.textContent = 'Use 1–64 letters, digits or _ . : @ -';
      user.focus();
      return;
    }
    try {
      startChat(await signIn(userId, role.value as UserRole));
    } catch (e) {
      error.textContent = `Could not sign in: ${signInError(e)}`;
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('.quick button')) {
    button.addEventListener('click', () => {
      user.value = button.dataset['user'] ?? '';
      role.value = button.dataset['role'] ?? 'candidate';
      void submit();
    });
  }
  user.focus();
}

/** Everything the view keeps itself: what is open, and where the message pane is scrolled. */
interface ViewState {
  openId: string | undefined;
  /** Narrow screens show the list or the thread. */
  pane: 'list' | 'thread';
  atBottom: boolean;
  /** First and last message drawn, to tell "older loaded" from "new arrived". */
  drawnFirst: string | undefined;
  drawnLast: string | undefined;
  drawnFor: string | undefined;
  scrollToEnd: boolean;
  loadingOlder: boolean;
  removed: string[];
  unsentLost: number;
  /** The own message the composer edits, if any. */
  editing: string | undefined;
  /** The message the next send replies to, if any. */
  replyingTo: string | undefined;
  /** Members of the open group the next send mentions. */
  mentions: Set<string>;
  /** The people this user blocks (the server says whom; a block either way shows as blocked). */
  blockedByMe: Set<string>;
}

function startChat(initial: Identity): void {
  let identity = initial;
  $('login').hidden = true;
  $('chat').hidden = false;
  $('whoami').hidden = false;
  $('whoami-text').textContent = `You are ${nameWithRole(identity.userId)}`;
  document.title = `${person(identity.userId).name} – JobSphere Chat`;

  const client = createChatClient({
    url: location.origin,
    userId: identity.userId,
    token: async ({ forceRefresh }) => {
      // Dev tokens last 12 hours; a refused or expiring one is minted anew for the same person.
      if (forceRefresh) identity = await signIn(identity.userId, identity.role);
      return identity.token;
    },
    // Per window, like the identity: a reload of this window keeps what was not sent yet.
    storage: sessionStorage,
    // A local gateway restarts in a second or two: retry often rather than back off to 30 s.
    timings: { backoff: { initialMs: 500, maxMs: 4_000 } },
  });
  const view: ViewState = {
    openId: undefined,
    pane: 'list',
    atBottom: true,
    drawnFirst: undefined,
    drawnLast: undefined,
    drawnFor: undefined,
    scrollToEnd: false,
    loadingOlder: false,
    removed: [],
    unsentLost: 0,
    editing: undefined,
    replyingTo: undefined,
    mentions: new Set(),
    blockedByMe: new Set(),
  };
  const render = scheduler(() => draw(client, view));

  client.on('change', render);
  client.on('message', ({ conversationId, message, source }) => {
    if (source !== 'live' || message.senderId === client.userId) return;
    const open = view.openId === conversationId;
    announce(`${open ? '' : 'New message. '}${person(message.senderId).name}: ${message.body}`);
  });
  client.on('conversation:removed', ({ conversationId, error }) => {
    if (error.code !== 'NOT_A_MEMBER' && error.code !== 'NOT_FOUND') return;
    view.removed.push(conversationId);
    if (view.openId === conversationId) closeThread(view);
    // What waited to be sent there cannot be any more (and is not shown anywhere): let it go.
    const unsent = client.pending().filter((p) => p.conversationId === conversationId);
    for (const p of unsent) client.discard(p.clientMessageId);
    view.unsentLost += unsent.length;
    notice(removedText(view.removed.length, view.unsentLost));
    render();
  });
  client.on('error', (error: ChatError) => console.warn(`[chat] ${error.code}: ${error.message}`));
  // The reconnect countdown in the status line moves while reconnecting.
  setInterval(() => {
    if (client.status.state !== 'connected') render();
  }, 1_000);

  $('switch-user').addEventListener('click', () => {
    void client.close().then(() => {
      clearIdentity();
      location.reload();
    });
  });
  $('notice-close').addEventListener('click', () => {
    view.removed = [];
    view.unsentLost = 0;
    notice(undefined);
  });

  setupOpenForm(client, view, render);
  setupThread(client, view, render);
  setupTrust(client, view, render);
  setupOrganise(client, view, render);
  setupSearch(client, view, render);
  setupReceipts(client, (e) => announce(errorText(e)));
  setupTemplates(client, identity.role, { openId: () => view.openId, say: announce });

  client
    .connect()
    .then(() =>
      Promise.all([client.loadConversations(), client.loadRequests(), client.blockedUsers()]),
    )
    .then(
      ([, , blocked]) => {
        for (const u of blocked.users) view.blockedByMe.add(u.userId);
        render();
      },
      (error: ChatError) => notice(errorText(error)),
    );
}

function removedText(count: number, unsent: number): string {
  const what = count === 1 ? 'one of your conversations' : `${count} of your conversations`;
  const lost =
    unsent === 0
      ? ''
      : ` ${unsent === 1 ? 'One message' : `${unsent} messages`} you wrote there could not be sent.`;
  return (
    `The chat server no longer has ${what}. The development server keeps everything in ` +
    'memory, so restarting it clears all conversations and messages.' +
    lost +
    ' Start a new conversation to carry on.'
  );
}

function setupOpenForm(client: ChatClient, view: ViewState, render: () => void): void {
  const people = $('people');
  people.replaceChildren(
    ...DEMO_PEOPLE.filter((p) => p.userId !== client.userId).map((p) =>
      h('option', { value: p.userId }, `${p.name} (${roleText(p.role)})`),
    ),
  );
  $('open-job').replaceChildren(
    h('option', { value: '' }, 'No specific job'),
    ...DEMO_JOBS.map((j) => h('option', { value: j.jobId }, `${j.title} at ${j.company}`)),
  );
  const form = $<HTMLFormElement>('open-form');
  const user = $<HTMLInputElement>('open-user');
  const job = $<HTMLSelectElement>('open-job');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const userId = user.value.trim();
    $('open-error').textContent = '';
    if (!USER_ID.test(userId)) {
      $('open-error').textContent = 'Use 1–64 letters, digits or _ . : @ -';
      return;
    }
    if (userId === client.userId) {
      $('open-error').textContent = 'Pick someone other than yourself.';
      return;
    }
    client.openDirect({ userId, ...(job.value && { jobId: job.value }) }).then(
      (conversation) => {
        user.value = '';
        $<HTMLDetailsElement>('open-box').open = false;
        openThread(client, view, conversation.id, render);
      },
      (e: ChatError) => ($('open-error').textContent = errorText(e)),
    );
  });
}

/** Requests (accept, decline), block and report: each one call of the SDK. */
function setupTrust(client: ChatClient, view: ViewState, render: () => void): void {
  $('request-list').addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-id]');
    const id = button?.dataset['id'];
    if (!button || !id) return;
    const answer = button.dataset['answer'];
    if (answer === 'accept' || answer === 'decline')
      client[answer](id).then(
        () => {
          announce(answer === 'accept' ? 'Accepted.' : 'Declined.');
          if (answer === 'decline' && view.openId === id) closeThread(view);
          render();
        },
        (e: ChatError) => announce(errorText(e)),
      );
    else openThread(client, view, id, render);
  });
  const other = () => {
    const c = view.openId ? client.conversation(view.openId) : undefined;
    return c?.kind === 'direct' ? others(client, c)[0] : undefined;
  };
  $('block').addEventListener('click', () => {
    const userId = other();
    if (!userId) return;
    const blocking = !view.blockedByMe.has(userId);
    (blocking ? client.block(userId) : client.unblock(userId)).then(
      () => {
        if (blocking) view.blockedByMe.add(userId);
        else view.blockedByMe.delete(userId);
        announce(`${person(userId).name} is ${blocking ? 'blocked' : 'unblocked'}.`);
        render();
      },
      (e: ChatError) => announce(errorText(e)),
    );
  });
  $('report').addEventListener('click', () => {
    const id = view.openId;
    if (!id) return;
    client.report({ conversationId: id, reason: 'inappropriate' }).then(
      () => announce('Reported. The moderators will look at it; the other person is not told.'),
      (e: ChatError) => announce(errorText(e)),
    );
  });
}

/** Mute, pin, archive, mark unread: this person's own organisation of the open conversation. */
function setupOrganise(client: ChatClient, view: ViewState, render: () => void): void {
  const toggle = (id: string, key: 'pinned' | 'muted' | 'archived', done: [string, string]) =>
    $(id).addEventListener('click', () => {
      const c = view.openId ? client.conversation(view.openId) : undefined;
      if (!c) return;
      const on = !c.organisation[key];
      client.organise(c.id, { [key]: on }).then(
        () => {
          announce(on ? done[0] : done[1]);
          render();
        },
        (e: ChatError) => announce(errorText(e)),
      );
    });
  toggle('org-pin', 'pinned', ['Pinned.', 'Unpinned.']);
  toggle('org-mute', 'muted', ['Muted.', 'Unmuted.']);
  toggle('org-archive', 'archived', ['Archived.', 'Moved back to your conversations.']);
  $('org-unread').addEventListener('click', () => {
    const id = view.openId;
    if (!id) return;
    client.organise(id, { unread: true }).then(
      () => {
        announce('Marked unread.');
        // Left open it would be read again at once: back to the list, like a mail app.
        closeThread(view);
        render();
      },
      (e: ChatError) => announce(errorText(e)),
    );
  });
  $('show-archived').addEventListener('change', render);
}

/** Message search: hits newest first, the matched words marked, more on demand. */
function setupSearch(client: ChatClient, view: ViewState, render: () => void): void {
  const input = $<HTMLInputElement>('search-q');
  let query = '';
  let cursor: string | undefined;
  const show = (page: SearchPage, append: boolean) => {
    cursor = page.nextCursor;
    const items = page.hits.map((hit) => {
      const c = client.conversation(hit.conversationId);
      const title = c ? titleOf(client, c) : 'Conversation';
      const m = hit.message;
      return h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'conv',
            'data-id': hit.conversationId,
            'aria-label': `${title}, ${person(m.senderId).name} at ${time(m.createdAt)}: ${m.body}`,
          },
          h('span', { class: 'name' }, title),
          h('span', { class: 'context' }, `${person(m.senderId).name} · ${time(m.createdAt)}`),
          h('span', { class: 'preview hit-body' }, ...highlighted(m.body, hit.ranges)),
        ),
      );
    });
    const list = $('search-list');
    if (append) list.append(...items);
    else list.replaceChildren(...items);
    $('search-results').hidden = false;
    $('search-none').hidden = list.childElementCount > 0;
    $('search-more').hidden = cursor === undefined;
  };
  const run = (append: boolean) => {
    $('search-error').textContent = '';
    client.search({ q: query, ...(append && cursor !== undefined && { cursor }) }).then(
      (page) => show(page, append),
      (e: ChatError) => ($('search-error').textContent = errorText(e)),
    );
  };
  $<HTMLFormElement>('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    query = input.value.trim();
    if (query === '') return;
    run(false);
  });
  $('search-more').addEventListener('click', () => run(true));
  $('search-close').addEventListener('click', () => {
    $('search-results').hidden = true;
    $('search-list').replaceChildren();
    $('search-error').textContent = '';
    input.value = '';
  });
  $('search-list').addEventListener('click', (event) => {
    const id = (event.target as Element).closest<HTMLButtonElement>('button[data-id]')?.dataset[
      'id'
    ];
    if (id) openThread(client, view, id, render);
  });
}

/** A body as text nodes with the matched ranges in <mark>: never parsed as HTML. */
function highlighted(
  body: string,
  ranges: readonly { start: number; end: number }[],
): (Node | string)[] {
  const parts: (Node | string)[] = [];
  let at = 0;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    const start = Math.max(r.start, at);
    const end = Math.min(r.end, body.length);
    if (end <= start) continue;
    if (start > at) parts.push(body.slice(at, start));
    parts.push(h('mark', {}, body.slice(start, end)));
    at = end;
  }
  if (at < body.length) parts.push(body.slice(at));
  return parts;
}

function openThread(client: ChatClient, view: ViewState, id: string, render: () => void): void {
  if (view.openId && view.openId !== id) client.stopTyping(view.openId);
  view.editing = undefined;
  view.openId = id;
  view.pane = 'thread';
  view.scrollToEnd = true;
  view.atBottom = true;
  render();
  client.open(id).then(
    () => {
      view.scrollToEnd = true;
      render();
    },
    (e: ChatError) => announce(errorText(e)),
  );
  $('composer-input').focus();
}

function closeThread(view: ViewState): void {
  view.openId = undefined;
  view.pane = 'list';
}

function setupThread(client: ChatClient, view: ViewState, render: () => void): void {
  const input = $<HTMLTextAreaElement>('composer-input');
  const list = $('messages');
  const grow = () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  };
  const sendNow = () => {
    const id = view.openId;
    if (!id || input.value.trim() === '') return;
    const editing = view.editing;
    if (editing) {
      client.edit(id, editing, input.value).then(
        () => {
          view.editing = undefined;
          input.value = '';
          grow();
          render();
        },
        (e: ChatError) => announce(errorText(e)),
      );
      return;
    }
    const later = Number($<HTMLSelectElement>('schedule-in').value);
    if (later > 0) {
      const followUp = $<HTMLInputElement>('follow-up').checked;
      const sendAt = new Date(Date.now() + later).toISOString();
      client.schedule({ conversationId: id, body: input.value, sendAt, followUp }).then(
        (s) => {
          announce(`Scheduled for ${time(s.sendAt)}${followUp ? ', if nobody answers first' : ''}`);
          document.dispatchEvent(new Event('scheduled:changed'));
          input.value = '';
          grow();
        },
        (e: ChatError) => announce(errorText(e)),
      );
      return;
    }
    try {
      const replyTo = view.replyingTo;
      const mentions = [...view.mentions];
      client.send(id, input.value, {
        ...(replyTo !== undefined && { replyTo }),
        ...(mentions.length > 0 && { mentions }),
      });
      view.replyingTo = undefined;
      view.mentions.clear();
      render();
      input.value = '';
      grow();
      view.scrollToEnd = true;
    } catch (e) {
      announce(errorText(e as ChatError));
    }
  };
  $<HTMLFormElement>('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    sendNow();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendNow();
    }
  });
  input.addEventListener('input', () => {
    grow();
    if (!view.openId) return;
    if (input.value.trim() === '') client.stopTyping(view.openId);
    else client.typing(view.openId);
  });
  input.addEventListener('blur', () => view.openId && client.stopTyping(view.openId));

  $('conv-list').addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-id]');
    const id = button?.dataset['id'];
    if (id) openThread(client, view, id, render);
  });
  $('reply-cancel').addEventListener('click', () => {
    view.replyingTo = undefined;
    render();
  });
  $('mention-options').addEventListener('change', (event) => {
    const box = event.target as HTMLInputElement;
    const userId = box.dataset['mention'];
    if (!userId) return;
    if (box.checked) view.mentions.add(userId);
    else view.mentions.delete(userId);
  });
  $('edit-cancel').addEventListener('click', () => {
    view.editing = undefined;
    input.value = '';
    grow();
    render();
  });
  $('back').addEventListener('click', () => {
    view.pane = 'list';
    render();
  });
  $('jump').addEventListener('click', () => {
    view.scrollToEnd = true;
    render();
  });
  list.addEventListener('click', (event) => {
    const target = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
    const id = target?.dataset['id'];
    if (!target || !id) return;
    const action = target.dataset['action'];
    const open = view.openId;
    if (action === 'retry') client.retry(id);
    else if (action === 'discard') client.discard(id);
    else if (action === 'reply' && open) {
      view.replyingTo = id;
      input.focus();
      render();
    } else if (action === 'react' && open) {
      const emoji = target.dataset['emoji'] ?? '👍';
      const mine = target.getAttribute('aria-pressed') === 'true';
      client.react(open, id, emoji, !mine).catch((e: ChatError) => announce(errorText(e)));
    } else if (action === 'answer' && open && target.dataset['choice'])
      client
        .answerAction(open, id, target.dataset['choice'])
        .catch((e: ChatError) => announce(errorText(e)));
    else if (action === 'edit' && open) {
      view.editing = id;
      input.value = client.conversation(open)?.messages.find((m) => m.id === id)?.body ?? '';
      grow();
      input.focus();
      render();
    } else if (action === 'delete' && open) {
      if (view.editing === id) view.editing = undefined;
      client.delete(open, id).catch((e: ChatError) => announce(errorText(e)));
    }
  });
  list.addEventListener('scroll', () => {
    view.atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 48;
    if (view.atBottom) {
      $('jump').hidden = true;
      markReadIfSeen(client, view);
    }
    const id = view.openId;
    const open = id ? client.conversation(id) : undefined;
    if (id && open?.hasOlder && open.historyLoaded && list.scrollTop < 120 && !view.loadingOlder) {
      view.loadingOlder = true;
      client
        .loadOlder(id)
        .catch((e: ChatError) => announce(errorText(e)))
        .finally(() => {
          view.loadingOlder = false;
          render();
        });
    }
  });
  document.addEventListener('visibilitychange', () => markReadIfSeen(client, view));
}

/** Read is what a person saw: the thread open, the window visible, the newest in view. */
function markReadIfSeen(client: ChatClient, view: ViewState): void {
  if (!view.openId || document.visibilityState !== 'visible' || !view.atBottom) return;
  if (view.pane !== 'thread' && matchMedia('(max-width: 720px)').matches) return;
  client.markRead(view.openId);
}

/** Coalesces a burst of changes into one draw per frame. */
function scheduler(draw: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      draw();
    });
  };
}

function draw(client: ChatClient, view: ViewState): void {
  const conn = $('conn');
  const status = client.status;
  conn.dataset['state'] = status.state;
  conn.textContent = connectionText(status, Date.now());
  $('chat').dataset['view'] = view.pane;
  drawList(client, view);
  drawThread(client, view);
  markReadIfSeen(client, view);
}

function presenceOf(client: ChatClient, userId: string): { online: boolean; text: string } {
  const p = client.presence(userId);
  if (p?.online) return { online: true, text: 'online' };
  return {
    online: false,
    text: p?.lastSeenAt ? `offline, last seen ${time(p.lastSeenAt)}` : 'offline',
  };
}

function others(client: ChatClient, c: ConversationView): string[] {
  return c.members.map((m) => m.userId).filter((id) => id !== client.userId);
}

function titleOf(client: ChatClient, c: ConversationView): string {
  if (c.title) return c.title;
  const names = others(client, c).map((id) => person(id).name);
  return names.join(', ') || 'Conversation';
}

/** "Recruiter · Talent partner, Northwind · About Senior Frontend Engineer at Northwind". */
function subtitleOf(client: ChatClient, c: ConversationView): string {
  const parts: string[] = [];
  if (c.kind === 'group') {
    parts.push(`Group of ${c.members.length}: ${others(client, c).map(nameWithRole).join(', ')}`);
  } else {
    const other = person(others(client, c)[0] ?? '');
    const role = roleText(other.role);
    if (role) parts.push(role);
    if (other.headline) parts.push(other.headline);
  }
  const job = jobText(c.jobId);
  if (job) parts.push(`About ${job}`);
  return parts.join(' · ');
}

function drawList(client: ChatClient, view: ViewState): void {
  const total = client.totalUnread;
  const badge = $('total-unread');
  badge.hidden = total === 0;
  badge.textContent = String(total);
  badge.setAttribute('aria-label', `${total} unread`);
  // Pinned first, archived out unless asked for; otherwise the client's order (latest first).
  const showArchived = $<HTMLInputElement>('show-archived').checked;
  const shown = client.conversations().filter((c) => showArchived || !c.organisation.archived);
  const conversations = [
    ...shown.filter((c) => c.organisation.pinned),
    ...shown.filter((c) => !c.organisation.pinned),
  ];
  $('conv-empty').hidden = conversations.length > 0;
  const items = conversations.map((c) => {
    const other = c.kind === 'direct' ? others(client, c)[0] : undefined;
    const presence = other ? presenceOf(client, other) : undefined;
    const last = c.lastMessage;
    const unread = c.unreadCount;
    const title = titleOf(client, c);
    const role = other ? roleText(person(other).role) : 'Group';
    const job = jobText(c.jobId);
    const own = c.organisation;
    const label = [
      title,
      own.pinned ? 'pinned' : undefined,
      own.muted ? 'muted' : undefined,
      own.archived ? 'archived' : undefined,
      role,
      job,
      presence?.text,
      unread ? `${unread} unread` : own.unread ? 'marked unread' : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    return h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button',
          class: 'conv',
          'data-id': c.id,
          'aria-label': label,
          'aria-current': String(c.id === view.openId),
        },
        h('span', {
          class: 'dot',
          'data-online': String(presence?.online ?? false),
          'data-kind': c.kind ?? 'direct',
          title: presence?.text ?? 'group',
        }),
        h('span', { class: 'name' }, title, marksOf(c)),
        unread
          ? h('span', { class: 'badge' }, String(unread))
          : own.unread
            ? h('span', { class: 'badge', title: 'marked unread' }, '•')
            : h('span'),
        h('span', { class: 'context' }, [role, job].filter(Boolean).join(' · ')),
        h(
          'span',
          { class: 'preview' },
          last
            ? `${last.senderId === client.userId ? 'You: ' : ''}${previewOf(last.body)}`
            : 'No messages yet',
        ),
      ),
    );
  });
  $('conv-list').replaceChildren(...items);

  const requests = client.requests();
  $('requests').hidden = requests.length === 0;
  $('request-list').replaceChildren(
    ...requests.map((c) => {
      const title = titleOf(client, c);
      const last = c.lastMessage;
      return h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'conv',
            'data-id': c.id,
            'aria-current': String(c.id === view.openId),
          },
          h('span', { class: 'name' }, title),
          h(
            'span',
            { class: 'context' },
            [roleText(person(others(client, c)[0] ?? '').role), jobText(c.jobId)]
              .filter(Boolean)
              .join(' · '),
          ),
          h('span', { class: 'preview' }, last ? previewOf(last.body) : 'No messages yet'),
        ),
        h(
          'div',
          { class: 'request-actions' },
          h(
            'button',
            {
              type: 'button',
              'data-id': c.id,
              'data-answer': 'accept',
              'aria-label': `Accept ${title}`,
            },
            'Accept',
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              'data-id': c.id,
              'data-answer': 'decline',
              'aria-label': `Decline ${title}`,
            },
            'Decline',
          ),
        ),
      );
    }),
  );
}

/** Pinned, muted and archived, as small signs after the name (the button's label says them). */
function marksOf(c: ConversationView): HTMLElement | undefined {
  const own = c.organisation;
  const signs = [own.pinned && '📌', own.muted && '🔕', own.archived && '🗄'].filter(Boolean);
  return signs.length > 0
    ? h('span', { class: 'marks', 'aria-hidden': 'true' }, signs.join(''))
    : undefined;
}

/** A list entry's last line: a deleted message (its body is gone) says so instead of nothing. */
function previewOf(body: string): string {
  return body === '' ? 'Message deleted' : body;
}

function drawThread(client: ChatClient, view: ViewState): void {
  const c = view.openId ? client.conversation(view.openId) : undefined;
  const input = $<HTMLTextAreaElement>('composer-input');
  const closed = !c || c.blocked || c.request?.state === 'declined';
  input.disabled = closed;
  $<HTMLButtonElement>('send').disabled = closed;
  input.placeholder = c?.blocked
    ? "You can't message each other: one of you blocked the other"
    : 'Write a message – Enter sends, Shift+Enter adds a line';
  $('editing').hidden = !c || view.editing === undefined;
  const quoted = c?.messages.find((m) => m.id === view.replyingTo);
  if (!quoted) view.replyingTo = undefined;
  $('replying').hidden = !quoted;
  $('replying-to').textContent = quoted
    ? `${person(quoted.senderId).name}: ${previewOf(quoted.body)}`
    : '';
  drawMentionPicker(client, view, c);
  $<HTMLButtonElement>('send').textContent = view.editing ? 'Save' : 'Send';
  const peer = c?.kind === 'direct' ? others(client, c)[0] : undefined;
  $('thread-actions').hidden = !peer;
  $('organise').hidden = !c || c.request?.to === client.userId;
  if (c) {
    const own = c.organisation;
    for (const [id, on, yes, no] of [
      ['org-pin', own.pinned, 'Unpin', 'Pin'],
      ['org-mute', own.muted, 'Unmute', 'Mute'],
      ['org-archive', own.archived, 'Unarchive', 'Archive'],
    ] as const)
      $(id).textContent = on ? yes : no;
  }
  $('block').textContent = peer && view.blockedByMe.has(peer) ? 'Unblock' : 'Block';
  const list = $('messages');
  if (!c) {
    $('thread-title').textContent = 'No conversation open';
    $('thread-sub').textContent = 'Pick one on the left, or start a new one.';
    $('thread-presence').replaceChildren();
    $('typing').textContent = '';
    $('thread-empty').hidden = true;
    list.replaceChildren();
    view.drawnFor = undefined;
    return;
  }
  $('thread-title').textContent = titleOf(client, c);
  $('thread-sub').textContent = subtitleOf(client, c);
  const other = c.kind === 'direct' ? others(client, c)[0] : undefined;
  const head = $('thread-presence');
  if (other) {
    const p = presenceOf(client, other);
    head.replaceChildren(
      h('span', { class: 'dot', 'data-online': String(p.online), 'aria-hidden': 'true' }),
      p.text,
    );
  } else head.replaceChildren();

  const first = c.messages[0]?.id;
  const last = c.messages.at(-1)?.id ?? c.pending.at(-1)?.clientMessageId;
  const switched = view.drawnFor !== c.id;
  const olderCame = !switched && first !== view.drawnFirst && view.drawnLast === last;
  const newCame = !switched && last !== view.drawnLast;
  const heightBefore = list.scrollHeight;
  const topBefore = list.scrollTop;

  list.replaceChildren(...messageItems(client, c));
  $('thread-empty').hidden = c.messages.length > 0 || c.pending.length > 0 || !c.historyLoaded;

  if (switched || view.scrollToEnd || (newCame && view.atBottom)) {
    list.scrollTop = list.scrollHeight;
    view.atBottom = true;
    $('jump').hidden = true;
  } else if (olderCame) {
    list.scrollTop = topBefore + (list.scrollHeight - heightBefore);
  } else if (newCame) {
    $('jump').hidden = false;
  }
  view.scrollToEnd = false;
  view.drawnFor = c.id;
  view.drawnFirst = first;
  view.drawnLast = last;

  const typers = c.typing.map((id) => person(id).name);
  $('typing').textContent =
    typers.length === 0 ? '' : `${typers.join(', ')} ${typers.length === 1 ? 'is' : 'are'} typing…`;
}

/** In a group: one box per other member who joined, checked ones mentioned by the next send. */
function drawMentionPicker(
  client: ChatClient,
  view: ViewState,
  c: ConversationView | undefined,
): void {
  const picker = $('mention-picker');
  const members = c?.kind === 'group' ? others(client, c) : [];
  picker.hidden = members.length === 0;
  for (const id of view.mentions) if (!members.includes(id)) view.mentions.delete(id);
  $('mention-options').replaceChildren(
    ...members.map((userId) =>
      h(
        'label',
        { class: 'mention' },
        h('input', {
          type: 'checkbox',
          'data-mention': userId,
          ...(view.mentions.has(userId) && { checked: '' }),
        }),
        ` @${person(userId).name}`,
      ),
    ),
  );
}

/** The quoted message above a reply, as the client knows it now (edits and deletions follow). */
function quoteOf(client: ChatClient, m: MessageDto): HTMLElement | undefined {
  const quote = client.quoted(m);
  if (!quote) return undefined;
  const who = quote.senderId ? person(quote.senderId).name : 'Someone';
  return h(
    'blockquote',
    { class: 'quote' },
    quote.deleted ? `${who}: This message was deleted` : `${who}: ${previewOf(quote.body)}`,
  );
}

/** The reactions on a message (press one to add or take back yours), and Reply / 👍. */
function reactionBar(m: MessageDto): HTMLElement {
  const chips = (m.reactions ?? []).map((r) =>
    h(
      'button',
      {
        type: 'button',
        class: r.mine ? 'chip mine' : 'chip',
        'data-action': 'react',
        'data-id': m.id,
        'data-emoji': r.emoji,
        'aria-pressed': String(r.mine === true),
        'aria-label': `${r.emoji} ${r.count}${r.mine ? ', yours' : ''}`,
      },
      `${r.emoji} ${r.count}`,
    ),
  );
  const liked = m.reactions?.some((r) => r.emoji === '👍' && r.mine) === true;
  return h(
    'div',
    { class: 'meta reactions' },
    ...chips,
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        'data-action': 'reply',
        'data-id': m.id,
        'aria-label': 'Reply to message',
      },
      'Reply',
    ),
    liked
      ? undefined
      : h(
          'button',
          {
            type: 'button',
            class: 'link',
            'data-action': 'react',
            'data-id': m.id,
            'data-emoji': '👍',
            'aria-pressed': 'false',
            'aria-label': 'React with thumbs up',
          },
          '👍',
        ),
  );
}

function messageItems(client: ChatClient, c: ConversationView): HTMLElement[] {
  const items: HTMLElement[] = [];
  const lastMine = c.messages.findLast((m) => m.senderId === client.userId);
  let previous: MessageDto | undefined;
  for (const [i, m] of c.messages.entries()) {
    const next = c.messages[i + 1];
    // A run of messages from one person within a few minutes shows name and time once, at its end.
    const runGoesOn =
      next !== undefined &&
      next.senderId === m.senderId &&
      Date.parse(next.createdAt) - Date.parse(m.createdAt) < 5 * 60_000 &&
      day(next.createdAt) === day(m.createdAt);
    if (!previous || day(previous.createdAt) !== day(m.createdAt))
      items.push(h('li', { class: 'day', role: 'separator' }, day(m.createdAt)));
    const own = m.senderId === client.userId;
    const showName = !own && c.kind === 'group' && previous?.senderId !== m.senderId;
    const deleted = m.deletedAt !== undefined;
    let status: HTMLElement | undefined;
    if (own && m === lastMine) {
      const receipt = receiptLabel(c.peerReadSeq, c.peerDeliveredSeq, m.seq);
      status = h('span', { class: receipt.cls }, receipt.text);
    }
    items.push(
      h(
        'li',
        { class: own ? 'msg mine' : 'msg theirs', 'data-seq': String(m.seq) },
        showName ? h('div', { class: 'from' }, nameWithRole(m.senderId)) : undefined,
        deleted ? undefined : quoteOf(client, m),
        h(
          'div',
          { class: deleted ? 'bubble deleted' : 'bubble' },
          deleted ? 'This message was deleted' : m.body,
        ),
        !deleted && m.safety?.notices
          ? h('div', { class: 'safety notice', role: 'note' }, safetyNoticeText(m.safety.notices))
          : undefined,
        !deleted && m.safety?.warning
          ? h(
              'div',
              { class: 'safety warning', role: 'alert' },
              safetyWarningText(m.safety.warning),
            )
          : undefined,
        own && !deleted && m.safety?.recipientBody !== undefined
          ? h('div', { class: 'safety notice' }, `They see: ${m.safety.recipientBody}`)
          : undefined,
        m.action && !deleted ? actionCard(client, m) : undefined,
        runGoesOn && !status && !m.editedAt
          ? undefined
          : h(
              'div',
              { class: 'meta' },
              `${own ? 'You' : person(m.senderId).name} · ${time(m.createdAt)}${m.editedAt ? ' · edited' : ''}`,
              status,
            ),
        deleted || m.hidden ? undefined : reactionBar(m),
        own && !deleted && m.kind === 'user'
          ? h(
              'div',
              { class: 'meta actions' },
              h(
                'button',
                {
                  type: 'button',
                  class: 'link',
                  'data-action': 'edit',
                  'data-id': m.id,
                  'aria-label': 'Edit message',
                },
                'Edit',
              ),
              ' · ',
              h(
                'button',
                {
                  type: 'button',
                  class: 'link',
                  'data-action': 'delete',
                  'data-id': m.id,
                  'aria-label': 'Delete message',
                },
                'Delete',
              ),
            )
          : undefined,
      ),
    );
    previous = m;
  }
  const online = client.status.state === 'connected';
  for (const p of c.pending) items.push(pendingItem(p, online));
  return items;
}

/** An action message's buttons: answered or expired ones are shown, not pressable. */
function actionCard(client: ChatClient, m: MessageDto): HTMLElement {
  const card = m.action!;
  const expired = card.expiresAt !== undefined && Date.parse(card.expiresAt) <= Date.now();
  const closed =
    expired ||
    (card.once ? card.answers.length > 0 : card.answers.some((a) => a.userId === client.userId));
  const chosenBy = (actionId: string) =>
    card.answers.filter((a) => a.actionId === actionId).map((a) => person(a.userId).name);
  return h(
    'div',
    { class: 'card', role: 'group', 'aria-label': card.title },
    h('div', { class: 'card-title' }, card.title),
    ...card.actions.map((a) => {
      if (a.kind === 'link')
        return h(
          'a',
          { class: 'card-link', href: a.url, target: '_blank', rel: 'noopener' },
          a.label,
        );
      const by = chosenBy(a.id);
      return h(
        'button',
        {
          type: 'button',
          class: by.length > 0 ? 'card-action chosen' : 'card-action',
          'data-action': 'answer',
          'data-id': m.id,
          'data-choice': a.id,
          ...(closed && { disabled: '' }),
        },
        by.length > 0 ? `${a.label} ✓ ${by.join(', ')}` : a.label,
      );
    }),
    expired ? h('div', { class: 'meta' }, 'Expired') : undefined,
  );
}

function pendingItem(p: OutboxEntry, online: boolean): HTMLElement {
  const failed = p.state === 'failed';
  return h(
    'li',
    { class: 'msg mine pending', 'data-pending': p.clientMessageId },
    h('div', { class: 'bubble' }, p.body),
    h(
      'div',
      { class: 'meta' },
      h('span', { class: 'state', 'data-state': p.state }, pendingText(p, online)),
      failed ? ' · ' : undefined,
      failed
        ? h(
            'button',
            { type: 'button', class: 'link', 'data-action': 'retry', 'data-id': p.clientMessageId },
            'Retry',
          )
        : undefined,
      failed ? ' · ' : undefined,
      failed
        ? h(
            'button',
            {
              type: 'button',
              class: 'link',
              'data-action': 'discard',
              'data-id': p.clientMessageId,
            },
            'Discard',
          )
        : undefined,
    ),
  );
}

const saved = loadIdentity();
if (saved && ROLES.includes(saved.role)) startChat(saved);
else showLogin();
