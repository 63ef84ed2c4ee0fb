import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretsConfig } from '../config/app-config.js';

/** Where secret values come from; AWS Secrets Manager in production. */
export interface SecretReader {
  /** The AWSCURRENT value and its version id. Rejects within its deadline when it cannot. */
  read(secretId: string): Promise<{ value: string; versionId: string }>;
  close(): void;
}

/** Every read is bounded: the SDK's own retries included, a read gives up after this long. */
export const SECRET_READ_DEADLINE_MS = 5_000;

export function secretsManagerReader(config: SecretsConfig): SecretReader {
  const client = new SecretsManagerClient({
    region: config.region,
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000 },
  });
  return {
    read: async (secretId) => {
      const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }), {
        abortSignal: AbortSignal.timeout(SECRET_READ_DEADLINE_MS),
      });
      if (result.SecretString === undefined)
        throw new Error(`secret ${secretId} has no string value`);
      return { value: result.SecretString, versionId: result.VersionId ?? 'unknown' };
    },
    close: () => client.destroy(),
  };
}

export interface SecretLogger {
  log(message: string): void;
  warn(message: string): void;
}

/**
 * One secret that can rotate while the gateway runs: read once at boot, re-read on a timer and
 * whenever a dependency refuses it, parsed by `parse` (which throws on a value it cannot use).
 * Listeners hear about changes; nothing here ever logs a value, only names and version ids.
 */
export class RotatingSecret<T> {
  private value: T;
  private versionId: string;
  private inFlight: Promise<boolean> | undefined;
  private lastRead = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(value: T) => void>();

  private constructor(
    private readonly reader: SecretReader,
    private readonly secretId: string,
    private readonly label: string,
    private readonly parse: (raw: string) => T,
    private readonly logger: SecretLogger,
    /** Refusals come in bursts (every connection retries): re-read at most this often for them. */
    private readonly minRefusalIntervalMs: number,
    first: { value: T; versionId: string },
  ) {
    this.value = first.value;
    this.versionId = first.versionId;
    this.lastRead = Date.now();
  }

  static async load<T>(options: {
    reader: SecretReader;
    secretId: string;
    label: string;
    parse: (raw: string) => T;
    logger: SecretLogger;
    minRefusalIntervalMs?: number;
  }): Promise<RotatingSecret<T>> {
    let raw;
    try {
      raw = await options.reader.read(options.secretId);
    } catch (error) {
      throw new Error(
        `cannot read the ${options.label} from Secrets Manager (${options.secretId}): ${message(error)}`,
        { cause: error },
      );
    }
    const value = parseOrExplain(options.parse, raw.value, options.label, options.secretId);
    options.logger.log(`${options.label}: read from Secrets Manager (version ${raw.versionId})`);
    return new RotatingSecret(
      options.reader,
      options.secretId,
      options.label,
      options.parse,
      options.logger,
      options.minRefusalIntervalMs ?? 1_000,
      { value, versionId: raw.versionId },
    );
  }

  current(): T {
    return this.value;
  }

  onChange(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Re-reads the secret; resolves true when it changed. One read at a time; a refusal-triggered
   * read within `minRefusalIntervalMs` of the last one is answered from memory. Never rejects.
   */
  refresh(reason: 'refused' | 'periodic'): Promise<boolean> {
    if (this.inFlight) return this.inFlight;
    if (reason === 'refused' && Date.now() - this.lastRead < this.minRefusalIntervalMs)
      return Promise.resolve(false);
    this.inFlight = this.reread(reason).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Re-reads every `intervalMs` so a rotation is picked up before anything refuses the old value. */
  startRefreshing(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.refresh('periodic'), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async reread(reason: string): Promise<boolean> {
    this.lastRead = Date.now();
    let raw;
    try {
      raw = await this.reader.read(this.secretId);
    } catch (error) {
      this.logger.warn(
        `${this.label}: re-read (${reason}) failed, keeping version ${this.versionId}: ${message(error)}`,
      );
      return false;
    }
    if (raw.versionId === this.versionId) return false;
    let value: T;
    try {
      value = parseOrExplain(this.parse, raw.value, this.label, this.secretId);
    } catch (error) {
      this.logger.warn(`${message(error)}; keeping version ${this.versionId}`);
      return false;
    }
    this.logger.log(
      `${this.label}: changed in Secrets Manager (version ${this.versionId} -> ${raw.versionId}, ${reason})`,
    );
    this.value = value;
    this.versionId = raw.versionId;
    for (const listener of this.listeners) listener(value);
    return true;
  }
}

function parseOrExplain<T>(
  parse: (raw: string) => T,
  raw: string,
  label: string,
  secretId: string,
): T {
  try {
    return parse(raw);
  } catch (error) {
    throw new Error(`the ${label} in ${secretId} cannot be used: ${message(error)}`, {
      cause: error,
    });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
