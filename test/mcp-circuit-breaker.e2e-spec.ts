import { McpClientPool } from '#libs/mcp/mcp-client-pool';
import type { McpServerConfig } from '#libs/mcp/mcp-server-config';
import { RedisCircuitBreaker } from '#libs/resilience/circuit-breaker';
import { ToolError } from '#libs/tools/tool-definition';
import { startFakeMcpHttp, type FakeMcpHttp } from './fakes/fake-mcp.server';
import { connectScratchRedis, type ScratchRedis } from './support/scratch-redis';
import { silentLogger } from './support/silent-logger';

/** MCP servers behind the real Redis circuit breaker: which outcomes open it, and what an open one does. */
let scratch: ScratchRedis;
let fake: FakeMcpHttp;
let pool: McpClientPool;
let breaker: RedisCircuitBreaker;
let server: McpServerConfig;

beforeAll(async () => {
  scratch = await connectScratchRedis('mcp-breaker');
});
afterAll(() => scratch.drop());
beforeEach(async () => {
  fake = await startFakeMcpHttp();
  server = { name: 'files', transport: 'http', url: fake.url };
  breaker = new RedisCircuitBreaker({
    redis: scratch.redis,
    keyPrefix: '',
    name: `mcp:files:${Date.now()}`,
    failureThreshold: 2,
    cooldownMs: 60_000,
  });
  pool = new McpClientPool({ logger: silentLogger, breakerFor: () => breaker });
});
afterEach(async () => {
  await pool.close();
  await fake.close();
});

const signal = () => new AbortController().signal;

it("counts transport failures, not the tools' own errors nor the caller's cancellations", async () => {
  const { tools } = await pool.listTools([server]);
  const spec = (tool: string) => tools.find((t) => t.tool === tool)!;

  for (let i = 0; i < 3; i += 1) expect((await pool.callTool(server, spec('fail'), {}, signal())).isError).toBe(true);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  await expect(pool.callTool(server, spec('slow'), { ms: 5_000 }, controller.signal)).rejects.toThrow('cancelled');
  expect((await breaker.state()).state).toBe('closed');

  // Every request fails from here on, not just the next two: which requests a client makes around a failure (a new
  // connection's initialize, a cancelled call's notice) is the SDK's business, and one CI run saw a call get through.
  fake.failNext(Number.MAX_SAFE_INTEGER, 502);
  for (let i = 0; i < 2; i += 1) {
    await expect(pool.callTool(server, spec('echo'), { text: 'x' }, signal())).rejects.toThrow('HTTP 502');
  }
  expect((await breaker.state()).state).toBe('open');

  // Open: nothing reaches the server; listing skips it, calls fail retryably.
  const requests = fake.authorizations.length;
  const error = await pool.callTool(server, spec('echo'), { text: 'x' }, signal()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ToolError);
  expect(error).toMatchObject({ retryable: true, message: expect.stringMatching(/^MCP server "files" is paused/) });
  const listed = await pool.listTools([server]);
  expect(listed.tools).toEqual([]);
  expect(listed.notes).toEqual([expect.stringMatching(/^MCP server "files" skipped: MCP server "files" is paused/)]);
  expect(fake.authorizations.length).toBe(requests);
});
