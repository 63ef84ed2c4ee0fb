import type { UserRole } from '@jobsphere/chat-domain';
import { ApiError, mintToken } from './api.js';
import { ChatClient, type Change, type ConversationState } from './chat.js';
import {
  clearIdentity,
  loadIdentity,
  ROLES,
  saveIdentity,
  USER_ID,
  type Identity,
} from './identity.js';

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

function announce(text: string): void {
  const region = $('announcer');
  region.textContent = '';
  // A fresh text node after clearing makes screen readers speak repeated texts too.
  requestAnimationFrame(() => (region.textContent = text));
}

function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.body?.message ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

async function signIn(userId: string, role: UserRole): Promise<Identity> {
  const identity = { userId, role, token: await mintToken(userId, role) };
  saveIdentity(identity);
  return identity;
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
      error.textContent = `Could not sign in: ${errorText(e)}`;
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

function startChat(identity: Identity): void {
  $('login').hidden = true;
  $('chat').hidden = false;
  $('whoami').hidden = false;
  $('whoami-text').textContent = `You are ${identity.userId} (${identity.role})`;
  document.title = `${identity.userId} – JobSphere Chat`;

  const client = new ChatClient(
    identity,
    (change) => render(client, change),
    async (current) => signIn(current.userId, current.role),
  );

  $('switch-user').addEventListener('click', () => {
    client.stop();
    clearIdentity();
    location.reload();
  });

  const openForm = $<HTMLFormElement>('open-form');
  const openUser = $<HTMLInputElement>('open-user');
  openForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const userId = openUser.value.trim();
    $('open-error').textContent = '';
    client.openDirect(userId).then(
      () => {
        openUser.value = '';
        $('composer-input').focus();
      },
      (e: unknown) => ($('open-error').textContent = errorText(e)),
    );
  });

  const input = $<HTMLTextAreaElement>('composer-input');
  const sendNow = () => {
    if (input.value.trim() === '') return;
    client.send(input.value);
    input.value = '';
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
  input.addEventListener('input', () => client.composing(input.value.trim() !== ''));
  input.addEventListener('blur', () => client.stopTyping());

  $('conv-list').addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-id]');
    const id = button?.dataset['id'];
    if (id) client.select(id).catch((e: unknown) => announce(errorText(e)));
  });
  $('messages').addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-retry]');
    if (button && client.openId) client.retry(client.openId, button.dataset['retry'] ?? '');
  });
  document.addEventListener('visibilitychange', () => client.markReadIfVisible());

  client.start();
}

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  online: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Disconnected',
} as const;

function render(client: ChatClient, change: Change): void {
  switch (change.kind) {
    case 'connection': {
      const conn = $('conn');
      conn.dataset['state'] = client.connection;
      const base = CONNECTION_TEXT[client.connection];
      conn.textContent =
        change.detail && client.connection !== 'online' ? `${base} (${change.detail})` : base;
      renderComposer(client);
      return;
    }
    case 'conversations':
      renderList(client);
      return;
    case 'presence':
      renderList(client);
      renderThreadHead(client);
      return;
    case 'thread':
      if (change.conversationId !== client.openId) return;
      renderList(client);
      renderThread(client);
      return;
    case 'incoming': {
      const open = client.openId === change.message.conversationId;
      announce(`${open ? '' : 'New message. '}${change.message.senderId}: ${change.message.body}`);
      return;
    }
    case 'error':
      announce(change.message);
      return;
  }
}

function presenceText(client: ChatClient, userId: string): { online: boolean; text: string } {
  const p = client.presence.get(userId);
  if (p?.online) return { online: true, text: 'online' };
  return {
    online: false,
    text: p?.lastSeenAt ? `offline, last seen ${time(p.lastSeenAt)}` : 'offline',
  };
}

function title(client: ChatClient, state: ConversationState): string {
  return state.dto.title ?? (client.others(state.dto).join(', ') || state.dto.id);
}

function renderList(client: ChatClient): void {
  const total = client.totalUnread;
  const badge = $('total-unread');
  badge.hidden = total === 0;
  badge.textContent = String(total);
  badge.setAttribute('aria-label', `${total} unread`);

  const items = client.sorted().map((state) => {
    const other = client.others(state.dto)[0];
    const presence = other ? presenceText(client, other) : { online: false, text: '' };
    const last = state.dto.lastMessage;
    const unread = state.dto.unreadCount;
    const label = `${title(client, state)}, ${presence.text}${unread ? `, ${unread} unread` : ''}`;
    return h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button',
          class: 'conv',
          'data-id': state.dto.id,
          'aria-label': label,
          'aria-current': String(state.dto.id === client.openId),
        },
        h('span', { class: 'dot', 'data-online': String(presence.online), title: presence.text }),
        h('span', { class: 'name' }, title(client, state)),
        unread ? h('span', { class: 'badge' }, String(unread)) : h('span'),
        h(
          'span',
          { class: 'preview' },
          last ? `${last.senderId === client.me ? 'You: ' : ''}${last.body}` : 'No messages yet',
        ),
      ),
    );
  });
  $('conv-list').replaceChildren(...items);
}

function renderThreadHead(client: ChatClient): void {
  const state = client.openId ? client.conversations.get(client.openId) : undefined;
  const head = $('thread-presence');
  if (!state) {
    head.replaceChildren();
    return;
  }
  $('thread-title').textContent = title(client, state);
  const other = client.others(state.dto)[0];
  if (!other) return;
  const p = presenceText(client, other);
  head.replaceChildren(
    h('span', { class: 'dot', 'data-online': String(p.online), 'aria-hidden': 'true' }),
    p.text,
  );
  head.dataset['online'] = String(p.online);
}

function renderThread(client: ChatClient): void {
  const state = client.openId ? client.conversations.get(client.openId) : undefined;
  if (!state) return;
  renderThreadHead(client);
  renderComposer(client);

  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const mine = state.messages.filter((m) => m.senderId === client.me);
  const lastMine = mine.at(-1);
  const items = state.messages.map((m) => {
    const own = m.senderId === client.me;
    let meta = `${own ? 'You' : m.senderId} · ${time(m.createdAt)}`;
    let seen: HTMLElement | undefined;
    if (own && m === lastMine) {
      if (state.peerReadSeq >= m.seq) seen = h('span', { class: 'seen' }, ' · Seen');
      else meta += ' · Sent';
    }
    return h(
      'li',
      { class: own ? 'msg mine' : 'msg', 'data-seq': String(m.seq) },
      h('div', { class: 'bubble' }, m.body),
      h('div', { class: 'meta' }, meta, seen),
    );
  });
  for (const p of state.pending) {
    const failed = p.state === 'failed';
    items.push(
      h(
        'li',
        { class: 'msg mine', 'data-pending': p.clientMessageId },
        h('div', { class: 'bubble' }, p.body),
        h(
          'div',
          { class: 'meta' },
          h('span', { class: 'state', 'data-state': p.state }, failed ? 'Not sent · ' : 'Sending…'),
          failed
            ? h(
                'button',
                { type: 'button', class: 'link', 'data-retry': p.clientMessageId },
                'Retry',
              )
            : undefined,
        ),
      ),
    );
  }
  list.replaceChildren(...items);
  if (atBottom || state.pending.length > 0) list.scrollTop = list.scrollHeight;

  const typers = [...state.typing.keys()];
  $('typing').textContent =
    typers.length === 0 ? '' : `${typers.join(', ')} ${typers.length === 1 ? 'is' : 'are'} typing…`;
}

function renderComposer(client: ChatClient): void {
  const enabled = client.openId !== undefined;
  $<HTMLTextAreaElement>('composer-input').disabled = !enabled;
  $<HTMLButtonElement>('send').disabled = !enabled;
}

const saved = loadIdentity();
if (saved && ROLES.includes(saved.role)) startChat(saved);
else showLogin();
