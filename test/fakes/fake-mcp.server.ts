/**
 * A small MCP server built on the real SDK, so the real client and both real transports are exercised:
 *
 * - streamable HTTP on `<url>` (`/mcp`), with sessions like most servers, optionally requiring
 *   `Authorization: Bearer <token>`: {@link startFakeMcpHttp};
 * - stdio: `node dist/test/fakes/fake-mcp.server.js --stdio` (or, from the sources,
 *   `node -r ./test/support/register-ts.cjs test/fakes/fake-mcp.server.ts --stdio`). With `FAKE_MCP_PID_FILE` set it
 *   writes its pid there, so a test can see that the process is gone.
 *
 * Tools: `echo` {text} → text; `add` {a, b} → the sum; `slow` {ms} → answers after ms; `fail` → an `isError` result;
 * `mixed` → a text, an image and a resource part; `Weird-Name.v2` → a name that needs sanitizing.
 * Run it standalone over HTTP with `PORT=8931 node dist/test/fakes/fake-mcp.server.js`; it prints its URL on stdout.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { FakeOAuthServer } from './fake-oauth';
import { closeServer, listen, runStandalone } from './http-server';

export interface FakeMcpCall {
  tool: string;
  args: unknown;
}

export interface FakeMcpHttpOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** When set, every request must carry `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
  /** When set, requests need an access token it issued (401 with its metadata's address otherwise); it serves its routes. */
  oauth?: FakeOAuthServer;
}

export interface FakeMcpHttp {
  /** The MCP endpoint, `http://host:port/mcp`. */
  readonly url: string;
  /** Tool calls received, in order, with the arguments as the tool got them. */
  readonly calls: FakeMcpCall[];
  /** The `Authorization` header of every HTTP request received (undefined when absent). */
  readonly authorizations: (string | undefined)[];
  /** Sessions started so far (one per client connection). */
  readonly sessionsStarted: number;
  /** The next `count` JSON-RPC requests (not notifications) are answered with `status` (default 503), doing nothing. */
  failNext(count?: number, status?: number): void;
  /** Forgets every session, as a restarted server would: their next request gets 404. */
  forgetSessions(): Promise<void>;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** An MCP server with the fake's tools; `calls` records each call. */
/** A JSON-RPC request (a method and an id), or a batch holding one. */
function isRpcRequest(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(isRpcRequest);
  return typeof body === 'object' && body !== null && 'method' in body && 'id' in body;
}

export function createFakeMcpServer(calls: FakeMcpCall[] = []): McpServer {
  const server = new McpServer({ name: 'fake-mcp', version: '1.0.0' });
  const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });
  server.registerTool(
    'echo',
    { description: 'Returns the text it is given', inputSchema: { text: z.string() } },
    (args) => {
      calls.push({ tool: 'echo', args });
      return text(args.text);
    },
  );
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
    (args) => {
      calls.push({ tool: 'add', args });
      return text(String(args.a + args.b));
    },
  );
  server.registerTool(
    'slow',
    { description: 'Answers after the given number of milliseconds', inputSchema: { ms: z.number().int().min(0) } },
    async (args, extra) => {
      calls.push({ tool: 'slow', args });
      await sleep(args.ms, undefined, { signal: extra.signal });
      return text(`waited ${args.ms} ms`);
    },
  );
  server.registerTool('fail', { description: 'Always fails' }, () => {
    calls.push({ tool: 'fail', args: {} });
    return { isError: true, content: [{ type: 'text', text: 'the fake tool failed on purpose' }] };
  });
  server.registerTool('mixed', { description: 'Answers with a text, an image and a resource' }, () => {
    calls.push({ tool: 'mixed', args: {} });
    return {
      content: [
        { type: 'text', text: 'a picture:' },
        { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///notes.txt', text: 'the notes' } },
      ],
    };
  });
  server.registerTool('Weird-Name.v2', { description: 'A tool whose name needs sanitizing' }, () => {
    calls.push({ tool: 'Weird-Name.v2', args: {} });
    return text('weird but fine');
  });
  return server;
}

/** Starts the fake over streamable HTTP. */
export async function startFakeMcpHttp(options: FakeMcpHttpOptions = {}): Promise<FakeMcpHttp> {
  const calls: FakeMcpCall[] = [];
  const authorizations: (string | undefined)[] = [];
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: McpServer }>();
  let sessionsStarted = 0;
  let failures = { count: 0, status: 503 };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    authorizations.push(req.headers.authorization);
    if (options.oauth && (await options.oauth.route(req, res, base))) return;
    if (new URL(req.url ?? '/', 'http://fake').pathname !== '/mcp') return send(res, 404, { error: 'not found' });
    // Read first: only requests (with an id) fail on purpose, not the notifications a client sends on its own time
    // (a cancellation lands whenever it lands) nor its event stream.
    const body: unknown = req.method === 'POST' ? await readJson(req) : undefined;
    if (failures.count > 0 && isRpcRequest(body)) {
      failures = { ...failures, count: failures.count - 1 };
      return send(res, failures.status, { error: 'failing on purpose' });
    }
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return send(res, 401, { error: 'unauthorized' });
    }
    if (options.oauth && !options.oauth.accepts(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', options.oauth.challenge(base));
      return send(res, 401, { error: 'invalid_token' });
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (!session) return send(res, 404, rpcError('Session not found'));
      return session.transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST') return send(res, 400, rpcError('No session'));
    if (!isInitializeRequest(body)) return send(res, 400, rpcError('No session; initialize first'));
    const server = createFakeMcpServer(calls);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        sessionsStarted += 1;
        sessions.set(id, { transport, server });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, rpcError(String(error)));
    });
  });
  const base: string = await listen(http, options.port ?? 0, options.host ?? '127.0.0.1');

  async function forgetSessions(): Promise<void> {
    const open = [...sessions.values()];
    sessions.clear();
    await Promise.all(open.map(({ server }) => server.close()));
  }

  return {
    url: `${base}/mcp`,
    calls,
    authorizations,
    get sessionsStarted() {
      return sessionsStarted;
    },
    failNext(count = 1, status = 503) {
      failures = { count, status };
    },
    forgetSessions,
    async close() {
      await forgetSessions();
      await closeServer(http);
    },
  };
}

/** Serves the fake's tools on stdin/stdout until stdin closes. */
export async function runFakeMcpStdio(): Promise<void> {
  const pidFile = process.env.FAKE_MCP_PID_FILE;
  if (pidFile) writeFileSync(pidFile, String(process.pid));
  await createFakeMcpServer().connect(new StdioServerTransport());
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function rpcError(message: string): object {
  return { jsonrpc: '2.0', error: { code: -32000, message }, id: null };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

if (require.main === module) {
  if (process.argv.includes('--stdio')) {
    runFakeMcpStdio().catch((error: unknown) => {
      console.error(`fake MCP server failed to start: ${String(error)}`);
      process.exit(1);
    });
  } else {
    runStandalone('fake MCP server', () => startFakeMcpHttp({ port: Number(process.env.PORT ?? 0) }));
  }
}
