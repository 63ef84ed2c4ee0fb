import { type z } from 'zod';
import { ValidationError } from './errors.js';

/** Parses untrusted input with a schema; a failure is a ValidationError listing every issue. */
export function parsePayload<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what = 'payload',
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 10).map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
  }));
  throw new ValidationError(
    `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  );
}
