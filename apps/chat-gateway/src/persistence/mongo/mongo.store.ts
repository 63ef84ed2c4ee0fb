import type { ChatStore } from '@jobsphere/chat-domain';
import { Logger } from '@nestjs/common';
import mongoose, { type Connection, type ConnectOptions, type mongo } from 'mongoose';
import type { MongoCredentialsProvider } from '../../secrets/credentials.js';
import { reauthenticateOnRefusal } from '../../secrets/mongo-reauth.js';
import { MongoContacts } from './contacts.mongo.js';
import { ensureIndexes } from './indexes.js';
import { MongoConversations } from './conversations.mongo.js';
import { adaptToFerretDB } from './ferretdb-compat.js';
import { MongoMessages } from './messages.mongo.js';
import { defineModels, type ConversationDoc } from './models.js';
import { MongoModeration } from './moderation.mongo.js';
import { MongoOutbox } from './outbox.mongo.js';
import { MongoScheduled } from './scheduled.mongo.js';
import { MongoResponseTimes } from './response-times.mongo.js';
import { MongoTemplates } from './templates.mongo.js';
import { MongoPlatform } from './platform.mongo.js';
import { MongoPreferences } from './preferences.mongo.js';
import { MongoReports } from './reports.mongo.js';
import {
  commandTimeMs,
  driverOptions,
  NO_LIMITS,
  storeLimits,
  type StoreLimits,
} from './store-limits.js';
import { META_COLLECTION, MongoSyncEpoch, type EpochDoc } from './sync-epoch.mongo.js';
import { VersionAllocator } from './version-allocator.js';

// The connection, and the store's parts on it (one file per concern beside this one).

export interface MongoStoreOptions {
  uri: string;
  /** How long an operation may wait for a server before failing (not acking). */
  serverSelectionTimeoutMs?: number;
  /** A user whose password rotates (Secrets Manager): followed across rotations. */
  credentials?: MongoCredentialsProvider;
  /** Watch every command the driver sends (the round-trip test counts them). */
  monitorCommands?: boolean;
  /**
   * How long a caller waits for a store call (STORE_TIMEOUT_MS): the driver's timeouts, every
   * command's maxTimeMS and the group commit's deadlines end within it (store-limits.ts).
   */
  deadlineMs?: number;
}

/** Boot: how often the first connection may fail to find the server (the limit is the deadline). */
const CONNECT_ATTEMPTS = 5;

/** MongoDB / Amazon DocumentDB through Mongoose. */
export class MongoChatStore implements ChatStore {
  readonly kind = 'mongodb' as const;
  readonly conversations: MongoConversations;
  readonly messages: MongoMessages;
  readonly contacts: MongoContacts;
  readonly reports: MongoReports;
  readonly preferences: MongoPreferences;
  readonly outbox: MongoOutbox;
  readonly scheduled: MongoScheduled;
  readonly responseTimes: MongoResponseTimes;
  readonly templates: MongoTemplates;
  readonly platform: MongoPlatform;
  readonly moderation: MongoModeration;
  private readonly syncEpoch: MongoSyncEpoch;

  private constructor(
    readonly connection: Connection,
    limits: StoreLimits,
  ) {
    const models = defineModels(connection);
    const allocator = new VersionAllocator(
      models.conversations.collection as unknown as mongo.Collection<ConversationDoc>,
    );
    this.conversations = new MongoConversations(models);
    this.messages = new MongoMessages(models, allocator, limits);
    this.contacts = new MongoContacts(models);
    this.reports = new MongoReports(models.reports);
    this.preferences = new MongoPreferences(models.preferences);
    this.outbox = new MongoOutbox(models.outbox);
    this.scheduled = new MongoScheduled(connection);
    this.responseTimes = new MongoResponseTimes(connection);
    this.templates = new MongoTemplates(connection);
    this.platform = new MongoPlatform(models, allocator, this.messages);
    this.moderation = new MongoModeration(models);
    this.syncEpoch = new MongoSyncEpoch(
      connection.collection(META_COLLECTION) as unknown as mongo.Collection<EpochDoc>,
      commandTimeMs(limits),
    );
  }

  static async connect(options: MongoStoreOptions): Promise<MongoChatStore> {
    const limits = options.deadlineMs ? storeLimits(options.deadlineMs) : NO_LIMITS;
    const connectOptions: ConnectOptions = {
      serverSelectionTimeoutMS: 5_000,
      ...driverOptions(limits),
      ...(options.serverSelectionTimeoutMs && {
        serverSelectionTimeoutMS: options.serverSelectionTimeoutMs,
      }),
      // DocumentDB does not support retryable writes.
      retryWrites: false,
      autoIndex: false,
      autoCreate: false,
      bufferCommands: false,
      ...(options.monitorCommands && { monitorCommands: true }),
    };
    const { credentials } = options;
    const connection = await openConnection(options.uri, {
      ...connectOptions,
      ...(credentials && { auth: credentials.current() }),
    });
    // Every Mongoose query on this connection: the server stops when the caller has.
    const maxTimeMS = commandTimeMs(limits);
    if (maxTimeMS !== undefined) connection.set('maxTimeMS', maxTimeMS);
    if (credentials)
      reauthenticateOnRefusal(
        connection,
        options.uri,
        connectOptions,
        credentials,
        new Logger('Store'),
      );
    const store = new MongoChatStore(connection, limits);
    await adaptToFerretDB(connection, new Logger('Store'));
    await ensureIndexes(Object.values(connection.models));
    return store;
  }

  epoch(): Promise<string> {
    return this.syncEpoch.current();
  }

  async ping(): Promise<void> {
    const db = this.connection.db;
    if (!db) throw new Error('not connected');
    await db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/** The first connection; a server not found within the (short) selection timeout is tried again. */
async function openConnection(uri: string, options: ConnectOptions): Promise<Connection> {
  for (let attempt = 1; ; attempt++) {
    const connection = mongoose.createConnection(uri, options);
    try {
      return await connection.asPromise();
    } catch (error) {
      await connection.close().catch(() => undefined);
      const notFound = error instanceof Error && error.name === 'MongooseServerSelectionError';
      if (!notFound || attempt >= CONNECT_ATTEMPTS) throw error;
    }
  }
}
