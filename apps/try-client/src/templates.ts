import type { ChatClient, ChatError, ScheduledSendDto, TemplateDto } from '@jobsphere/chat-client';
import type { UserRole } from '@jobsphere/chat-domain';
import { errorText } from './texts.js';

// The hiring tools of the try page: a recruiter's template picker above the composer (the
// server fills the variables the platform set for the conversation, and sends or schedules the
// text), and everyone's list of their own scheduled sends, cancellable until they go.

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
};

const when = (iso: string) =>
  new Date(iso).toLocaleString([], {
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });

const STATE_TEXT: Record<ScheduledSendDto['state'], string> = {
  pending: 'waiting',
  sent: 'sent',
  skipped: 'not sent: answered before',
  refused: 'not sent',
  cancelled: 'cancelled',
};

export interface HiringView {
  /** The conversation open in the thread, if any. */
  openId: () => string | undefined;
  say: (text: string) => void;
}

export function setupTemplates(client: ChatClient, role: UserRole, view: HiringView): void {
  setupScheduledList(client, view);
  if (role !== 'recruiter') return;
  const bar = byId('templates');
  const pick = byId<HTMLSelectElement>('template-pick');
  const preview = byId('template-preview');
  const send = byId<HTMLButtonElement>('template-send');
  bar.hidden = false;
  let templates: TemplateDto[] = [];

  const load = () =>
    client.templates.list().then(
      (list) => {
        templates = list;
        const chosen = pick.value;
        pick.replaceChildren(new Option('Choose a template…', ''));
        for (const t of list)
          pick.append(new Option(`${t.name}${t.scope === 'company' ? ' (company)' : ''}`, t.id));
        pick.value = list.some((t) => t.id === chosen) ? chosen : '';
        send.disabled = pick.value === '';
      },
      (e: ChatError) => view.say(errorText(e)),
    );

  // The filled text, as the server would send it to the open conversation.
  const showPreview = () => {
    const id = pick.value;
    const conversationId = view.openId();
    send.disabled = id === '';
    preview.textContent = '';
    if (!id) return;
    const raw = templates.find((t) => t.id === id)?.body ?? '';
    if (!conversationId) {
      preview.textContent = raw;
      return;
    }
    client.templates.preview(id, conversationId).then(
      (body) => {
        if (pick.value === id) preview.textContent = body;
      },
      (e: ChatError) => {
        if (pick.value === id) preview.textContent = errorText(e);
      },
    );
  };
  pick.addEventListener('change', showPreview);
  pick.addEventListener('focus', () => void load());

  send.addEventListener('click', () => {
    const id = pick.value;
    const conversationId = view.openId();
    if (!id) return;
    if (!conversationId) return view.say('Open a conversation first.');
    const later = Number(byId<HTMLSelectElement>('schedule-in').value);
    const followUp = byId<HTMLInputElement>('follow-up').checked;
    send.disabled = true;
    const done =
      later > 0
        ? client.templates
            .schedule(id, {
              conversationId,
              sendAt: new Date(Date.now() + later).toISOString(),
              followUp,
            })
            .then((s) => {
              view.say(`Scheduled for ${when(s.sendAt)}`);
              document.dispatchEvent(new Event('scheduled:changed'));
            })
        : client.templates.send(id, conversationId).then(() => view.say('Template sent'));
    done
      .then(() => {
        pick.value = '';
        preview.textContent = '';
      })
      .catch((e: ChatError) => view.say(errorText(e)))
      .finally(() => {
        send.disabled = pick.value === '';
      });
  });

  const name = byId<HTMLInputElement>('template-name');
  byId<HTMLFormElement>('template-save').addEventListener('submit', (event) => {
    event.preventDefault();
    const body = byId<HTMLTextAreaElement>('composer-input').value;
    if (body.trim() === '' || name.value.trim() === '')
      return view.say('Write the text in the message box and give the template a name.');
    client.templates.create({ name: name.value, body }).then(
      (t) => {
        name.value = '';
        view.say(`Template "${t.name}" saved`);
        return load();
      },
      (e: ChatError) => view.say(errorText(e)),
    );
  });
  void load();
}

function setupScheduledList(client: ChatClient, view: HiringView): void {
  const panel = byId('scheduled');
  const list = byId('scheduled-list');
  const toggle = byId<HTMLButtonElement>('scheduled-toggle');

  const draw = (entries: ScheduledSendDto[]) => {
    byId('scheduled-none').hidden = entries.length > 0;
    list.replaceChildren(
      ...entries.map((s) => {
        const li = document.createElement('li');
        li.className = `scheduled-item ${s.state}`;
        const head = document.createElement('span');
        head.className = 'when';
        head.textContent = `${when(s.sendAt)}${s.followUp ? ' · only if no answer' : ''} · ${STATE_TEXT[s.state]}${s.outcome && s.state !== 'skipped' ? ` (${s.outcome})` : ''}`;
        const body = document.createElement('span');
        body.className = 'body';
        body.textContent = s.body;
        li.append(head, body);
        if (s.editable) {
          const cancel = document.createElement('button');
          cancel.type = 'button';
          cancel.className = 'link';
          cancel.textContent = 'Cancel';
          cancel.setAttribute('aria-label', `Cancel the send at ${when(s.sendAt)}`);
          cancel.addEventListener('click', () => {
            cancel.disabled = true;
            client.cancelScheduled(s.id).then(
              () => {
                view.say('Scheduled send cancelled');
                void refresh();
              },
              (e: ChatError) => {
                view.say(errorText(e));
                void refresh();
              },
            );
          });
          li.append(cancel);
        }
        return li;
      }),
    );
  };

  const refresh = () =>
    panel.hidden
      ? Promise.resolve()
      : client.listScheduled().then(draw, (e: ChatError) => view.say(errorText(e)));

  toggle.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute('aria-expanded', String(!panel.hidden));
    void refresh();
  });
  byId('scheduled-refresh').addEventListener('click', () => void refresh());
  document.addEventListener('scheduled:changed', () => void refresh());
}
