import type { ChatStore } from '@jobsphere/chat-domain';
import { Logger } from '@nestjs/common';
import mongoose, { type Connection, type ConnectOptions, type mongo } from 'mongoose';
import type { MongoCredentialsProvider } from '../../secrets/credentials.js';
import { reauthenticateOnRefusal } from '../../secrets/mongo-reauth.js';
import { MongoContacts } from './contacts.mongo.js';
import { MongoConversations } from './conversations.mongo.js';
import { adaptToFerretDB } from './ferretdb-compat.js';
import { MongoMessages } from './messages.mongo.js';
import { defineModels, type ConversationDoc } from './models.js';
import { MongoOutbox } from './outbox.mongo.js';
import { MongoPlatform } from './platform.mongo.js';
import { MongoReports } from './reports.mongo.js';
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
}

/** MongoDB / Amazon DocumentDB through Mongoose. */
export class MongoChatStore implements ChatStore {
  readonly kind = 'mongodb' as const;
  readonly conversations: MongoConversations;
  readonly messages: MongoMessages;
  readonly contacts: MongoContacts;
  readonly reports: MongoReports;
  readonly outbox: MongoOutbox;
  readonly platform: MongoPlatform;

  private constructor(readonly connection: Connection) {
    const models = defineModels(connection);
    const allocator = new VersionAllocator(
      models.conversations.collection as unknown as mongo.Collection<ConversationDoc>,
    );
    this.conversations = new MongoConversations(models);
    this.messages = new MongoMessages(models, allocator);
    this.contacts = new MongoContacts(models);
    this.reports = new MongoReports(models.reports);
    this.outbox = new MongoOutbox(models.outbox);
    this.platform = new MongoPlatform(models, allocator, this.messages);
  }

  static async connect(options: MongoStoreOptions): Promise<MongoChatStore> {
    const connectOptions: ConnectOptions = {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5_000,
      // DocumentDB does not support retryable writes.
      retryWrites: false,
      autoIndex: false,
      autoCreate: false,
      bufferCommands: false,
      ...(options.monitorCommands && { monitorCommands: true }),
    };
    const { credentials } = options;
    const connection = mongoose.createConnection(options.uri, {
      ...connectOptions,
      ...(credentials && { auth: credentials.current() }),
    });
    await connection.asPromise();
    if (credentials)
      reauthenticateOnRefusal(
        connection,
        options.uri,
        connectOptions,
        credentials,
        new Logger('Store'),
      );
    const store = new MongoChatStore(connection);
    await adaptToFerretDB(connection, new Logger('Store'));
    await Promise.all(Object.values(connection.models).map((model) => model.createIndexes()));
    return store;
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
