import { z } from 'zod';
import { ValidationError } from './errors.js';
import { parsePayload } from './validate.js';
import { idSchema, messageBodySchema, sendMessageSchema } from './schemas.js';

// Message templates (issue 27): named texts with variables that recruiters keep for themselves
// and the platform keeps for a company; sending one fills its variables server-side from the
// values the platform supplied for the conversation.
//
// The filler is written here on purpose, not taken from a mustache library: mustache has logic
// (sections, inverted sections, partials, `{{{raw}}}`, `{{&raw}}`, set-delimiter tags), renders a
// missing name as an empty string, and HTML-escapes by default. Here the grammar is closed (one
// tag, `{{namespace.key}}`, four namespaces), every tag is checked when the template is written,
// a missing value is an error naming it, and the fill is one pass of `String.replace` with a
// function: what a value contains is inserted as it is and never scanned again.

export const TEMPLATE_LIMITS = {
  /** Templates one recruiter keeps (atomic across instances: a counter per owner). */
  maxPerRecruiter: 100,
  /** Templates the platform keeps for one company (the same counter, per company). */
  maxPerCompany: 200,
  maxNameLength: 80,
  /** The template's text; the filled text must also fit a message (LIMITS.maxBodyLength). */
  maxBodyLength: 4000,
  /** Distinct variables one template uses. */
  maxVariablesPerTemplate: 20,
  /** Values the platform keeps for one conversation. */
  maxConversationVariables: 30,
  maxValueLength: 500,
} as const;

/** The namespaces a variable may come from; the key after the dot is the platform's choice. */
export const TEMPLATE_NAMESPACES = ['candidate', 'job', 'recruiter', 'company'] as const;

/** A variable's name: `namespace.key`, the key a letter then letters and digits (40 at most). */
const VARIABLE_NAME = /^(candidate|job|recruiter|company)\.[a-z][A-Za-z0-9]{0,39}$/;
/**
 * A tag in a template's text: `{{name}}`, spaces allowed inside the braces. A brace right before
 * or after is not part of it (`{{{raw}}}` is mustache, not ours: it is left over, then refused).
 */
const TAG = /(?<!\{)\{\{\s*([^{}]*?)\s*\}\}(?!\})/g;

export const isVariableName = (name: string) => VARIABLE_NAME.test(name);

/**
 * The variables a template's text uses, in order of first use. Every `{{…}}` must be a variable
 * of the grammar and every `{{` / `}}` part of one: anything else is refused, naming it.
 */
export function templateVariables(body: string): string[] {
  const names: string[] = [];
  for (const [, inner] of body.matchAll(TAG)) {
    const name = inner ?? '';
    if (!isVariableName(name))
      throw new ValidationError(
        `unknown variable {{${name.slice(0, 60)}}}: a variable is {{namespace.key}} with namespace one of ${TEMPLATE_NAMESPACES.join(', ')}`,
        [{ path: 'body', message: `unknown variable {{${name.slice(0, 60)}}}` }],
      );
    if (!names.includes(name)) names.push(name);
  }
  const rest = body.replace(TAG, '');
  if (rest.includes('{{') || rest.includes('}}'))
    throw new ValidationError('the text has a "{{" or "}}" that is not part of a {{variable}}', [
      { path: 'body', message: 'unbalanced braces' },
    ]);
  if (names.length > TEMPLATE_LIMITS.maxVariablesPerTemplate)
    throw new ValidationError(
      `at most ${TEMPLATE_LIMITS.maxVariablesPerTemplate} distinct variables in a template`,
      [{ path: 'body', message: 'too many variables' }],
    );
  return names;
}

/**
 * The template's text with each variable replaced by its value, in one pass: a value is inserted
 * literally (template syntax inside it stays text, `$&` is not a pattern). A variable without a
 * value is refused, naming every missing one; nothing is filled partly.
 */
export function fillTemplate(body: string, values: ReadonlyMap<string, string>): string {
  const missing = templateVariables(body).filter((name) => !values.has(name));
  if (missing.length > 0)
    throw new ValidationError(
      `the conversation has no value for ${missing.map((n) => `{{${n}}}`).join(', ')}`,
      missing.map((n) => ({ path: `variables.${n}`, message: 'missing' })),
    );
  return body.replace(TAG, (_tag, name: string) => values.get(name) ?? '');
}

/** Whose a template is: one recruiter's own, or a company's (kept by the platform). */
export type TemplateOwner =
  { kind: 'recruiter'; userId: string } | { kind: 'company'; companyId: string };

/** The owner as one string key (a counter's and a unique index's): kinds never collide. */
export const ownerKey = (owner: TemplateOwner) =>
  owner.kind === 'recruiter' ? `user:${owner.userId}` : `company:${owner.companyId}`;

export interface MessageTemplate {
  id: string;
  /** `ownerKey` of its owner. */
  owner: string;
  name: string;
  body: string;
  /** The variables the body uses, in order of first use. */
  variables: string[];
  createdAt: Date;
  updatedAt: Date;
}

export type NewTemplate = Omit<MessageTemplate, 'id'>;
export type TemplateChange = Partial<Pick<MessageTemplate, 'name' | 'body' | 'variables'>> & {
  updatedAt: Date;
};

export interface ConversationVariable {
  name: string;
  value: string;
}

/**
 * Templates and the values their variables take per conversation. Names are unique per owner
 * ignoring case; the count per owner is capped atomically across instances.
 */
export interface TemplateStore {
  /** Stores it, unless the owner has `max` already ('full') or one of that name ('duplicate'). */
  create(template: NewTemplate, max: number): Promise<MessageTemplate | 'full' | 'duplicate'>;
  get(id: string): Promise<MessageTemplate | null>;
  /** The templates of these owners, by name, at most `limit`. */
  list(owners: string[], limit: number): Promise<MessageTemplate[]>;
  /** Changes one of the owner's; null when it is not theirs, 'duplicate' when the name is taken. */
  update(
    id: string,
    owner: string,
    change: TemplateChange,
  ): Promise<MessageTemplate | null | 'duplicate'>;
  /** Deletes one of the owner's (and frees its place); false when it is not theirs. */
  remove(id: string, owner: string): Promise<boolean>;
  /** Deletes every template of the owner and its count (a person's erasure; at most the cap). */
  forgetOwner(owner: string): Promise<void>;
  /** The values set for a conversation (none: empty). */
  variables(conversationId: string): Promise<ConversationVariable[]>;
  /** Replaces a conversation's values as a whole. */
  setVariables(conversationId: string, values: ConversationVariable[], at: Date): Promise<void>;
}

/** The key a name is unique by: letters' case and Unicode form do not make two names. */
export const templateNameKey = (name: string) => name.normalize('NFC').toLowerCase();

// Checked in code, not as a `pattern`: the document's readers (schemathesis generates from
// Python's re) lack Unicode property classes.
const NOT_TEXT = /[\p{Cc}\p{Cf}\p{Cs}]/u;
const oneLine = (what: string) => (s: string, ctx: z.RefinementCtx) => {
  if (NOT_TEXT.test(s))
    ctx.addIssue({ code: 'custom', message: `${what}: one line, no control or format characters` });
};

const nameSchema = z
  .string()
  .trim()
  .min(1)
  .max(TEMPLATE_LIMITS.maxNameLength)
  .superRefine(oneLine('name'))
  .meta({ description: `One line, up to ${TEMPLATE_LIMITS.maxNameLength} characters; trimmed.` });

const templateBodySchema = messageBodySchema.meta({
  description:
    `Up to ${TEMPLATE_LIMITS.maxBodyLength} characters with variables written ` +
    `\`{{namespace.key}}\` (namespace ${TEMPLATE_NAMESPACES.join(', ')}).`,
});

export const createTemplateSchema = z
  .strictObject({ name: nameSchema, body: templateBodySchema })
  .meta({ id: 'CreateTemplate' });
export type CreateTemplateInput = z.infer<typeof createTemplateSchema>;

export const templatePatchSchema = z
  .strictObject({ name: nameSchema.optional(), body: templateBodySchema.optional() })
  .refine((v) => v.name !== undefined || v.body !== undefined, 'name or body')
  .meta({ id: 'TemplatePatch', minProperties: 1 });
export type TemplatePatch = z.infer<typeof templatePatchSchema>;

const variableValueSchema = z
  .string()
  .min(1)
  .max(TEMPLATE_LIMITS.maxValueLength)
  .superRefine(oneLine('value'));

export const conversationVariablesSchema = z
  .strictObject({
    variables: z
      .record(
        z
          .string()
          .regex(
            VARIABLE_NAME,
            'namespace.key, namespace one of candidate, job, recruiter, company',
          ),
        variableValueSchema,
      )
      .refine(
        (v) => Object.keys(v).length <= TEMPLATE_LIMITS.maxConversationVariables,
        `at most ${TEMPLATE_LIMITS.maxConversationVariables} variables`,
      )
      .meta({
        description:
          `Up to ${TEMPLATE_LIMITS.maxConversationVariables} values by variable name ` +
          `(\`candidate.firstName\`), each one line of up to ${TEMPLATE_LIMITS.maxValueLength} characters.`,
      }),
  })
  .meta({ id: 'ConversationVariables' });

/**
 * The platform's values for a conversation, parsed. A key zod's record would drop silently
 * (`__proto__`, which JSON.parse makes an own key) is refused by name like any other bad one.
 */
export function parseConversationVariables(body: unknown): Record<string, string> {
  const raw = (body as { variables?: unknown } | null)?.variables;
  if (typeof raw === 'object' && raw !== null)
    for (const key of Object.keys(raw))
      if (!isVariableName(key))
        throw new ValidationError(`invalid variable name "${key.slice(0, 60)}"`, [
          { path: `variables.${key.slice(0, 60)}`, message: 'namespace.key' },
        ]);
  return parsePayload(conversationVariablesSchema, body, 'body').variables;
}

export const templateSendSchema = z
  .strictObject({
    conversationId: idSchema,
    clientMessageId: sendMessageSchema.shape.clientMessageId,
  })
  .meta({ id: 'TemplateSend' });
export type TemplateSendInput = z.infer<typeof templateSendSchema>;

export const templateScheduleSchema = z
  .strictObject({
    conversationId: idSchema,
    sendAt: z.iso.datetime().meta({ description: 'When it goes (UTC).' }),
    followUp: z.boolean().default(false),
  })
  .meta({ id: 'TemplateSchedule' });
export type TemplateScheduleInput = z.infer<typeof templateScheduleSchema>;

export const templatePreviewSchema = z
  .strictObject({ conversationId: idSchema })
  .meta({ id: 'TemplatePreviewRequest' });

const timestamp = z.iso.datetime();
export const templateDtoSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    body: z.string(),
    variables: z.array(z.string()),
    scope: z.enum(['own', 'company']).meta({ description: 'Yours, or your company’s.' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'MessageTemplate' });
export type TemplateDto = z.output<typeof templateDtoSchema>;

export const templateListSchema = z
  .object({ templates: z.array(templateDtoSchema) })
  .meta({ id: 'TemplateList' });

export const templatePreviewResultSchema = z
  .object({ body: z.string() })
  .meta({ id: 'TemplatePreview' });

export const conversationVariablesResultSchema = z
  .object({ variables: z.record(z.string(), z.string()) })
  .meta({ id: 'ConversationVariablesResult' });

export function toTemplateDto(t: MessageTemplate): TemplateDto {
  return {
    id: t.id,
    name: t.name,
    body: t.body,
    variables: [...t.variables],
    scope: t.owner.startsWith('company:') ? 'company' : 'own',
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

/** Values as the API shows them: a plain object without a prototype to pollute. */
export function variablesRecord(values: ConversationVariable[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const v of values) out[v.name] = v.value;
  return out;
}
