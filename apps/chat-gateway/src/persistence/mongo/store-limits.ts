import type { ConnectOptions } from 'mongoose';

// Every wait of the driver ends within the deadline of the store call that caused it
// (STORE_TIMEOUT_MS): a caller told UNAVAILABLE must not find its write stored later, unannounced.

export interface StoreLimits {
  /** How long a caller waits for a store call (STORE_TIMEOUT_MS). */
  deadlineMs: number;
  /** A round trip's share of it: the server's limit ends this much before the caller's. */
  roundTripMs: number;
}

/** No deadline (a store opened without one, e.g. by a contract test). */
export const NO_LIMITS: StoreLimits = { deadlineMs: Number.POSITIVE_INFINITY, roundTripMs: 50 };

export function storeLimits(deadlineMs: number): StoreLimits {
  return { deadlineMs, roundTripMs: Math.min(100, Math.max(20, Math.floor(deadlineMs / 10))) };
}

/** The `maxTimeMS` of a command whose caller stops waiting at `deadline` (epoch ms). */
export function timeLeft(deadline: number, limits: StoreLimits): { maxTimeMS?: number } {
  if (!Number.isFinite(deadline)) return {};
  return { maxTimeMS: Math.max(1, Math.floor(deadline - Date.now() - limits.roundTripMs)) };
}

/** The server's limit on any command: what a caller that just started waiting has left. */
export function commandTimeMs(limits: StoreLimits): number | undefined {
  return Number.isFinite(limits.deadlineMs) ? limits.deadlineMs - limits.roundTripMs : undefined;
}

/** The driver's timeouts and pool, derived from the deadline. */
export function driverOptions(limits: StoreLimits): ConnectOptions {
  const commandMs = commandTimeMs(limits);
  if (commandMs === undefined) return {};
  return {
    // No waiting for a (new) primary past the caller's deadline: a write that found one later
    // would land after its caller was told UNAVAILABLE.
    serverSelectionTimeoutMS: commandMs,
    // A server that stops answering with the connection open (a dead primary) frees the
    // connection, and the group commit waiting on it, by the deadline: not after minutes of TCP.
    socketTimeoutMS: limits.deadlineMs,
    // A new connection (TLS, SCRAM) may take longer than a command, not the driver's 30 s.
    connectTimeoutMS: Math.max(2_000, limits.deadlineMs),
    // The monitor sees a stepdown end or a primary come back within a second (default 10 s).
    heartbeatFrequencyMS: 1_000,
    // Connections per instance to the primary: bounded (the driver's default is 100).
    maxPoolSize: 20,
  };
}
