/**
 * Text from outside (an event name, a path, a client's error) as it may appear in a log line:
 * cut to `max` characters and with control characters escaped, so it can neither forge a line
 * nor fill the disk.
 */
export function logText(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? value : String(value);
  const cut = text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
  // \p{Cc}: the C0 and C1 control characters (U+0000-001F, U+007F-009F).
  return cut.replace(/[\p{Cc}\u2028\u2029]/gu, (c) =>
    c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** An error as one bounded log field: its class and message, never a stack or a payload. */
export function describeError(error: unknown, max = 300): string {
  return logText(error instanceof Error ? `${error.name}: ${error.message}` : String(error), max);
}
