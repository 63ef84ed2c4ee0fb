import { MemoryChatStore } from '../src/persistence/memory/memory.store.js';
import { describePlatformContract } from './platform.contract.js';
import { describeStoreContract } from './store.contract.js';

describeStoreContract(
  'in-memory',
  async () => new MemoryChatStore(),
  async (store) => store.close(),
);

describePlatformContract(
  'in-memory',
  async () => new MemoryChatStore(),
  async (store) => store.close(),
);
