import { z } from 'zod';

/**
 * Every setting GigaChat reads from the environment, with its default. `.env.example` documents the same list;
 * `config.schema.spec.ts` fails when the two drift apart.
 */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalUrl = z.url().optional();
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/**
 * The variables that hold secrets. Each may instead be given as `<NAME>_FILE`, the path of a file holding the value
 * (Docker and Kubernetes secrets), never both.
 */
export const SECRET_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'TEMPORAL_API_KEY',
  'LLM_API_KEY',
  'LLM_PROVIDERS',
  'EMBEDDING_API_KEY',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
  'PASETO_KEYS',
  'PASSWORD_PEPPER',
  'TOTP_ENCRYPTION_KEY',
  'TEMPORAL_PAYLOAD_KEYS',
  'FILES_ENCRYPTION_KEYS',
  'METRICS_TOKEN',
  'MCP_SERVERS',
] as const;
export type SecretVariable = (typeof SECRET_VARIABLES)[number];

const secretFiles = Object.fromEntries(SECRET_VARIABLES.map((name) => [`${name}_FILE`, z.string().default('')])) as {
  [Name in `${SecretVariable}_FILE`]: z.ZodDefault<z.ZodString>;
};

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: int(0, 65535).default(3000),
  API_BODY_LIMIT_BYTES: int(1024, 50 * 1024 * 1024).default(1024 * 1024),
  API_CORS_ORIGINS: z.string().default(''),
  /** Where browsers reach GigaChat (behind a proxy: the proxy's https address); the base of OAuth redirect URLs. */
  PUBLIC_URL: optionalUrl,
  API_SYNC_TURN_TIMEOUT_MS: int(1000, 600_000).default(120_000),
  /**
   * Which proxies may set X-Forwarded-For (the client address behind rate limits, lockout and the audit log): `false`,
   * `true` (any: only when the API is unreachable except through the proxy), a hop count, or addresses, CIDR ranges
   * and the names `loopback`, `linklocal`, `uniquelocal`, comma-separated.
   */
  TRUST_PROXY: z.string().trim().default('loopback'),
  /** Who may create an account through the API; the default depends on NODE_ENV (see load-config.ts). */
  REGISTRATION: z.enum(['open', 'invite', 'closed']).optional(),

  DATABASE_URL: z
    .string()
    .default('mysql://root@127.0.0.1:3306/gigachat')
    .refine(
      (value) => /^mysql:\/\/[^/]+\/[A-Za-z0-9_]+$/.test(value),
      'must look like mysql://user:pass@host:port/database',
    ),
  DATABASE_POOL_SIZE: int(1, 200).default(10),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379/0').pipe(z.url()),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]*$/)
    .default('gigachat:'),

  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** TLS to the frontend; on by itself when an API key or a certificate is given. */
  TEMPORAL_TLS: flag.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().default(''),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().default(''),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().default(''),
  TEMPORAL_TLS_SERVER_NAME: z.string().default(''),
  TEMPORAL_API_KEY: z.string().default(''),
  TEMPORAL_CHAT_TASK_QUEUE: z.string().min(1).default('chat'),
  TEMPORAL_INGEST_TASK_QUEUE: z.string().min(1).default('ingest'),
  TEMPORAL_REPLAY_TASK_QUEUE: z.string().min(1).default('replay'),
  TEMPORAL_UI_URL: z.string().default('http://127.0.0.1:8233'),
  /** Origins of the Temporal UI allowed to call the codec routes from the browser (comma-separated). */
  TEMPORAL_UI_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),
  WORKER_WORKFLOW_BUNDLE: z.string().default(''),
  WORKER_MAX_CONCURRENT_ACTIVITIES: int(1, 1000).default(100),
  /** The worker's own small HTTP server: /metrics, /health/live, /health/ready (0: any free port; -1: none). */
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_METRICS_PORT: int(-1, 65_535).default(9464),
  /** Bearer token for /metrics; without it /metrics answers loopback clients only. */
  METRICS_TOKEN: z.string().default(''),

  LLM_BASE_URL: optionalUrl,
  LLM_API_KEY: z.string().default(''),
  LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  LLM_TIMEOUT_MS: int(1000, 600_000).default(60_000),
  LLM_CONTEXT_TOKENS: int(256, 2_000_000).default(8192),
  LLM_MAX_OUTPUT_TOKENS: int(16, 200_000).default(1024),
  LLM_PROVIDERS: z.string().default(''),
  LLM_BREAKER_FAILURES: int(1, 1000).default(5),
  LLM_BREAKER_COOLDOWN_SECONDS: int(1, 86_400).default(30),

  PASETO_KEYS: z.string().default(''),
  PASETO_CURRENT_KEY_ID: z.string().default(''),
  ACCESS_TOKEN_TTL_SECONDS: int(60, 86_400).default(900),
  REFRESH_TOKEN_TTL_SECONDS: int(300, 90 * 86_400).default(30 * 86_400),
  TOKEN_ISSUER: z.string().min(1).default('gigachat'),
  TOKEN_AUDIENCE: z.string().min(1).default('gigachat-api'),
  PASSWORD_PEPPER: z.string().default(''),
  BCRYPT_COST: int(4, 15).default(12),
  TOTP_ENCRYPTION_KEY: z.string().default(''),
  /** `id:base64-of-32-bytes` entries, comma-separated; the first seals Temporal payloads, every one opens them. */
  TEMPORAL_PAYLOAD_KEYS: z.string().default(''),
  /** `id:base64-of-32-bytes` master keys that wrap each file's data key; the first wraps, every one unwraps. */
  FILES_ENCRYPTION_KEYS: z.string().default(''),
  /**
   * `off` stores Temporal payloads and files in clear, whatever the keys say: for benchmarks (what encryption costs)
   * and debugging only; refused in production.
   */
  ENCRYPTION_AT_REST: z.enum(['on', 'off']).default('on'),
  RATE_LIMIT_AUTH_MAX: int(1, 1_000_000).default(20),
  RATE_LIMIT_AUTH_WINDOW_SECONDS: int(1, 86_400).default(60),
  RATE_LIMIT_CHAT_MAX: int(1, 1_000_000).default(60),
  RATE_LIMIT_CHAT_WINDOW_SECONDS: int(1, 86_400).default(60),
  LOGIN_LOCKOUT_MAX_FAILURES: int(1, 1000).default(5),
  LOGIN_LOCKOUT_WINDOW_SECONDS: int(1, 86_400).default(900),
  LOGIN_LOCKOUT_BASE_SECONDS: int(1, 86_400).default(900),
  LOGIN_LOCKOUT_MAX_SECONDS: int(1, 7 * 86_400).default(86_400),
  LOGIN_LOCKOUT_ESCALATION_MEMORY_SECONDS: int(1, 30 * 86_400).default(86_400),

  RATE_LIMIT_SEARCH_MAX: int(1, 1_000_000).default(60),
  RATE_LIMIT_SEARCH_WINDOW_SECONDS: int(1, 86_400).default(60),
  RATE_LIMIT_FILES_MAX: int(1, 1_000_000).default(30),
  RATE_LIMIT_FILES_WINDOW_SECONDS: int(1, 86_400).default(60),

  S3_ENDPOINT: optionalUrl,
  S3_ACCESS_KEY: z.string().default(''),
  S3_SECRET_KEY: z.string().default(''),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .default('gigachat-files'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  FILES_DIR: z.string().default(''),
  FILE_MAX_BYTES: int(1, 1024 * 1024 * 1024).default(25 * 1024 * 1024),
  CHUNK_TOKENS: int(32, 8192).default(500),
  CHUNK_OVERLAP_TOKENS: int(0, 4096).default(50),

  EMBEDDING_BASE_URL: optionalUrl,
  EMBEDDING_API_KEY: z.string().default(''),
  EMBEDDING_MODEL: z.string().min(1).default('text-embedding-3-small'),
  EMBEDDING_DIMENSIONS: int(0, 8192).default(0),
  EMBEDDING_BATCH_SIZE: int(1, 2048).default(64),
  EMBEDDING_TIMEOUT_MS: int(1000, 600_000).default(60_000),
  RETRIEVAL_TOP_K: int(1, 50).default(5),
  RETRIEVAL_VECTOR_CACHE_MB: int(16, 1_048_576).default(512),

  SEARXNG_URL: optionalUrl,
  WEB_SEARCH_TIMEOUT_MS: int(100, 60_000).default(5000),
  WEB_SEARCH_RESULTS: int(1, 20).default(5),
  WEB_SEARCH_CACHE_TTL_SECONDS: int(0, 7 * 86_400).default(3600),
  WEB_SEARCH_BREAKER_FAILURES: int(1, 1000).default(5),
  WEB_SEARCH_BREAKER_COOLDOWN_SECONDS: int(1, 86_400).default(30),

  /** Built-in tools the model may call, comma-separated (`none`: no tools). */
  TOOLS_ENABLED: z.string().trim().default('calculator,current_time,web_search,search_my_files,fetch_url'),
  /** Tools that wait for their user's approval before each call, comma-separated. */
  TOOLS_REQUIRE_APPROVAL: z.string().trim().default(''),
  /** Tool rounds in one turn before the model must answer in text. */
  TOOL_MAX_STEPS: int(1, 20).default(5),
  /** Prompt and completion tokens of one turn's model calls after which no more tools are offered. */
  TOOL_TOKEN_BUDGET: int(1000, 10_000_000).default(100_000),
  /** How long a tool call waits for its user's decision before it goes on as denied. */
  TOOL_APPROVAL_TIMEOUT_SECONDS: int(1, 7 * 86_400).default(900),
  /** CIDRs `fetch_url` may reach although private (an internal allowlist; tests). Everything private is refused. */
  FETCH_URL_ALLOWED_PRIVATE_NETWORKS: z.string().trim().default(''),
  /**
   * The operator's MCP servers, a JSON array: `[{"name":"notes","transport":"http","url":"…","headers":{…}}, {"name":
   * "local","transport":"stdio","command":"…","args":[…]}]`. Their tools (`<name>__<tool>`) wait for approval unless an
   * entry says `"requiresApproval": false`.
   */
  MCP_SERVERS: z.string().trim().default(''),
  /** How long one `fetch_url` call may take, redirects included. */
  FETCH_URL_TIMEOUT_MS: int(100, 14_000).default(10_000),

  GIGACHAT_DATA_DIR: z.string().min(1).default('.data'),

  ...secretFiles,
});

export type RawConfig = z.infer<typeof configSchema>;
