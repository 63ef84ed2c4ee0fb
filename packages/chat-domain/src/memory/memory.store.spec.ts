import { MemoryChatStore } from './memory.store.js';
import { describeFeaturesContract } from '../testing/features.contract.js';
import { describePlatformContract } from '../testing/platform.contract.js';
import { describeStoreContract } from '../testing/store.contract.js';
import { describeActionContract } from '../testing/actions.contract.js';
import { describeScheduledContract } from '../testing/scheduled.contract.js';
import { describeResponseTimesContract } from '../testing/response-times.contract.js';

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

describeActionContract(
  'in-memory',
  async () => new MemoryChatStore(),
  async (store) => store.close(),
);

describeScheduledContract(
  'in-memory',
  async () => new MemoryChatStore(),
  async (store) => store.close(),
);

describeResponseTimesContract(
  'in-memory',
  async () => new MemoryChatStore(),
  async (store) => store.close(),
);
