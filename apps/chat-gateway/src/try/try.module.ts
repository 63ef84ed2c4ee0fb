import { Module } from '@nestjs/common';
import { TokenService } from '../auth/token.service.js';
import { type AppConfig } from '../config/app-config.js';
import { DevTokenController } from './dev-token.controller.js';
import { TryController } from './try.controller.js';

/** The try page at /try and the token endpoint it signs in with. Never in production. */
@Module({
  controllers: [TryController, DevTokenController],
  providers: [TokenService],
})
export class TryModule {}

/**
 * Modules that exist only for local development: NODE_ENV set to development or test, and the
 * public dev secret in use (so what /dev/token mints is worthless anywhere real).
 */
export function devOnlyModules(config: Pick<AppConfig, 'devEndpoints'>): (typeof TryModule)[] {
  return config.devEndpoints ? [TryModule] : [];
}
