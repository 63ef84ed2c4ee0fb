/** The server refused a write for a unique index (E11000). */
export function isDuplicateKey(error: unknown): error is { keyPattern?: Record<string, unknown> } {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}
