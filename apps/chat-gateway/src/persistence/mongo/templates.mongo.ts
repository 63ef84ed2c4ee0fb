import {
  templateNameKey,
  type ConversationVariable,
  type MessageTemplate,
  type NewTemplate,
  type TemplateChange,
  type TemplateStore,
} from '@jobsphere/chat-domain';
import { Schema, Types, type Connection, type mongo } from 'mongoose';
import { CapCounter } from './cap-counter.js';
import { isDuplicateKey } from './driver-errors.js';

// Message templates (issue 27): a unique index on (owner, name key) refuses a second template of
// one name, and a counter per owner keeps the cap atomic across instances (like the scheduled
// sends' counter per sender). A conversation's variable values are one document, replaced whole.

interface TemplateDoc extends Omit<MessageTemplate, 'id'> {
  _id: string;
  /** The name as it is unique: case and Unicode form folded. */
  nameKey: string;
}

interface CounterDoc {
  _id: string;
  count: number;
}

interface VariablesDoc {
  _id: string;
  /** Pairs, not an object: names hold dots, and no key of a value is ever a field name. */
  values: ConversationVariable[];
  updatedAt: Date;
}

const templateSchema = new Schema<TemplateDoc>(
  {
    _id: { type: String, required: true },
    owner: { type: String, required: true },
    name: { type: String, required: true },
    nameKey: { type: String, required: true },
    body: { type: String, required: true },
    variables: { type: [String], required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'message_templates', versionKey: false, autoIndex: false },
);
// One name per owner; also the owner's list by name.
templateSchema.index({ owner: 1, nameKey: 1 }, { unique: true });

const counterSchema = new Schema<CounterDoc>(
  { _id: { type: String, required: true }, count: { type: Number, required: true } },
  { collection: 'template_counters', versionKey: false, autoIndex: false },
);

const variablesSchema = new Schema<VariablesDoc>(
  {
    _id: { type: String, required: true },
    values: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'conversation_variables', versionKey: false, autoIndex: false },
);

function toTemplate(doc: TemplateDoc): MessageTemplate {
  const { _id, nameKey: _key, ...rest } = doc;
  return { id: _id, ...rest };
}

export class MongoTemplates implements TemplateStore {
  private readonly templates: mongo.Collection<TemplateDoc>;
  private readonly places: CapCounter<'count'>;
  private readonly values: mongo.Collection<VariablesDoc>;

  constructor(connection: Connection) {
    // Registered on the connection: `connect` builds their indexes with the others'.
    this.templates = connection.model('MessageTemplate', templateSchema)
      .collection as unknown as mongo.Collection<TemplateDoc>;
    this.places = new CapCounter(
      connection.model('TemplateCounter', counterSchema)
        .collection as unknown as mongo.Collection<CounterDoc>,
      'count',
    );
    this.values = connection.model('ConversationVariables', variablesSchema)
      .collection as unknown as mongo.Collection<VariablesDoc>;
  }

  async create(
    template: NewTemplate,
    max: number,
  ): Promise<MessageTemplate | 'full' | 'duplicate'> {
    if (!(await this.places.take(template.owner, max))) return 'full';
    const doc: TemplateDoc = {
      _id: new Types.ObjectId().toHexString(),
      ...template,
      nameKey: templateNameKey(template.name),
    };
    try {
      await this.templates.insertOne(doc);
    } catch (error) {
      await this.places.free(template.owner).catch(() => undefined);
      if (isDuplicateKey(error)) return 'duplicate';
      throw error;
    }
    return toTemplate(doc);
  }

  async get(id: string): Promise<MessageTemplate | null> {
    const doc = await this.templates.findOne({ _id: id });
    return doc ? toTemplate(doc) : null;
  }

  async list(owners: string[], limit: number): Promise<MessageTemplate[]> {
    const docs = await this.templates
      .find({ owner: { $in: owners } })
      .sort({ name: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toTemplate);
  }

  async update(
    id: string,
    owner: string,
    change: TemplateChange,
  ): Promise<MessageTemplate | null | 'duplicate'> {
    // The name is looked up first: FerretDB v1 reports the unique index's refusal of an update
    // without the E11000 code. On MongoDB a rename racing another to one name still meets the
    // index (E11000 below).
    if (
      change.name !== undefined &&
      (await this.templates.findOne(
        { owner, nameKey: templateNameKey(change.name), _id: { $ne: id } },
        { projection: { _id: 1 } },
      ))
    )
      return 'duplicate';
    try {
      const { matchedCount } = await this.templates.updateOne(
        { _id: id, owner },
        {
          $set: {
            ...change,
            ...(change.name !== undefined && { nameKey: templateNameKey(change.name) }),
          },
        },
      );
      if (matchedCount !== 1) return null;
    } catch (error) {
      if (isDuplicateKey(error)) return 'duplicate';
      throw error;
    }
    return this.get(id);
  }

  async remove(id: string, owner: string): Promise<boolean> {
    const { deletedCount } = await this.templates.deleteOne({ _id: id, owner });
    if (deletedCount !== 1) return false;
    await this.places.free(owner);
    return true;
  }

  async forgetOwner(owner: string): Promise<void> {
    await this.templates.deleteMany({ owner });
    await this.places.forget(owner);
  }

  async variables(conversationId: string): Promise<ConversationVariable[]> {
    const doc = await this.values.findOne({ _id: conversationId });
    return doc ? doc.values.map((v) => ({ name: v.name, value: v.value })) : [];
  }

  async setVariables(
    conversationId: string,
    values: ConversationVariable[],
    at: Date,
  ): Promise<void> {
    await this.values.replaceOne(
      { _id: conversationId },
      { values, updatedAt: at },
      { upsert: true },
    );
  }
}
