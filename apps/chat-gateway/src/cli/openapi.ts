import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serializeOpenApiDocument } from '../openapi/openapi.document.js';

// `pnpm --filter @jobsphere/chat-gateway openapi [file]`: writes the REST contract, by default
// to docs/openapi.json (committed: production does not serve it, clients generate from it).
const DEFAULT_OUTPUT = fileURLToPath(new URL('../../../../docs/openapi.json', import.meta.url));

const output = process.argv[2] ?? DEFAULT_OUTPUT;
writeFileSync(output, serializeOpenApiDocument());
console.log(`OpenAPI document written to ${output}`);
