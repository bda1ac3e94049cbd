import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { AppConfig } from '#libs/config/app-config';
import type { Logger } from '#libs/logging/logger';
import { createValidationPipe } from '../common/validation.pipe';
import { APP_CONFIG, LOGGER } from '../infra/di-symbols';
import { TurnsService } from '../turns/turns.service';
import { RealtimeAuthenticator } from './realtime-authenticator';
import { RealtimeConnection } from './realtime-connection';

/** The WebSocket's path on the API's HTTP server (no /api/v1 prefix). */
export const REALTIME_PATH = '/ws';
/** Frames larger than this close the connection (1009): client messages are small. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
const HEARTBEAT_MS = 30_000;

/**
 * Live turn events over WebSocket at `/ws` (docs/API-NOTES.md, WebSocket): takes the HTTP server's upgrades for that
 * path only, refuses foreign origins when CORS origins are configured, pings every client every 30 s and drops those
 * that did not answer the previous ping. On shutdown every socket is closed with 1001 so clients resume elsewhere.
 */
@Injectable()
export class RealtimeGateway implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    clientTracking: false,
    perMessageDeflate: false,
  });
  private readonly connections = new Set<RealtimeConnection>();
  private readonly validation = createValidationPipe();
  private server: Server | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly authenticator: RealtimeAuthenticator,
    private readonly turns: TurnsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.onUpgrade);
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  onModuleDestroy(): void {
    this.stopping = true;
    this.server?.off('upgrade', this.onUpgrade);
    clearInterval(this.heartbeat);
    for (const connection of this.connections) connection.close();
    this.connections.clear();
    this.wss.close();
  }

  /** One heartbeat for every socket: ping, drop dead peers, re-check credentials and subscriptions. */
  beat(): void {
    for (const connection of this.connections) connection.heartbeat();
  }

  /** How many sockets are open (for tests and metrics). */
  get size(): number {
    return this.connections.size;
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== REALTIME_PATH) {
      // Another path: left to another upgrade handler if there is one, else refused.
      if (this.server && this.server.listenerCount('upgrade') <= 1) reject(socket, 404, 'Not Found');
      return;
    }
    if (this.stopping) return reject(socket, 503, 'Service Unavailable');
    const origin = req.headers.origin;
    const allowed = this.config.api.corsOrigins;
    if (origin !== undefined && allowed.length > 0 && !allowed.includes(origin)) {
      return reject(socket, 403, 'Forbidden');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.stopping) {
        ws.close(1001, 'server shutting down');
        return;
      }
      const connection = new RealtimeConnection(ws, {
        authenticator: this.authenticator,
        turns: this.turns,
        validation: this.validation,
        logger: this.logger,
        ip: req.socket.remoteAddress,
      });
      this.connections.add(connection);
      ws.once('close', () => this.connections.delete(connection));
    });
  };
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}
