export { getFreePort } from './ports.js';
export { residentBytes, watchPeakResident } from './memory.js';
export { waitUntil } from './wait.js';
export {
  GATEWAY_READY,
  startNodeService,
  type NodeService,
  type StartNodeServiceOptions,
} from './node-service.js';
export { signTestServiceToken, signTestToken, type TestTokenOptions } from './tokens.js';
export { ManagedProcess, leaveSignalsToCaller, type ManagedProcessOptions } from './process.js';
export * from './redis/index.js';
export * from './mongo/index.js';
export {
  startChatEnvironment,
  startGatewayProcess,
  type ChatEnvironment,
  type ChatEnvironmentOptions,
  type GatewayProcess,
  type Topology,
} from './chat-environment.js';
export * from './aws/index.js';
export {
  startMongoWithAuth,
  type AuthenticatedMongo,
  type AuthAttempt,
  type MongoUser,
} from './mongo/auth-front.js';
export { startS3Server, type S3Server } from './s3/index.js';
export { pythonTool, type PythonTool } from './python-tools.js';
