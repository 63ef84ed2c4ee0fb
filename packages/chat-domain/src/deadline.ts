import { UnavailableError } from './errors.js';
import { type ChatStore } from './ports.js';

/**
 * Resolves or rejects like `work`, or rejects with UnavailableError once `ms` have passed.
 * The work itself goes on (a store write may still land): callers only promise what they saw.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UnavailableError(`${what} did not answer within ${ms} ms`)),
      ms,
    );
  });
  // A late rejection of the abandoned work must not become an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** The same store, every operation bounded by `ms`: a stalled store answers UNAVAILABLE in time. */
export function storeWithDeadline(store: ChatStore, ms: number): ChatStore {
  const bound = <T extends object>(target: T, name: string): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(object, args);
          return result instanceof Promise
            ? withDeadline(result, ms, `store ${name}.${String(property)}`)
            : result;
        };
      },
    });
  return {
    kind: store.kind,
    conversations: bound(store.conversations, 'conversations'),
    messages: bound(store.messages, 'messages'),
    contacts: bound(store.contacts, 'contacts'),
    reports: bound(store.reports, 'reports'),
    preferences: bound(store.preferences, 'preferences'),
    platform: bound(store.platform, 'platform'),
    outbox: bound(store.outbox, 'outbox'),
    scheduled: bound(store.scheduled, 'scheduled'),
    responseTimes: bound(store.responseTimes, 'responseTimes'),
    templates: bound(store.templates, 'templates'),
    moderation: bound(store.moderation, 'moderation'),
    epoch: () => withDeadline(store.epoch(), ms, 'store epoch'),
    ping: () => withDeadline(store.ping(), ms, 'store ping'),
    // Closing waits for the driver; it is not on a request's path.
    close: () => store.close(),
  };
}
