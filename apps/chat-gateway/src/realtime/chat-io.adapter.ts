import { type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { type Server, type ServerOptions } from 'socket.io';
import { type AppConfig } from '../config/app-config.js';

type AdapterConstructor = NonNullable<ServerOptions['adapter']>;

/**
 * Creates the Socket.IO server with this deployment's options: ping settings that
 * the load balancer's idle timeout is sized against, a payload cap, CORS, and the
 * Redis adapter when instances share Redis. Connections are the gateway's own
 * (ChatGateway.afterInit binds them): Nest's per-client plumbing (an RxJS subject,
 * a disconnect stream and listeners for every socket) would cost each idle socket
 * about a kilobyte for handlers this app does not declare (no @SubscribeMessage).
 */
export class ChatIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
    private readonly redisAdapter?: AdapterConstructor,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const { socket, corsOrigin } = this.config;
    return super.createIOServer(port, {
      ...options,
      pingInterval: socket.pingIntervalMs,
      pingTimeout: socket.pingTimeoutMs,
      maxHttpBufferSize: socket.maxPayloadBytes,
      transports: socket.transports,
      cors: { origin: corsOrigin, credentials: true },
      serveClient: false,
      ...(this.redisAdapter && { adapter: this.redisAdapter }),
    } as ServerOptions);
  }

  override bindClientConnect(): void {
    // Nothing: see the class comment.
  }
}
