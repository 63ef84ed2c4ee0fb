import {
  templateNameKey,
  type ConversationVariable,
  type MessageTemplate,
  type NewTemplate,
  type TemplateChange,
  type TemplateStore,
} from '../templates.js';

const clone = <T>(value: T): T => structuredClone(value);
let next = 0;

/** Templates in one process; each operation runs to completion before the next starts. */
export class MemoryTemplates implements TemplateStore {
  private readonly templates = new Map<string, MessageTemplate>();
  private readonly values = new Map<string, ConversationVariable[]>();

  private taken(owner: string, name: string, except?: string): boolean {
    const key = templateNameKey(name);
    for (const t of this.templates.values())
      if (t.owner === owner && t.id !== except && templateNameKey(t.name) === key) return true;
    return false;
  }

  async create(
    template: NewTemplate,
    max: number,
  ): Promise<MessageTemplate | 'full' | 'duplicate'> {
    const owned = [...this.templates.values()].filter((t) => t.owner === template.owner).length;
    if (owned >= max) return 'full';
    if (this.taken(template.owner, template.name)) return 'duplicate';
    const stored: MessageTemplate = {
      ...clone(template),
      id: `t${Date.now().toString(36)}${(++next).toString(36)}`,
    };
    this.templates.set(stored.id, stored);
    return clone(stored);
  }

  async get(id: string): Promise<MessageTemplate | null> {
    const found = this.templates.get(id);
    return found ? clone(found) : null;
  }

  async list(owners: string[], limit: number): Promise<MessageTemplate[]> {
    return [...this.templates.values()]
      .filter((t) => owners.includes(t.owner))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map(clone);
  }

  async update(
    id: string,
    owner: string,
    change: TemplateChange,
  ): Promise<MessageTemplate | null | 'duplicate'> {
    const t = this.templates.get(id);
    if (!t || t.owner !== owner) return null;
    if (change.name !== undefined && this.taken(owner, change.name, id)) return 'duplicate';
    Object.assign(t, clone(change));
    return clone(t);
  }

  async remove(id: string, owner: string): Promise<boolean> {
    const t = this.templates.get(id);
    if (!t || t.owner !== owner) return false;
    return this.templates.delete(id);
  }

  async forgetOwner(owner: string): Promise<void> {
    for (const [id, t] of this.templates) if (t.owner === owner) this.templates.delete(id);
  }

  async variables(conversationId: string): Promise<ConversationVariable[]> {
    return clone(this.values.get(conversationId) ?? []);
  }

  async setVariables(conversationId: string, values: ConversationVariable[]): Promise<void> {
    this.values.set(conversationId, clone(values));
  }
}
