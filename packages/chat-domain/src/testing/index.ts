// What anyone writing a store, or testing the use cases, needs: the store contract suites
// (run them against your store), the send decision's table of cases, the in-memory store and
// test doubles. Imports Jest's globals: load it from tests only.
export { describeStoreContract } from './store.contract.js';
export { describePlatformContract } from './platform.contract.js';
export { describeFeaturesContract } from './features.contract.js';
export { describeActionContract } from './actions.contract.js';
export { describeScheduledContract } from './scheduled.contract.js';
export { describeResponseTimesContract } from './response-times.contract.js';
export type { ContractOptions, RegisterCase } from './contract-options.js';
export {
  SEND_CASES,
  CASE_ALLOWANCE,
  CASE_USERS,
  describeCase,
  subjectOf,
  type SendCase,
} from './send-cases.js';
export { FakeClock, RecordingFanOut, ScriptedHook } from './doubles.js';
export { MemoryChatStore } from '../memory/memory.store.js';
export { describeTemplatesContract } from './templates.contract.js';
