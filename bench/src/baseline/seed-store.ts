// The seed design's store: what the deployment guide this project grew from builds (Socket.IO +
// @socket.io/redis-adapter, and a Mongoose `create` of the message before the emit). No
// idempotency (a resend stores a second copy), no per-conversation order in the store, no
// unread: one insert per message, through Mongoose's document path, as the guide's model does.
import mongoose, { Schema } from 'mongoose';

const messageSchema = new Schema(
  {
    conversationId: { type: String, required: true, index: true },
    senderId: { type: String, required: true },
    content: { type: String, required: true },
    clientMessageId: { type: String },
  },
  // The collection comes with the first insert (the wire server has no `create` command).
  { timestamps: true, autoCreate: false },
);

export interface SeedStore {
  /** Stores one message (a Mongoose document, validated and saved); resolves once it is written. */
  create(message: {
    conversationId: string;
    senderId: string;
    content: string;
    clientMessageId: string;
  }): Promise<void>;
  close(): Promise<void>;
}

export async function connectSeedStore(uri: string): Promise<SeedStore> {
  const connection = await mongoose
    .createConnection(uri, { serverSelectionTimeoutMS: 10_000 })
    .asPromise();
  const Message = connection.model('SeedMessage', messageSchema, 'seed_messages');
  await Message.init();
  return {
    create: async (message) => {
      await Message.create(message);
    },
    close: () => connection.close(),
  };
}
