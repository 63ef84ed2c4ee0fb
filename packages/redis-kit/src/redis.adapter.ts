import {
  Adapter,
  ClusterAdapter,
  MessageType,
  type BroadcastOptions,
  type ClusterMessage,
  type ClusterResponse,
} from 'socket.io-adapter';
import type { Namespace, ServerOptions } from 'socket.io';
import { Cluster } from 'ioredis';
import {
  type RedisClient,
  buildClient,
  connectRedisClient,
  quitRedisClient,
} from './redis.client.js';
import type { RedisConfig } from './redis.config.js';
import { AdapterFrameError, decodeFrame, encodeFrame, encodePerRoom } from './adapter-frame.js';
import { type RedisKitLogger, createDebugLogger } from './redis.logger.js';

export interface RoutedAdapterOptions {
  /** Channel prefix; instances that talk to each other share it. Default `socket.io`. */
  channelPrefix?: string;
  /**
   * Rooms that get a channel of their own: an instance subscribes to it while it has a socket in
   * the room, and a broadcast to such rooms is published once per room, so it reaches only the
   * instances that hold someone in them. Default: every room but a socket's own id.
   */
  routeRoom?: (room: string) => boolean;
  /** Bytes and messages this instance publishes and receives, for metrics. */
  onTraffic?: (direction: 'in' | 'out', bytes: number) => void;
  /** A publish failed (Redis unreachable or too slow): these rooms missed a broadcast. */
  onDropped?: (rooms: string[]) => void;
  /** Publishing works again after drops. */
  onPublishRecovered?: () => void;
  logger?: RedisKitLogger;
  /** How long `join` may wait for a new room's subscription before going on. Default 1000 ms. */
  subscribeTimeoutMs?: number;
}

export interface RedisAdapterHandle {
  /** Pass to `io.adapter()` (or the `adapter` server option). */
  adapter: NonNullable<ServerOptions['adapter']>;
}

type Channels = {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  publish(channel: string, payload: string | Buffer): Promise<unknown>;
  /** Subscribers of a channel, over every node. */
  subscribers(channel: string): Promise<number>;
  event: 'smessageBuffer' | 'messageBuffer';
};

const numsub = (reply: unknown) => Number((reply as unknown[])[1] ?? 0);

/**
 * The Socket.IO adapter on Redis pub/sub, addressed to the instances that hold the recipients:
 * each routed room (e.g. a user's room) has its own channel, subscribed while a local socket is
 * in it; a broadcast to several routed rooms is encoded once and published once per room. Other
 * traffic (a broadcast to everyone, fetchSockets, serverSideEmit) uses the namespace channel.
 * An instance delivers its own routed broadcasts when Redis hands them back, so every device
 * receives every broadcast through its room's one channel, in the order Redis took them.
 * On a cluster it uses sharded pub/sub (SPUBLISH/SSUBSCRIBE: channels spread over the shards);
 * on a standalone server plain PUBLISH/SUBSCRIBE, where every message still passes one node.
 * Delivery is at most once, like every Redis pub/sub adapter: clients catch up from the store.
 */
export function createRoutedAdapter(
  pub: RedisClient,
  sub: RedisClient,
  sharded: boolean,
  options: RoutedAdapterOptions = {},
): RedisAdapterHandle['adapter'] {
  const channels: Channels = sharded
    ? {
        subscribe: (c) => sub.ssubscribe(c),
        unsubscribe: (c) => sub.sunsubscribe(c),
        publish: (c, p) => pub.spublish(c, p),
        subscribers: async (c) => {
          const nodes = pub instanceof Cluster ? pub.nodes('master') : [pub];
          const counts = await Promise.all(
            nodes.map((n) => n.call('PUBSUB', 'SHARDNUMSUB', c).then(numsub)),
          );
          return counts.reduce((a, b) => a + b, 0);
        },
        event: 'smessageBuffer',
      }
    : {
        subscribe: (c) => sub.subscribe(c),
        unsubscribe: (c) => sub.unsubscribe(c),
        publish: (c, p) => pub.publish(c, p),
        subscribers: async (c) => numsub(await pub.call('PUBSUB', 'NUMSUB', c)),
        event: 'messageBuffer',
      };
  // Socket.IO calls `new adapter(nsp)`: a plain function (not an arrow) that returns the instance.
  return function (nsp: Namespace): Adapter {
    return new RoutedRedisAdapter(nsp, sub, channels, options);
  };
}

const looksLikeSocketId = (room: string) => room.length === 20;

class RoutedRedisAdapter extends ClusterAdapter {
  private readonly nspName: string;
  private readonly channel: string;
  private readonly responseChannel: string;
  private readonly routeRoom: (room: string) => boolean;
  private readonly logger: RedisKitLogger;
  private readonly subscribed = new Map<string, Promise<void>>();
  private readonly onRaw: (channel: Buffer, message: Buffer) => void;
  private lastDrop: string | undefined;

  constructor(
    nsp: Namespace,
    private readonly sub: RedisClient,
    private readonly channels: Channels,
    private readonly options: RoutedAdapterOptions,
  ) {
    super(nsp);
    this.nspName = nsp.name;
    const prefix = options.channelPrefix ?? 'socket.io';
    this.channel = `${prefix}#${this.nspName}#`;
    this.responseChannel = `${this.channel}${this.uid}#`;
    this.routeRoom = options.routeRoom ?? ((room) => !looksLikeSocketId(room));
    this.logger = options.logger ?? createDebugLogger();
    this.onRaw = (rawChannel, message) => {
      const channel = rawChannel.toString();
      if (!channel.startsWith(this.channel)) return;
      options.onTraffic?.('in', message.length);
      this.receive(channel, message);
    };
    sub.on(channels.event, this.onRaw);
    void this.follow(this.channel);
    void this.follow(this.responseChannel);
    this.on('create-room', (room: string) => {
      if (this.routed(room)) void this.follow(this.roomChannel(room));
    });
    this.on('delete-room', (room: string) => {
      if (!this.routed(room)) return;
      const channel = this.roomChannel(room);
      this.subscribed.delete(channel);
      this.channels.unsubscribe(channel).catch(() => undefined);
    });
  }

  /** Joins, and resolves once the new rooms' channels are subscribed (or the wait timed out). */
  override addAll(id: string, rooms: Set<string>): Promise<void> | void {
    void super.addAll(id, rooms); // the in-memory part is synchronous
    const pending = [...rooms]
      .filter((room) => this.routed(room))
      .map((room) => this.subscribed.get(this.roomChannel(room)))
      .filter((p): p is Promise<void> => p !== undefined);
    if (pending.length === 0) return;
    const timeoutMs = this.options.subscribeTimeoutMs ?? 1_000;
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      Promise.all(pending).then(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]).finally(() => clearTimeout(timer));
  }

  override async broadcast(packet: unknown, opts: BroadcastOptions): Promise<void> {
    const rooms = [...opts.rooms];
    const routed = rooms.length > 0 && !opts.flags?.local && rooms.every((r) => this.routed(r));
    if (!routed) return super.broadcast(packet, opts);
    const except = [...(opts.except ?? [])];
    const message = (room: string) => ({
      uid: this.uid,
      nsp: this.nspName,
      type: MessageType.BROADCAST,
      data: { packet, opts: { rooms: [room], except, flags: opts.flags } },
    });
    // One encoding for every room: each room's frame only differs in its room (adapter-frame.ts).
    const frames = encodePerRoom(message, rooms);
    // One publish per room, and no local delivery here: this instance hears its own broadcast
    // back on each room's channel, like every other instance, so every device gets every
    // broadcast through one channel in the order Redis took them, whoever sent them. Rooms whose
    // publish failed get it locally at once (their other instances missed it; see onDropped).
    const dropped = await Promise.all(
      rooms.map((room, i) =>
        this.send(this.roomChannel(room), frames[i]!, [room]).then((ok) => (ok ? undefined : room)),
      ),
    );
    const missed = dropped.filter((room): room is string => room !== undefined);
    if (missed.length > 0) this.localBroadcast(packet, { ...opts, rooms: new Set(missed) });
  }

  /** Instances on the namespace channel (every instance is): what fetchSockets waits for. */
  override serverCount(): Promise<number> {
    return this.channels.subscribers(this.channel);
  }

  protected override doPublish(message: ClusterMessage): Promise<string> {
    return this.send(this.channel, message, []).then(() => '');
  }

  protected override doPublishResponse(
    requesterUid: string,
    response: ClusterResponse,
  ): Promise<void> {
    return this.send(`${this.channel}${requesterUid}#`, response, []).then(() => undefined);
  }

  override close(): void {
    this.sub.off(this.channels.event, this.onRaw);
    for (const channel of [this.channel, this.responseChannel, ...this.subscribed.keys()]) {
      this.channels.unsubscribe(channel).catch(() => undefined);
    }
    this.subscribed.clear();
  }

  private localBroadcast(packet: unknown, opts: BroadcastOptions): void {
    // The in-memory adapter's broadcast: to this instance's sockets only.
    Adapter.prototype.broadcast.call(this, packet, opts);
  }

  private routed(room: string): boolean {
    return !this.sids.has(room) && this.routeRoom(room);
  }

  private roomChannel(room: string): string {
    return `${this.channel}${room}#`;
  }

  private follow(channel: string): Promise<void> {
    const existing = this.subscribed.get(channel);
    if (existing) return existing;
    const done = this.channels.subscribe(channel).then(
      () => undefined,
      (error: unknown) =>
        this.logger.warn(
          `redis adapter: subscribe ${channel} failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
    );
    this.subscribed.set(channel, done);
    return done;
  }

  /**
   * Resolves true once Redis took it, false when it was refused or timed out: a publish that
   * fails is dropped (at most once) and reported, never a rejection. During an outage every
   * publish fails the same way: logged once.
   */
  private send(channel: string, message: object, rooms: string[]): Promise<boolean> {
    const payload = Buffer.isBuffer(message) ? message : encodeFrame(message);
    this.options.onTraffic?.('out', payload.length);
    return this.channels.publish(channel, payload).then(
      () => {
        if (this.lastDrop !== undefined) {
          this.lastDrop = undefined;
          this.options.onPublishRecovered?.();
        }
        return true;
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        if (reason !== this.lastDrop) this.logger.warn(`redis adapter: publish dropped: ${reason}`);
        this.lastDrop = reason;
        this.options.onDropped?.(rooms);
        return false;
      },
    );
  }

  private receive(channel: string, raw: Buffer): void {
    let message: ClusterMessage | ClusterResponse;
    try {
      message = decodeFrame(raw);
    } catch (error) {
      if (!(error instanceof AdapterFrameError)) throw error;
      this.logger.warn(`redis adapter: ${error.message} on ${channel}: dropped`);
      return;
    }
    if (channel === this.responseChannel) this.onResponse(message as ClusterResponse);
    else if (message.uid === this.uid && channel !== this.channel) this.ownBroadcast(message);
    else this.onMessage(message as ClusterMessage);
  }

  /** This instance's own broadcast to a routed room, back from Redis: delivered to local sockets. */
  private ownBroadcast(message: ClusterMessage | ClusterResponse): void {
    if (message.type !== MessageType.BROADCAST) return;
    const data = message.data as {
      packet: unknown;
      opts: { rooms: string[]; except: string[]; flags?: BroadcastOptions['flags'] };
    };
    this.localBroadcast(data.packet, {
      rooms: new Set(data.opts.rooms),
      except: new Set(data.opts.except),
      ...(data.opts.flags && { flags: data.opts.flags }),
    });
  }
}

export interface CreateRedisAdapterOptions extends Omit<RoutedAdapterOptions, 'channelPrefix'> {
  /** Channel prefix; default `<REDIS_KEY_PREFIX>socket.io`, so prefixed deployments stay apart. */
  key?: string;
  /** Client names in CLIENT LIST, `<name>-pub` and `<name>-sub` (default the key). */
  name?: string;
}

export interface RedisConnectedAdapter extends RedisAdapterHandle {
  /** The adapter's own clients: publishing must never wait behind a subscriber, nor commands. */
  publisher: RedisClient;
  subscriber: RedisClient;
  /**
   * Called each time the publisher or the subscriber works again after losing Redis (a
   * reconnect, a failed-over shard resubscribed, a publish going through after drops): what
   * was broadcast meanwhile is gone, so this is when clients must be told to catch up.
   */
  onRecovered(listener: () => void): void;
  /** Quits both clients. Call after `io.close()`. */
  close(): Promise<void>;
}

/**
 * The routed adapter with its own publisher and subscriber. Resolves once both are ready;
 * rejects (and closes them) when Redis cannot be reached.
 */
export async function createRedisAdapter(
  config: RedisConfig,
  options: CreateRedisAdapterOptions = {},
): Promise<RedisConnectedAdapter> {
  const logger = options.logger ?? createDebugLogger();
  const key = options.key ?? `${config.keyPrefix ?? ''}socket.io`;
  const name = options.name ?? key;
  const cluster = config.mode === 'cluster';
  const publisher = buildClient(config, {
    name: `${name}-pub`,
    logger,
    lazyConnect: true,
    keyPrefix: false,
    // Drop instead of queueing: a late broadcast is worse than a missed one (clients catch up from the store).
    enableOfflineQueue: false,
    shardedSubscribers: cluster,
    // A broadcast to a group is one publish per member's room, all in one tick: one write.
    autoPipelining: true,
  });
  const subscriber = buildClient(config, {
    name: `${name}-sub`,
    logger,
    lazyConnect: true,
    keyPrefix: false,
    // Subscriptions made during an outage wait for the connection instead of failing.
    maxRetriesPerRequest: null,
    commandTimeout: false,
    // Without it ioredis' Cluster sends SSUBSCRIBE to the wrong node and crashes on MOVED.
    shardedSubscribers: cluster,
  });
  const close = async () => {
    await Promise.all([quitRedisClient(publisher), quitRedisClient(subscriber)]);
  };
  try {
    await Promise.all([connectRedisClient(publisher), connectRedisClient(subscriber)]);
  } catch (error) {
    await close();
    throw error;
  }
  const listeners: (() => void)[] = [];
  const recovered = () => {
    for (const listener of listeners) listener();
  };
  // Registered after the first connection, so every `ready` from here on is a comeback.
  for (const client of [publisher, subscriber]) client.on('ready', recovered);
  if (subscriber instanceof Cluster) {
    // A failed-over shard does not make the whole cluster client "ready" again: its subscriber
    // is replaced and every channel subscribed anew, then `subscribersReady`.
    let lostShard = false;
    subscriber.on('-subscriber', () => (lostShard = true));
    subscriber.on('subscribersReady', () => {
      if (!lostShard) return;
      lostShard = false;
      recovered();
    });
  }
  const adapter = createRoutedAdapter(publisher, subscriber, cluster, {
    ...options,
    channelPrefix: key,
    logger,
    onPublishRecovered: () => {
      options.onPublishRecovered?.();
      recovered();
    },
  });
  return {
    adapter,
    publisher,
    subscriber,
    onRecovered: (listener) => listeners.push(listener),
    close,
  };
}
