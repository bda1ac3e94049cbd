import { type McpServerConfig, parseMcpServers } from '../mcp/mcp-server-config';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseTokenKey } from '../auth/access-token';
import { parseSecretBoxKey } from '../auth/secret-box';
import { type LlmProviderSpec, parseLlmProviders } from '../llm/llm-provider-spec';
import type { AppConfig, Registration, TemporalTls } from './app-config';
import { configSchema, RawConfig, SECRET_VARIABLES, type SecretVariable } from './config.schema';
import { devSecrets } from './dev-secrets';
import { parseKeyList, parsePayloadKeys } from './key-lists';
import { withSecretFiles } from './secret-files';
import { parseTrustProxy, type TrustProxy } from './trust-proxy';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment once. This is the only place that reads `process.env`. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const parsed = configSchema.safeParse(withSecretFiles(withoutEmptyDefaults(env), problems));
  if (!parsed.success) {
    throw new ConfigError([
      ...problems,
      ...parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    ]);
  }
  const raw = parsed.data;
  const secrets = resolveSecrets(raw, problems);
  const llmProviders = resolveLlmProviders(raw, problems);
  const trustProxy = resolveTrustProxy(raw, problems);
  const temporalTls = resolveTemporalTls(raw, problems);
  const mcpServers = resolveMcpServers(raw.MCP_SERVERS, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    dataDir: resolve(raw.GIGACHAT_DATA_DIR),
    secretFiles: secretFilesOf(raw),
    metrics: { token: raw.METRICS_TOKEN, workerHost: raw.WORKER_METRICS_HOST, workerPort: raw.WORKER_METRICS_PORT },
    api: {
      host: raw.API_HOST,
      port: raw.API_PORT,
      bodyLimitBytes: raw.API_BODY_LIMIT_BYTES,
      corsOrigins: raw.API_CORS_ORIGINS.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      syncTurnTimeoutMs: raw.API_SYNC_TURN_TIMEOUT_MS,
      trustProxy,
      publicUrl: (raw.PUBLIC_URL ?? `http://${urlHost(raw.API_HOST)}:${raw.API_PORT}`).replace(/\/+$/, ''),
    },
    database: { url: raw.DATABASE_URL, poolSize: raw.DATABASE_POOL_SIZE },
    redis: { url: raw.REDIS_URL, keyPrefix: raw.REDIS_KEY_PREFIX },
    temporal: {
      address: raw.TEMPORAL_ADDRESS,
      namespace: raw.TEMPORAL_NAMESPACE,
      ...(temporalTls ? { tls: temporalTls } : {}),
      ...(raw.TEMPORAL_API_KEY ? { apiKey: raw.TEMPORAL_API_KEY } : {}),
      chatTaskQueue: raw.TEMPORAL_CHAT_TASK_QUEUE,
      ingestTaskQueue: raw.TEMPORAL_INGEST_TASK_QUEUE,
      replayTaskQueue: raw.TEMPORAL_REPLAY_TASK_QUEUE,
      uiUrl: raw.TEMPORAL_UI_URL,
      uiOrigins: raw.TEMPORAL_UI_ORIGINS.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      workflowBundlePath: raw.WORKER_WORKFLOW_BUNDLE,
      maxConcurrentActivities: raw.WORKER_MAX_CONCURRENT_ACTIVITIES,
      payloadKeys: secrets.temporalPayloadKeys,
    },
    llm: {
      baseUrl: raw.LLM_BASE_URL,
      apiKey: raw.LLM_API_KEY,
      model: raw.LLM_MODEL,
      timeoutMs: raw.LLM_TIMEOUT_MS,
      contextTokens: raw.LLM_CONTEXT_TOKENS,
      maxOutputTokens: raw.LLM_MAX_OUTPUT_TOKENS,
      providers: llmProviders,
      breaker: { failureThreshold: raw.LLM_BREAKER_FAILURES, cooldownMs: raw.LLM_BREAKER_COOLDOWN_SECONDS * 1000 },
    },
    files: {
      s3: raw.S3_ENDPOINT
        ? {
            endPoint: raw.S3_ENDPOINT,
            accessKey: raw.S3_ACCESS_KEY,
            secretKey: raw.S3_SECRET_KEY,
            bucket: raw.S3_BUCKET,
            region: raw.S3_REGION,
          }
        : undefined,
      localDir: resolve(raw.FILES_DIR || join(raw.GIGACHAT_DATA_DIR, 'files')),
      maxBytes: raw.FILE_MAX_BYTES,
      encryptionKeys: secrets.filesEncryptionKeys,
      chunkTokens: raw.CHUNK_TOKENS,
      chunkOverlapTokens: raw.CHUNK_OVERLAP_TOKENS,
    },
    embeddings: raw.EMBEDDING_BASE_URL
      ? {
          baseUrl: raw.EMBEDDING_BASE_URL,
          apiKey: raw.EMBEDDING_API_KEY,
          model: raw.EMBEDDING_MODEL,
          dimensions: raw.EMBEDDING_DIMENSIONS || undefined,
          batchSize: raw.EMBEDDING_BATCH_SIZE,
          timeoutMs: raw.EMBEDDING_TIMEOUT_MS,
        }
      : undefined,
    retrieval: { topK: raw.RETRIEVAL_TOP_K, vectorCacheBytes: raw.RETRIEVAL_VECTOR_CACHE_MB * 1024 * 1024 },
    tools: {
      enabled: raw.TOOLS_ENABLED === 'none' ? [] : commaList(raw.TOOLS_ENABLED),
      requireApproval: commaList(raw.TOOLS_REQUIRE_APPROVAL),
      maxSteps: raw.TOOL_MAX_STEPS,
      tokenBudget: raw.TOOL_TOKEN_BUDGET,
      approvalTimeoutMs: raw.TOOL_APPROVAL_TIMEOUT_SECONDS * 1000,
      fetchUrlAllowedPrivateNetworks: commaList(raw.FETCH_URL_ALLOWED_PRIVATE_NETWORKS),
      fetchUrlTimeoutMs: raw.FETCH_URL_TIMEOUT_MS,
      mcpServers,
    },
    webSearch: {
      searxngUrl: raw.SEARXNG_URL,
      timeoutMs: raw.WEB_SEARCH_TIMEOUT_MS,
      resultLimit: raw.WEB_SEARCH_RESULTS,
      cacheTtlSeconds: raw.WEB_SEARCH_CACHE_TTL_SECONDS,
      breaker: {
        failureThreshold: raw.WEB_SEARCH_BREAKER_FAILURES,
        cooldownMs: raw.WEB_SEARCH_BREAKER_COOLDOWN_SECONDS * 1000,
      },
    },
    security: {
      rateLimits: {
        auth: { limit: raw.RATE_LIMIT_AUTH_MAX, windowSeconds: raw.RATE_LIMIT_AUTH_WINDOW_SECONDS },
        chat: { limit: raw.RATE_LIMIT_CHAT_MAX, windowSeconds: raw.RATE_LIMIT_CHAT_WINDOW_SECONDS },
        files: { limit: raw.RATE_LIMIT_FILES_MAX, windowSeconds: raw.RATE_LIMIT_FILES_WINDOW_SECONDS },
        search: { limit: raw.RATE_LIMIT_SEARCH_MAX, windowSeconds: raw.RATE_LIMIT_SEARCH_WINDOW_SECONDS },
      },
      lockout: {
        maxFailures: raw.LOGIN_LOCKOUT_MAX_FAILURES,
        failureWindowSeconds: raw.LOGIN_LOCKOUT_WINDOW_SECONDS,
        baseLockSeconds: raw.LOGIN_LOCKOUT_BASE_SECONDS,
        maxLockSeconds: raw.LOGIN_LOCKOUT_MAX_SECONDS,
        escalationMemorySeconds: raw.LOGIN_LOCKOUT_ESCALATION_MEMORY_SECONDS,
      },
    },
    auth: {
      registration: registrationOf(raw),
      tokenKeys: secrets.tokenKeys,
      currentKeyId: secrets.currentKeyId,
      accessTokenTtlSeconds: raw.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: raw.REFRESH_TOKEN_TTL_SECONDS,
      issuer: raw.TOKEN_ISSUER,
      audience: raw.TOKEN_AUDIENCE,
      passwordPepper: secrets.pepper,
      bcryptCost: raw.BCRYPT_COST,
      totpEncryptionKey: secrets.totpEncryptionKey,
    },
  };
}

/** `LLM_PROVIDERS` when set, else the single provider `LLM_BASE_URL` names (serving `LLM_MODEL`), else none. */
function resolveLlmProviders(raw: RawConfig, problems: string[]): LlmProviderSpec[] {
  if (raw.LLM_PROVIDERS.trim() === '') {
    if (!raw.LLM_BASE_URL) return [];
    const apiKey = raw.LLM_API_KEY.trim();
    return [
      {
        name: 'openai-compatible',
        baseUrl: raw.LLM_BASE_URL,
        ...(apiKey ? { apiKey } : {}),
        models: [raw.LLM_MODEL],
        priority: 0,
      },
    ];
  }
  if (raw.LLM_BASE_URL) problems.push('LLM_PROVIDERS: set either LLM_PROVIDERS or LLM_BASE_URL, not both');
  const parsed = parseLlmProviders(raw.LLM_PROVIDERS);
  problems.push(...parsed.problems);
  return parsed.providers;
}

function secretFilesOf(raw: RawConfig): Partial<Record<SecretVariable, string>> {
  const files: Partial<Record<SecretVariable, string>> = {};
  for (const name of SECRET_VARIABLES) {
    const path = raw[`${name}_FILE`];
    if (path) files[name] = resolve(path);
  }
  return files;
}

/**
 * Production installations start closed to strangers: accounts come from invitations (or the CLI), so nobody can
 * race the operator for the first, admin, account. Development and tests keep open registration.
 */
function registrationOf(raw: RawConfig): Registration {
  return raw.REGISTRATION ?? (raw.NODE_ENV === 'production' ? 'invite' : 'open');
}

function resolveTrustProxy(raw: RawConfig, problems: string[]): TrustProxy {
  const parsed = parseTrustProxy(raw.TRUST_PROXY);
  if ('problem' in parsed) {
    problems.push(`TRUST_PROXY: ${parsed.problem}`);
    return false;
  }
  return parsed.value;
}

/**
 * TLS to Temporal, on when asked for or implied (an API key, a certificate): certificates are read now, so a missing
 * file stops the start with its variable's name. A client certificate needs its key and the other way round.
 */
function resolveTemporalTls(raw: RawConfig, problems: string[]): TemporalTls | undefined {
  const caPath = raw.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  const certPath = raw.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const keyPath = raw.TEMPORAL_TLS_CLIENT_KEY_PATH;
  const implied = Boolean(raw.TEMPORAL_API_KEY || caPath || certPath || keyPath || raw.TEMPORAL_TLS_SERVER_NAME);
  if (raw.TEMPORAL_TLS === false) {
    if (implied) {
      problems.push('TEMPORAL_TLS: is false, but an API key, certificate or server name for TLS is set');
    }
    return undefined;
  }
  if (raw.TEMPORAL_TLS !== true && !implied) return undefined;
  if (Boolean(certPath) !== Boolean(keyPath)) {
    problems.push('TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH: set both for mTLS, or neither');
  }
  const read = (variable: string, path: string): Buffer | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      problems.push(`${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  const ca = read('TEMPORAL_TLS_SERVER_CA_CERT_PATH', caPath);
  const crt = read('TEMPORAL_TLS_CLIENT_CERT_PATH', certPath);
  const key = read('TEMPORAL_TLS_CLIENT_KEY_PATH', keyPath);
  return {
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(raw.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: raw.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
}

/** An empty variable means "use the default", as in most twelve-factor apps. */
function withoutEmptyDefaults(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') out[key] = value;
  }
  return out;
}

interface Secrets {
  tokenKeys: { id: string; key: Uint8Array }[];
  currentKeyId: string;
  pepper: string;
  totpEncryptionKey: Uint8Array;
  temporalPayloadKeys: { id: string; key: Uint8Array }[];
  filesEncryptionKeys: { id: string; key: Uint8Array }[];
}

/**
 * Production must be given its secrets. Development and test get random ones, written once to
 * `<dataDir>/dev-secrets.json` (mode 0600) so a restart does not log everyone out.
 */
function resolveSecrets(raw: RawConfig, problems: string[]): Secrets {
  let keysValue = raw.PASETO_KEYS;
  let pepper = raw.PASSWORD_PEPPER;
  let totpKeyValue = raw.TOTP_ENCRYPTION_KEY;
  let payloadKeysValue = raw.TEMPORAL_PAYLOAD_KEYS;
  let filesKeysValue = raw.FILES_ENCRYPTION_KEYS;
  if (raw.NODE_ENV === 'production') {
    if (!keysValue) problems.push('PASETO_KEYS: required in production (e.g. "k1:k4.local.<base64url of 32 bytes>")');
    if (!pepper) problems.push('PASSWORD_PEPPER: required in production (at least 32 random characters)');
    if (!totpKeyValue) problems.push('TOTP_ENCRYPTION_KEY: required in production (base64 of 32 random bytes)');
    if (!payloadKeysValue) {
      problems.push('TEMPORAL_PAYLOAD_KEYS: required in production (e.g. "p1:<base64 of 32 random bytes>")');
    }
    if (!filesKeysValue) {
      problems.push('FILES_ENCRYPTION_KEYS: required in production (e.g. "f1:<base64 of 32 random bytes>")');
    }
    if (raw.ENCRYPTION_AT_REST === 'off') {
      problems.push('ENCRYPTION_AT_REST: "off" is for benchmarks and debugging, never production');
    }
  } else if (!keysValue || !pepper || !totpKeyValue || !payloadKeysValue || !filesKeysValue) {
    const dev = devSecrets(resolve(raw.GIGACHAT_DATA_DIR, 'dev-secrets.json'));
    keysValue ||= dev.pasetoKeys;
    pepper ||= dev.passwordPepper;
    totpKeyValue ||= dev.totpEncryptionKey;
    payloadKeysValue ||= dev.temporalPayloadKeys;
    filesKeysValue ||= dev.filesEncryptionKeys;
  }
  if (raw.LOGIN_LOCKOUT_MAX_SECONDS < raw.LOGIN_LOCKOUT_BASE_SECONDS) {
    problems.push('LOGIN_LOCKOUT_MAX_SECONDS: must not be below LOGIN_LOCKOUT_BASE_SECONDS');
  }
  if (raw.CHUNK_OVERLAP_TOKENS >= raw.CHUNK_TOKENS) {
    problems.push('CHUNK_OVERLAP_TOKENS: must be smaller than CHUNK_TOKENS');
  }
  if (raw.S3_ENDPOINT && (!raw.S3_ACCESS_KEY || !raw.S3_SECRET_KEY)) {
    problems.push('S3_ACCESS_KEY, S3_SECRET_KEY: required when S3_ENDPOINT is set');
  }
  if (pepper && pepper.length < 16) problems.push('PASSWORD_PEPPER: must be at least 16 characters');

  const tokenKeys: Secrets['tokenKeys'] = parseKeyList('PASETO_KEYS', keysValue, problems, {
    format: '<keyId>:<key>',
    parse: parseTokenKey,
  });
  const currentKeyId = raw.PASETO_CURRENT_KEY_ID || tokenKeys[0]?.id || '';
  if (tokenKeys.length > 0 && !tokenKeys.some((key) => key.id === currentKeyId)) {
    problems.push(`PASETO_CURRENT_KEY_ID: "${currentKeyId}" is not one of the ids in PASETO_KEYS`);
  }
  let totpEncryptionKey: Uint8Array = new Uint8Array(0);
  if (totpKeyValue) {
    try {
      totpEncryptionKey = parseSecretBoxKey(totpKeyValue);
    } catch (error) {
      problems.push(`TOTP_ENCRYPTION_KEY: ${(error as Error).message}`);
    }
  }
  return {
    tokenKeys,
    currentKeyId,
    pepper,
    totpEncryptionKey,
    // Off: no keys, so the payload codec and the encrypted store stand aside (payloads and files stay clear).
    temporalPayloadKeys: raw.ENCRYPTION_AT_REST === 'off' ? [] : parsePayloadKeys(payloadKeysValue, problems),
    filesEncryptionKeys:
      raw.ENCRYPTION_AT_REST === 'off' ? [] : parseKeyList('FILES_ENCRYPTION_KEYS', filesKeysValue, problems),
  };
}

export function dataPath(config: AppConfig, ...parts: string[]): string {
  return join(config.dataDir, ...parts);
}

/** `MCP_SERVERS`: the operator's MCP servers (a JSON array); each problem names its entry. */
function resolveMcpServers(value: string, problems: string[]): McpServerConfig[] {
  try {
    return parseMcpServers(value);
  } catch (error) {
    problems.push(`MCP_SERVERS: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}

/** `a, b,,c` → `['a', 'b', 'c']`. */
function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A host as it stands in a URL: an IPv6 address in brackets; the wildcard addresses as the loopback one. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
