/** Code of a createIndexes refused because another build on the collection runs (DocumentDB). */
const INDEX_BUILD_IN_PROGRESS = 276;
const INDEX_BUILD_WAIT = { pollMs: 200, maxMs: 120_000 };

/**
 * The models' indexes, idempotent (an index that exists is left alone) and one at a time per
 * collection: DocumentDB builds one index per collection at a time and refuses a second build
 * while one runs, e.g. another instance booting at the same moment. That build is waited for
 * (bounded), not raced.
 */
export async function ensureIndexes(
  models: readonly { createIndexes(): Promise<unknown> }[],
): Promise<void> {
  await Promise.all(
    models.map(async (model) => {
      const started = Date.now();
      for (;;) {
        try {
          // Mongoose creates a model's indexes one after the other.
          await model.createIndexes();
          return;
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (code !== INDEX_BUILD_IN_PROGRESS || Date.now() - started > INDEX_BUILD_WAIT.maxMs)
            throw error;
          await new Promise((resolve) => setTimeout(resolve, INDEX_BUILD_WAIT.pollMs));
        }
      }
    }),
  );
}
