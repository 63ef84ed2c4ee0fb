export { getFreePort } from './ports.js';
export { waitUntil } from './wait.js';
export { ManagedProcess, type ManagedProcessOptions } from './process.js';
export * from './redis/index.js';
export * from './mongo/index.js';
