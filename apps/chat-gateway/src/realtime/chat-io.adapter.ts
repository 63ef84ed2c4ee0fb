import { type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { type Server, type ServerOptions } from 'socket.io';
import { type AppConfig } from '../config/app-config.js';

type AdapterConstructor = NonNullable<ServerOptions['adapter']>;

/**
 * Creates the Socket.IO server with this deployment's options: ping settings that
 * the load balancer's idle timeout is sized against, a payload cap, CORS, and the
 * Redis adapter when instances share Redis.
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
}
