import { MemoryChatStore } from './memory.store.js';
import { describeTemplatesContract } from '../testing/templates.contract.js';

describeTemplatesContract(
  'in-memory',
  async () => new MemoryChatStore(),
  async (store) => store.close(),
);
