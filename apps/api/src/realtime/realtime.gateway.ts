import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { AppConfig } from '#libs/config/app-config';
import { type ErrorCode } from '#libs/errors/app-error';
import { PROBLEM_CONTENT_TYPE, problem } from '#libs/errors/problem';
import type { Logger } from '#libs/logging/logger';
import { ApiMetrics } from '#libs/metrics/metrics';
import { requestIdFrom } from '../common/request-pipeline.middleware';
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
    private readonly metrics: ApiMetrics,
  ) {}

  onApplicationBootstrap(): void {
    // Like every HTTP response, the handshake's 101 carries the request id (shared/API.md, Errors).
    this.wss.on('headers', (headers: string[], req: IncomingMessage) =>
      headers.push(`X-Request-Id: ${requestIdOf(req)}`),
    );
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
      if (this.server && this.server.listenerCount('upgrade') <= 1) {
        reject(req, socket, 'route_not_found', `No WebSocket at ${path}; it is at ${REALTIME_PATH}`);
      }
      return;
    }
    if (this.stopping) return reject(req, socket, 'service_unavailable', 'The server is shutting down; reconnect');
    const origin = req.headers.origin;
    const allowed = this.config.api.corsOrigins;
    if (origin !== undefined && allowed.length > 0 && !allowed.includes(origin)) {
      return reject(req, socket, 'forbidden', 'This origin may not open a WebSocket here');
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
      this.metrics.streamsOpen.inc({ transport: 'websocket' });
      ws.once('close', () => {
        this.connections.delete(connection);
        this.metrics.streamsOpen.dec({ transport: 'websocket' });
      });
    });
  };
}

/** The handshake's request id, decided once per request (the client's when well-formed). */
const requestIds = new WeakMap<IncomingMessage, string>();
function requestIdOf(req: IncomingMessage): string {
  let id = requestIds.get(req);
  if (id === undefined) {
    id = requestIdFrom(req.headers['x-request-id']);
    requestIds.set(req, id);
  }
  return id;
}

/** Refuses a handshake the way every HTTP error is answered: problem+json with the request id. */
function reject(req: IncomingMessage, socket: Duplex, code: ErrorCode, detail: string): void {
  const requestId = requestIdOf(req);
  const body = problem(code, detail, { instance: (req.url ?? '').split('?')[0], requestId });
  const json = JSON.stringify(body);
  const retryAfter = code === 'service_unavailable' ? 'Retry-After: 1\r\n' : '';
  // Destroyed once the answer is written (as `ws` does for its own refusals), not before.
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${body.status} ${body.title}\r\nConnection: close\r\nX-Request-Id: ${requestId}\r\n${retryAfter}` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}
