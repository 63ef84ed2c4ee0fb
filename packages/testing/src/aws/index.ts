export { startFakeImds, type FakeImds, type ImdsRequest } from './imds.js';
export {
  startFakeSecretsManager,
  type FakeSecretsManager,
  type SecretsManagerCall,
} from './secrets-manager.js';
