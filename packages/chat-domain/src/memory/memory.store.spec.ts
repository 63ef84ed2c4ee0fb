import { MemoryChatStore } from './memory.store.js';
import { describeFeaturesContract } from '../testing/features.contract.js';
import { describePlatformContract } from '../testing/platform.contract.js';
import { describeStoreContract } from '../testing/store.contract.js';

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

describeFeaturesContract(
  'in-memory',
  async () => new MemoryChatStore(),
  async (store) => store.close(),
);
