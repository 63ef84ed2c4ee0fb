import { TOKEN_ID, USER_ROLES, type UserRole } from '@jobsphere/chat-domain';
import { parseArgs } from 'node:util';
import { TokenService } from '../auth/token.service.js';
import { ConfigError, loadConfig } from '../config/app-config.js';

// `pnpm -s run token <userId> [--role candidate|recruiter|admin] [--company id] [--ttl seconds]`:
// prints a JWT that the gateway configured from the same environment accepts.
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    role: { type: 'string', default: 'candidate' },
    ttl: { type: 'string', default: '86400' },
    company: { type: 'string' },
  },
});
const userId = positionals[0];
const role = values.role as UserRole;
const ttl = Number(values.ttl);
const companyId = values.company;
if (
  !userId ||
  !(USER_ROLES as readonly string[]).includes(role) ||
  !Number.isInteger(ttl) ||
  ttl <= 0 ||
  (companyId !== undefined && !TOKEN_ID.test(companyId))
) {
  console.error(
    `usage: pnpm -s run token <userId> [--role ${USER_ROLES.join('|')}] [--company id] [--ttl seconds]`,
  );
  process.exit(2);
}
try {
  const config = loadConfig(process.env);
  if (config.nodeEnv === 'production') {
    console.error(
      'refusing to mint tokens with NODE_ENV=production: tokens come from the identity service',
    );
    process.exit(2);
  }
  if (config.jwt.secret === undefined) {
    console.error(
      'no JWT_SECRET: with only JWT_JWKS_URL set, tokens come from the identity provider',
    );
    process.exit(2);
  }
  console.log(
    await new TokenService(config).sign(
      { userId, role, ...(companyId !== undefined && { companyId }) },
      ttl,
    ),
  );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
