import type { Connection, ConnectOptions } from 'mongoose';
import type { MongoCredentialsProvider } from './credentials.js';

/** The driver's code when a server refuses a login. */
const AUTHENTICATION_FAILED = 18;

export function isAuthenticationFailure(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { code?: unknown }).code === AUTHENTICATION_FAILED ||
      (error as { codeName?: unknown }).codeName === 'AuthenticationFailed')
  );
}

export interface ReauthLogger {
  log(message: string): void;
  warn(message: string): void;
}

/**
 * Follows a rotating MongoDB user on a live mongoose connection. Logged-in connections survive a
 * password change (as in MongoDB and DocumentDB); only new ones, after a failover or when the pool
 * grows, are refused. When that happens the secret is re-read and, if it changed, the connection
 * is reopened with it (the models stay bound to it): operations fail for those few milliseconds
 * and the gateway answers them UNAVAILABLE, which clients retry. Returns a function that stops it.
 */
export function reauthenticateOnRefusal(
  connection: Connection,
  uri: string,
  options: ConnectOptions,
  credentials: MongoCredentialsProvider,
  logger: ReauthLogger,
): () => void {
  let stopped = false;
  let reopening: Promise<void> | undefined;
  const reopen = async () => {
    if (!(await credentials.refresh('AuthenticationFailed')) || stopped) return;
    logger.warn('MongoDB refused the credentials; reconnecting with the re-read ones');
    await connection.close();
    if (stopped) return;
    await connection.openUri(uri, { ...options, auth: credentials.current() });
    watch();
    logger.log('MongoDB: reconnected with the rotated credentials');
  };
  const onCheckOutFailed = (event: { error?: unknown }) => {
    if (stopped || reopening || !isAuthenticationFailure(event.error)) return;
    reopening = reopen()
      .catch((error: unknown) =>
        logger.warn(`MongoDB: reconnecting with rotated credentials failed: ${String(error)}`),
      )
      .finally(() => {
        reopening = undefined;
      });
  };
  // A reopened connection has a new driver client: listen on each one.
  const watch = () => connection.getClient().on('connectionCheckOutFailed', onCheckOutFailed);
  watch();
  return () => {
    stopped = true;
  };
}
