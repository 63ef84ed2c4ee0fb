import { ChatError } from './errors.js';
import { isMessage, isObject } from './guards.js';
import { randomId } from './ids.js';
import type { MessageDto, ScheduledSendDto, TemplateDto } from './protocol.js';
import type { RestClient } from './rest.js';

/** A template's name and text, variables written `{{candidate.firstName}}`. */
export interface TemplateInput {
  name: string;
  body: string;
}

/**
 * Message templates of a recruiter (`client.templates`): their own and their company's. The
 * server fills the variables from the values the platform set for the conversation; a variable
 * without a value is refused INVALID_PAYLOAD naming it, and nothing is sent. A candidate's
 * client is refused FORBIDDEN.
 */
export class Templates {
  constructor(
    private readonly api: RestClient,
    private readonly stored: (message: MessageDto) => void,
  ) {}

  /** Mine and my company's, by name (`scope` says whose). */
  async list(): Promise<TemplateDto[]> {
    const answer = await this.api.request('GET', '/templates');
    if (!isObject(answer) || !Array.isArray(answer['templates'])) throw protocol('template list');
    return answer['templates'].map(template);
  }

  async create(input: TemplateInput): Promise<TemplateDto> {
    return template(await this.api.request('POST', '/templates', input));
  }

  async update(id: string, patch: Partial<TemplateInput>): Promise<TemplateDto> {
    return template(await this.api.request('PATCH', path(id), patch));
  }

  async delete(id: string): Promise<void> {
    await this.api.request('DELETE', path(id));
  }

  /** The text the template would send to this conversation now (nothing is sent). */
  async preview(id: string, conversationId: string): Promise<string> {
    const answer = await this.api.request('POST', `${path(id)}/preview`, { conversationId });
    if (!isObject(answer) || typeof answer['body'] !== 'string') throw protocol('preview');
    return answer['body'];
  }

  /**
   * Sends the template filled, as an ordinary message, and shows it in the conversation. To
   * retry after a failure that may have stored it (UNAVAILABLE, NETWORK), pass the same
   * `clientMessageId`: the server answers the stored message instead of sending another.
   */
  async send(
    id: string,
    conversationId: string,
    clientMessageId: string = randomId(),
  ): Promise<MessageDto> {
    const answer = await this.api.request('POST', `${path(id)}/send`, {
      conversationId,
      clientMessageId,
    });
    const message = isObject(answer) ? answer['message'] : undefined;
    if (!isMessage(message)) throw protocol('send result');
    this.stored(message);
    return message;
  }

  /** Schedules the template filled now; listed with `listScheduled()` like any scheduled send. */
  async schedule(
    id: string,
    input: { conversationId: string; sendAt: string; followUp?: boolean },
  ): Promise<ScheduledSendDto> {
    const answer = await this.api.request('POST', `${path(id)}/schedule`, input);
    if (!isObject(answer) || typeof answer['id'] !== 'string') throw protocol('scheduled send');
    return answer as unknown as ScheduledSendDto;
  }
}

const path = (id: string) => `/templates/${encodeURIComponent(id)}`;

function template(value: unknown): TemplateDto {
  if (!isObject(value) || typeof value['id'] !== 'string' || typeof value['body'] !== 'string')
    throw protocol('template');
  return value as unknown as TemplateDto;
}

function protocol(what: string): ChatError {
  return new ChatError('PROTOCOL', `unreadable answer: ${what}`);
}
