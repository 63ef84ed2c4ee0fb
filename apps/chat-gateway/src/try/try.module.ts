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

/** Modules that exist only for local development. */
export function devOnlyModules(config: Pick<AppConfig, 'nodeEnv'>): (typeof TryModule)[] {
  return config.nodeEnv === 'production' ? [] : [TryModule];
}
