// The in-memory store: the embedded default of the gateway (one process, nothing survives a
// restart) and the reference every other store's contract is measured against.
export { MemoryChatStore } from './memory.store.js';
