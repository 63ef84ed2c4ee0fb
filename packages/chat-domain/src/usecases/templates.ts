import { type Principal } from '../entities.js';
import {
  DomainError,
  ForbiddenError,
  NotFoundError,
  ConflictError,
  TemplateQuotaExceededError,
  UnavailableError,
} from '../errors.js';
import { type SendResult } from '../responses.js';
import { type ScheduledSendDto } from '../scheduled.js';
import { messageBodySchema } from '../schemas.js';
import {
  TEMPLATE_LIMITS,
  fillTemplate,
  ownerKey,
  templateVariables,
  toTemplateDto,
  variablesRecord,
  type CreateTemplateInput,
  type MessageTemplate,
  type TemplateDto,
  type TemplatePatch,
  type TemplateScheduleInput,
  type TemplateSendInput,
} from '../templates.js';
import { parsePayload } from '../validate.js';
import { type ChatDeps, memberConversation } from './context.js';
import { sendMessage } from './messages.js';
import { scheduleMessage } from './scheduled.js';

// Templates of recruiters and of companies (issue 27). Only recruiters use templates: they are
// the side that writes the same invitation fifty times, and the variables are facts about the
// candidate and the job that the platform supplies for the recruiter's side. A candidate (or a
// moderator) is refused FORBIDDEN; the platform keeps a company's through the server API.

/** What a principal may use: a recruiter's own, and their company's when the token names one. */
function ownersOf(principal: Principal): string[] {
  if (principal.role !== 'recruiter') throw new ForbiddenError('templates are for recruiters');
  return [
    ownerKey({ kind: 'recruiter', userId: principal.userId }),
    ...(principal.companyId ? [ownerKey({ kind: 'company', companyId: principal.companyId })] : []),
  ];
}

const ownOf = (principal: Principal) => ownersOf(principal)[0]!;

/** The template if the principal may use it; the same NOT_FOUND whether it exists or not. */
async function usable(deps: ChatDeps, principal: Principal, id: string): Promise<MessageTemplate> {
  const owners = ownersOf(principal);
  const template = await deps.store.templates.get(id);
  if (!template || !owners.includes(template.owner)) throw new NotFoundError('no such template');
  return template;
}

const capOf = (owner: string) =>
  owner.startsWith('company:') ? TEMPLATE_LIMITS.maxPerCompany : TEMPLATE_LIMITS.maxPerRecruiter;

/** Creates a template for `owner` (a recruiter's own, or a company's through the server API). */
export async function createTemplateFor(
  deps: ChatDeps,
  owner: string,
  input: CreateTemplateInput,
): Promise<TemplateDto> {
  const variables = templateVariables(input.body);
  const now = deps.clock.now();
  const max = capOf(owner);
  const created = await deps.store.templates.create(
    { owner, name: input.name, body: input.body, variables, createdAt: now, updatedAt: now },
    max,
  );
  if (created === 'full')
    throw new TemplateQuotaExceededError(`at most ${max} templates: delete one first`);
  if (created === 'duplicate') throw new ConflictError(`a template named "${input.name}" exists`);
  return toTemplateDto(created);
}

export async function updateTemplateOf(
  deps: ChatDeps,
  owner: string,
  id: string,
  patch: TemplatePatch,
): Promise<TemplateDto> {
  const variables = patch.body === undefined ? undefined : templateVariables(patch.body);
  const updated = await deps.store.templates.update(id, owner, {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.body !== undefined && { body: patch.body, variables }),
    updatedAt: deps.clock.now(),
  });
  if (updated === null) throw new NotFoundError('no such template');
  if (updated === 'duplicate') throw new ConflictError(`a template named "${patch.name}" exists`);
  return toTemplateDto(updated);
}

export async function deleteTemplateOf(deps: ChatDeps, owner: string, id: string): Promise<void> {
  if (!(await deps.store.templates.remove(id, owner))) throw new NotFoundError('no such template');
}

export async function listTemplatesOf(
  deps: ChatDeps,
  owners: string[],
): Promise<{ templates: TemplateDto[] }> {
  const limit = owners.reduce((sum, owner) => sum + capOf(owner), 0);
  const list = await deps.store.templates.list(owners, limit);
  return { templates: list.map(toTemplateDto) };
}

/** The template's text filled with the conversation's values, and checked as a message body. */
async function filled(
  deps: ChatDeps,
  template: MessageTemplate,
  conversationId: string,
): Promise<string> {
  const values = await deps.store.templates.variables(conversationId);
  const body = fillTemplate(template.body, new Map(values.map((v) => [v.name, v.value])));
  return parsePayload(messageBodySchema, body, 'filled template');
}

/**
 * Sends the template to a conversation as an ordinary message of the recruiter: filled here,
 * then the ordinary send (content policy, bans, slow mode, blocks, requests), idempotent by
 * `clientMessageId`. A missing variable or a filled text over the body cap stores nothing.
 */
export async function sendTemplate(
  deps: ChatDeps,
  principal: Principal,
  id: string,
  input: TemplateSendInput,
): Promise<SendResult> {
  const body = await (async () => {
    const template = await usable(deps, principal, id);
    await memberConversation(deps, principal, input.conversationId);
    return filled(deps, template, input.conversationId);
  })().catch(async (error: unknown) => {
    // A retry of a send that was stored (its answer lost) while the template or a value went
    // away since: it answers the stored message like any repeat, never a refusal of something
    // that was sent. Only a member's own earlier send is found.
    if (!(error instanceof DomainError) || error instanceof UnavailableError) throw error;
    const stored = await deps.store.messages.sent(
      input.conversationId,
      principal.userId,
      input.clientMessageId,
    );
    if (!stored) throw error;
    return stored.body;
  });
  return sendMessage(deps, principal, { ...input, body });
}

/**
 * Schedules the template filled now: the sender's list shows the text that will go (editable
 * like any scheduled send); the send decision is the one of the time it goes.
 */
export async function scheduleTemplate(
  deps: ChatDeps,
  principal: Principal,
  id: string,
  input: TemplateScheduleInput,
): Promise<ScheduledSendDto> {
  const template = await usable(deps, principal, id);
  await memberConversation(deps, principal, input.conversationId);
  const body = await filled(deps, template, input.conversationId);
  return scheduleMessage(deps, principal, { ...input, body });
}

/** The text the template would send to this conversation now (nothing is stored). */
export async function previewTemplate(
  deps: ChatDeps,
  principal: Principal,
  id: string,
  conversationId: string,
): Promise<{ body: string }> {
  const template = await usable(deps, principal, id);
  await memberConversation(deps, principal, conversationId);
  return { body: await filled(deps, template, conversationId) };
}

/** The platform replaces a conversation's values (NOT_FOUND for no such conversation). */
export async function setConversationVariables(
  deps: ChatDeps,
  conversationId: string,
  variables: Record<string, string>,
): Promise<{ variables: Record<string, string> }> {
  if (!(await deps.store.conversations.get(conversationId)))
    throw new NotFoundError('no such conversation');
  const values = Object.entries(variables).map(([name, value]) => ({ name, value }));
  await deps.store.templates.setVariables(conversationId, values, deps.clock.now());
  return { variables: variablesRecord(values) };
}

export async function conversationVariables(
  deps: ChatDeps,
  conversationId: string,
): Promise<{ variables: Record<string, string> }> {
  if (!(await deps.store.conversations.get(conversationId)))
    throw new NotFoundError('no such conversation');
  return { variables: variablesRecord(await deps.store.templates.variables(conversationId)) };
}

/** A recruiter's side, bound to its ports (spread into createChat). */
export function templateUseCases(deps: ChatDeps) {
  return {
    listTemplates: async (p: Principal) => listTemplatesOf(deps, ownersOf(p)),
    createTemplate: async (p: Principal, input: CreateTemplateInput) =>
      createTemplateFor(deps, ownOf(p), input),
    updateTemplate: async (p: Principal, id: string, patch: TemplatePatch) =>
      updateTemplateOf(deps, ownOf(p), id, patch),
    deleteTemplate: async (p: Principal, id: string) => deleteTemplateOf(deps, ownOf(p), id),
    sendTemplate: (p: Principal, id: string, input: TemplateSendInput) =>
      sendTemplate(deps, p, id, input),
    scheduleTemplate: (p: Principal, id: string, input: TemplateScheduleInput) =>
      scheduleTemplate(deps, p, id, input),
    previewTemplate: (p: Principal, id: string, conversationId: string) =>
      previewTemplate(deps, p, id, conversationId),
  };
}

/** The platform's side (spread into createPlatform): a company's templates, a conversation's values. */
export function companyTemplateUseCases(deps: ChatDeps) {
  const company = (companyId: string) => ownerKey({ kind: 'company', companyId });
  return {
    listCompanyTemplates: (companyId: string) => listTemplatesOf(deps, [company(companyId)]),
    createCompanyTemplate: (companyId: string, input: CreateTemplateInput) =>
      createTemplateFor(deps, company(companyId), input),
    updateCompanyTemplate: (companyId: string, id: string, patch: TemplatePatch) =>
      updateTemplateOf(deps, company(companyId), id, patch),
    deleteCompanyTemplate: (companyId: string, id: string) =>
      deleteTemplateOf(deps, company(companyId), id),
    setConversationVariables: (conversationId: string, variables: Record<string, string>) =>
      setConversationVariables(deps, conversationId, variables),
    conversationVariables: (conversationId: string) => conversationVariables(deps, conversationId),
  };
}
