/**
 * Where the outbox survives a page reload or an app restart. `localStorage` and
 * `sessionStorage` fit as they are; an async store (IndexedDB wrapper, AsyncStorage, a file)
 * may return promises.
 */
export interface StorageAdapter {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** A storage that lives as long as the object: for Node, tests, and a "reload" in one process. */
export function memoryStorage(): StorageAdapter & { readonly size: number } {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
    get size() {
      return items.size;
    },
  };
}
