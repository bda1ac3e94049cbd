import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeMcpHttp, type FakeMcpHttp } from '../../test/fakes/fake-mcp.server';
import { silentLogger } from '../../test/support/silent-logger';
import type { Logger } from '../logging/logger';
import { CircuitOpenError } from '../resilience/circuit-open.error';
import type { RedisCircuitBreaker } from '../resilience/circuit-breaker';
import { ToolError } from '../tools/tool-definition';
import { McpClientPool, type McpCircuitBreaker, type McpClientPoolOptions } from './mcp-client-pool';
import type { McpServerConfig } from './mcp-server-config';
import type { McpToolSpec } from './mcp-tools';

// The real breaker fits the option (checked by tsc).
const _realBreakerFits = (breaker: RedisCircuitBreaker): McpCircuitBreaker => breaker;

const ROOT = resolve(__dirname, '../..');
const LOOPBACK = ['127.0.0.1/32'];
let scratch: string;
let fake: FakeMcpHttp;
const pools: McpClientPool[] = [];

function newPool(options: Partial<McpClientPoolOptions> = {}): McpClientPool {
  const pool = new McpClientPool({ logger: silentLogger, ...options });
  pools.push(pool);
  return pool;
}

/** The fake over stdio, run from its TypeScript source; it writes its pid to `pidFile`. */
function stdioServer(pidFile = join(scratch, 'fake.pid'), extra: Partial<McpServerConfig> = {}): McpServerConfig {
  const args = ['-r', resolve(ROOT, 'test/support/register-ts.cjs'), resolve(ROOT, 'test/fakes/fake-mcp.server.ts')];
  return {
    name: 'local',
    transport: 'stdio',
    command: process.execPath,
    args: [...args, '--stdio'],
    env: { FAKE_MCP_PID_FILE: pidFile },
    ...extra,
  };
}

function httpServer(extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return { name: 'remote', transport: 'http', url: fake.url, ...extra };
}

async function specsOf(pool: McpClientPool, server: McpServerConfig): Promise<Record<string, McpToolSpec>> {
  const { tools, notes } = await pool.listTools([server]);
  expect(notes).toEqual([]);
  return Object.fromEntries(tools.map((tool) => [tool.tool, tool]));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A port nothing listens on (it was free a moment ago). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<ToolError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'mcp-pool-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeEach(async () => {
  fake = await startFakeMcpHttp({ token: 'letmein' });
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  await fake.close();
});

describe.each([
  ['http', () => httpServer({ headers: { Authorization: 'Bearer letmein' } })],
  ['stdio', () => stdioServer()],
])('McpClientPool over %s', (transport, makeServer) => {
  it('lists the tools namespaced, with their schemas, approval required by default', async () => {
    const server = makeServer();
    const { tools, notes } = await newPool().listTools([server]);
    expect(notes).toEqual([]);
    const prefix = server.name;
    expect(tools.map((t) => t.name)).toEqual(
      ['echo', 'add', 'slow', 'fail', 'mixed', 'weird_name_v2'].map((tool) => `${prefix}__${tool}`),
    );
    expect(tools[0]).toEqual({
      name: `${prefix}__echo`,
      server: prefix,
      tool: 'echo',
      description: 'Returns the text it is given',
      parameters: expect.objectContaining({ type: 'object', properties: { text: { type: 'string' } } }),
      requiresApproval: true,
      timeoutMs: 30_000,
    });
    expect(tools.find((t) => t.name === `${prefix}__weird_name_v2`)?.tool).toBe('Weird-Name.v2');
  });

  it('calls tools by their original names and turns the results into text', async () => {
    const pool = newPool();
    const server = makeServer();
    const specs = await specsOf(pool, server);
    const signal = new AbortController().signal;
    expect(await pool.callTool(server, specs.echo!, { text: 'hello' }, signal)).toEqual({
      content: 'hello',
      summary: `${server.name}__echo: hello`,
      isError: false,
    });
    expect((await pool.callTool(server, specs.add!, { a: 2, b: 40 }, signal)).content).toBe('42');
    expect((await pool.callTool(server, specs['Weird-Name.v2']!, {}, signal)).content).toBe('weird but fine');
    expect((await pool.callTool(server, specs.mixed!, {}, signal)).content).toBe(
      'a picture:\n[image image/png]\n[resource file:///notes.txt]\nthe notes',
    );
    if (transport === 'http') {
      expect(fake.calls).toContainEqual({ tool: 'add', args: { a: 2, b: 40 } });
      expect(fake.sessionsStarted).toBe(1); // one connection for the listing and every call
    }
  });

  it("returns the server's isError results instead of throwing", async () => {
    const pool = newPool();
    const server = makeServer();
    const specs = await specsOf(pool, server);
    expect(await pool.callTool(server, specs.fail!, {}, new AbortController().signal)).toEqual({
      content: 'the fake tool failed on purpose',
      summary: `${server.name}__fail failed: the fake tool failed on purpose`,
      isError: true,
    });
  });

  it("checks arguments against the tool's schema with a message for the model", async () => {
    const pool = newPool();
    const specs = await specsOf(pool, makeServer());
    const name = specs.echo!.name;
    expect(pool.checkArguments(specs.echo!, { text: 'ok' })).toBeNull();
    expect(pool.checkArguments(specs.echo!, { text: 1 })).toBe(`Invalid arguments for ${name}: /text must be string`);
    expect(pool.checkArguments(specs.add!, { a: 1 })).toBe(
      `Invalid arguments for ${specs.add!.name}: must have required property 'b'`,
    );
  });

  it('gives up on a slow tool after its timeout, retryably, and the connection still works', async () => {
    const pool = newPool();
    const server = makeServer();
    const specs = await specsOf(pool, server);
    const signal = new AbortController().signal;
    const started = Date.now();
    const error = await rejection(pool.callTool(server, { ...specs.slow!, timeoutMs: 300 }, { ms: 10_000 }, signal));
    expect(error.message).toBe(`Timed out after 300 ms calling ${specs.slow!.name}`);
    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await pool.callTool(server, specs.echo!, { text: 'still here' }, signal)).content).toBe('still here');
  });

  it('stops when the caller aborts, without retry and without blaming the server', async () => {
    const outcomes: boolean[] = [];
    const breaker: McpCircuitBreaker = {
      async run(fn, isFailure = () => true) {
        try {
          return await fn();
        } catch (error) {
          outcomes.push(isFailure(error));
          throw error;
        }
      },
    };
    const pool = newPool({ breakerFor: () => breaker });
    const server = makeServer();
    const specs = await specsOf(pool, server);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const error = await rejection(pool.callTool(server, specs.slow!, { ms: 10_000 }, controller.signal));
    expect(error.message).toBe(`The call to ${specs.slow!.name} was cancelled`);
    expect(error.retryable).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(outcomes).toEqual([false]);
  });

  it('skips a server whose circuit is open, and refuses its calls retryably', async () => {
    const open: McpCircuitBreaker = { run: () => Promise.reject(new CircuitOpenError('mcp', 1_500, 'open')) };
    const pool = newPool({ breakerFor: () => open });
    const server = makeServer();
    expect(await pool.listTools([server])).toEqual({
      tools: [],
      notes: [
        `MCP server "${server.name}" skipped: MCP server "${server.name}" is paused after repeated failures; retry in 1500 ms`,
      ],
    });
    const spec = { name: `${server.name}__echo`, server: server.name, tool: 'echo' } as McpToolSpec;
    const error = await rejection(
      pool.callTool(server, { ...spec, timeoutMs: 1_000 }, {}, new AbortController().signal),
    );
    expect(error.retryable).toBe(true);
  });
});

describe('McpClientPool, failures and refusals', () => {
  it('skips a server that is down with a note, and lists the others', async () => {
    const pool = newPool({ connectTimeoutMs: 2_000 });
    const downHttp = httpServer({ name: 'gone', url: `http://127.0.0.1:${await freePort()}/mcp` });
    const downStdio = stdioServer(undefined, { name: 'missing', command: join(scratch, 'no-such-program') });
    const up = httpServer({ headers: { Authorization: 'Bearer letmein' } });
    const { tools, notes } = await pool.listTools([downHttp, downStdio, up, { ...up, url: 'http://127.0.0.1:1/' }]);
    expect(tools.map((t) => t.server)).toEqual(Array(6).fill('remote'));
    expect(notes).toEqual([
      'MCP server "remote" skipped: another server has the same name',
      'MCP server "gone" skipped: MCP server "gone" is unreachable: ECONNREFUSED',
      'MCP server "missing" skipped: MCP server "missing" could not be started (ENOENT)',
    ]);
  });

  it('skips a server that does not answer within the listing time', async () => {
    const silent = createServer(() => undefined).listen(0, '127.0.0.1'); // accepts, never answers
    await once(silent, 'listening');
    const { port } = silent.address() as AddressInfo;
    try {
      const started = Date.now();
      const { notes } = await newPool({ listTimeoutMs: 300 }).listTools([
        httpServer({ name: 'mute', url: `http://127.0.0.1:${port}/mcp` }),
      ]);
      expect(notes).toEqual(['MCP server "mute" skipped: no answer within 300 ms']);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      silent.close();
    }
  });

  it('sends the configured headers with every request, and never logs them', async () => {
    const lines: string[] = [];
    const record = (...args: unknown[]) => lines.push(JSON.stringify(args));
    const logger = { debug: record, info: record, warn: record, error: record } as unknown as Logger;
    const pool = newPool({ logger });
    const good = httpServer({ headers: { Authorization: 'Bearer letmein' } });
    const specs = await specsOf(pool, good);
    await pool.callTool(good, specs.echo!, { text: 'x' }, new AbortController().signal);
    expect(fake.authorizations.length).toBeGreaterThan(2);
    expect(new Set(fake.authorizations)).toEqual(new Set(['Bearer letmein']));

    const wrong = httpServer({ name: 'wrong', headers: { Authorization: 'Bearer top-secret' } });
    expect((await pool.listTools([wrong])).notes).toEqual([
      'MCP server "wrong" skipped: MCP server "wrong" refused the credentials (HTTP 401)',
    ]);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toMatch(/letmein|top-secret/);
  });

  it('throws retryable errors for transport failures, and connects again after the server forgot the session', async () => {
    const pool = newPool();
    const server = httpServer({ headers: { Authorization: 'Bearer letmein' } });
    const specs = await specsOf(pool, server);
    const signal = new AbortController().signal;
    fake.failNext(1, 503);
    const error = await rejection(pool.callTool(server, specs.echo!, { text: 'a' }, signal));
    expect(error).toMatchObject({ message: 'MCP server "remote" failed: HTTP 503', retryable: true });
    expect((await pool.callTool(server, specs.echo!, { text: 'b' }, signal)).content).toBe('b');

    await fake.forgetSessions(); // as a restarted server would
    expect((await pool.callTool(server, specs.echo!, { text: 'c' }, signal)).content).toBe('c');
    expect(fake.sessionsStarted).toBe(3);
  });

  it('refuses a publicOnly server on a private address unless allowed', async () => {
    const server = httpServer({ publicOnly: true, headers: { Authorization: 'Bearer letmein' } });
    expect(await newPool().listTools([server])).toEqual({
      tools: [],
      notes: ['MCP server "remote" skipped: Refused: 127.0.0.1 is a loopback address'],
    });
    const spec = { name: 'remote__echo', server: 'remote', tool: 'echo', timeoutMs: 2_000 } as McpToolSpec;
    const error = await rejection(newPool().callTool(server, spec, { text: 'x' }, new AbortController().signal));
    expect(error).toMatchObject({ message: 'Refused: 127.0.0.1 is a loopback address', retryable: false });
    expect(fake.authorizations).toEqual([]); // nothing was sent

    const allowed = newPool({ allowedPrivateNetworks: LOOPBACK });
    const specs = await specsOf(allowed, server);
    expect((await allowed.callTool(server, specs.echo!, { text: 'ok' }, new AbortController().signal)).content).toBe(
      'ok',
    );
  });

  it('checks every request of a publicOnly server again (a name that now resolves inside is refused)', async () => {
    let answer = '127.0.0.1';
    const lookup = () => Promise.resolve([{ address: answer, family: 4 }]);
    const pool = newPool({ allowedPrivateNetworks: LOOPBACK, lookup });
    const server = httpServer({ publicOnly: true, url: fake.url, headers: { Authorization: 'Bearer letmein' } });
    server.url = server.url!.replace('127.0.0.1', 'localhost');
    const specs = await specsOf(pool, server);
    answer = '10.1.2.3';
    const error = await rejection(pool.callTool(server, specs.echo!, { text: 'x' }, new AbortController().signal));
    expect(error).toMatchObject({ message: 'Refused: 10.1.2.3 is a private address', retryable: false });
  });

  it('connects a publicOnly server only to addresses checked in the same lookup (DNS rebinding)', async () => {
    // The name passes both checks before the first request (connecting, then the request), and answers with an inside
    // address from then on: the moment a connection is opened. Only a connection made through the checked lookup sees
    // that answer; one that resolved the name again on its own would have reached the server.
    let lookups = 0;
    const lookup = () => Promise.resolve([{ address: lookups++ < 2 ? '127.0.0.1' : '10.1.2.3', family: 4 }]);
    const pool = newPool({ allowedPrivateNetworks: LOOPBACK, lookup });
    const server = httpServer({ publicOnly: true, url: fake.url, headers: { Authorization: 'Bearer letmein' } });
    server.url = server.url!.replace('127.0.0.1', 'localhost');
    expect(await pool.listTools([server])).toEqual({
      tools: [],
      notes: ['MCP server "remote" skipped: Refused: 10.1.2.3 is a private address'],
    });
    expect(fake.authorizations).toEqual([]); // nothing reached the server
  });

  it('refuses stdio for a publicOnly server without starting anything', async () => {
    const pidFile = join(scratch, 'never.pid');
    const server = stdioServer(pidFile, { publicOnly: true });
    expect((await newPool().listTools([server])).notes).toEqual([
      'MCP server "local" skipped: Refused: MCP server "local" must be reached over http',
    ]);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('close() stops the stdio child; a child that died is started again', async () => {
    const pidFile = join(scratch, 'child.pid');
    const server = stdioServer(pidFile);
    const pool = newPool();
    const specs = await specsOf(pool, server);
    const first = Number(readFileSync(pidFile, 'utf8'));
    expect(isAlive(first)).toBe(true);

    process.kill(first, 'SIGKILL');
    await sleep(300);
    const signal = new AbortController().signal;
    expect((await pool.callTool(server, specs.echo!, { text: 'again' }, signal)).content).toBe('again');
    const second = Number(readFileSync(pidFile, 'utf8'));
    expect(second).not.toBe(first);

    await pool.close();
    for (let i = 0; i < 50 && isAlive(second); i += 1) await sleep(100);
    expect(isAlive(second)).toBe(false);
  });
});
