import { SERVICE_SCOPES, type ServiceScope } from '@jobsphere/chat-domain';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/app-config.js';
import { ServiceTokenService } from '../service/service-token.service.js';

// `pnpm -s run service-token <service> [--scope a,b|all] [--ttl seconds]`: prints a service
// token that the gateway configured from the same environment accepts on /service/v1.
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    scope: { type: 'string', default: 'all' },
    ttl: { type: 'string', default: '3600' },
  },
});
const service = positionals[0];
const scopes = (
  values.scope === 'all' ? [...SERVICE_SCOPES] : values.scope.split(',')
) as ServiceScope[];
const ttl = Number(values.ttl);
if (
  !service ||
  scopes.some((s) => !(SERVICE_SCOPES as readonly string[]).includes(s)) ||
  !Number.isInteger(ttl) ||
  ttl <= 0
) {
  console.error(
    `usage: pnpm -s run service-token <service> [--scope all|${SERVICE_SCOPES.join(',')}] [--ttl seconds]`,
  );
  process.exit(2);
}
try {
  const config = loadConfig(process.env);
  if (config.nodeEnv === 'production') {
    console.error(
      'refusing to mint service tokens with NODE_ENV=production: the platform mints its own',
    );
    process.exit(2);
  }
  console.log(await new ServiceTokenService(config).sign(service, scopes, ttl));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
