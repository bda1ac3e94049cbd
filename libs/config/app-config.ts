import type { McpServerConfig } from '../mcp/mcp-server-config';
import type { LlmProviderSpec } from '../llm/llm-provider-spec';
import type { SecretVariable } from './config.schema';
import type { TrustProxy } from './trust-proxy';

export type Registration = 'open' | 'invite' | 'closed';

/** TLS to Temporal: `{}` trusts the system's CAs; certificates are read from the configured paths at start-up. */
export interface TemporalTls {
  serverRootCACertificate?: Buffer;
  /** mTLS: the client certificate and its private key (never log it). */
  clientCertPair?: { crt: Buffer; key: Buffer };
  serverNameOverride?: string;
}

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  dataDir: string;
  /** The files secrets were read from (`<NAME>_FILE`), by variable: where the operator CLI writes a rotated key. */
  secretFiles: Partial<Record<SecretVariable, string>>;
  /** Prometheus metrics: who may scrape, and where the worker serves them (with its health checks). */
  metrics: {
    /** Required as `Authorization: Bearer` on /metrics when set; otherwise only loopback clients are answered. */
    token: string;
    workerHost: string;
    /** 0: any free port (tests); -1: no server. */
    workerPort: number;
  };
  api: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    corsOrigins: string[];
    syncTurnTimeoutMs: number;
    /** Express's `trust proxy`: which hops may name the client in X-Forwarded-For. */
    trustProxy: TrustProxy;
    /** Where browsers reach GigaChat, without a trailing slash (`PUBLIC_URL`, else the API's own address). */
    publicUrl: string;
  };
  database: { url: string; poolSize: number };
  redis: { url: string; keyPrefix: string };
  temporal: {
    address: string;
    namespace: string;
    /** Absent = plain TCP (a local dev server); Temporal Cloud and secured clusters need it. */
    tls?: TemporalTls;
    /** Temporal Cloud API key (sent as a bearer token; TLS is then on). */
    apiKey?: string;
    chatTaskQueue: string;
    ingestTaskQueue: string;
    /** Batch replays (`replayConversations` and its children): a queue of their own, so they never starve chat. */
    replayTaskQueue: string;
    uiUrl: string;
    /** Browser origins of the Temporal UI: the only ones CORS lets call the codec routes. */
    uiOrigins: string[];
    workflowBundlePath: string;
    maxConcurrentActivities: number;
    /**
     * AES-256-GCM keys of the payload codec (`TEMPORAL_PAYLOAD_KEYS`): the first seals every payload sent to Temporal,
     * each opens the payloads it sealed. Never log them.
     */
    payloadKeys: { id: string; key: Uint8Array }[];
  };
  llm: {
    baseUrl?: string;
    apiKey: string;
    model: string;
    timeoutMs: number;
    contextTokens: number;
    maxOutputTokens: number;
    /**
     * Every provider, from `LLM_PROVIDERS`, or the one `LLM_BASE_URL` names (serving `LLM_MODEL`); empty = the
     * offline responder. Holds API keys: never log it.
     */
    providers: LlmProviderSpec[];
    /** Each provider's circuit breaker (state in Redis, shared by every worker). */
    breaker: { failureThreshold: number; cooldownMs: number };
  };
  /** Uploaded files: S3 when an endpoint is configured, else a local directory. */
  files: {
    s3?: { endPoint: string; accessKey: string; secretKey: string; bucket: string; region: string };
    localDir: string;
    maxBytes: number;
    /**
     * Master keys of the files' envelope encryption (`FILES_ENCRYPTION_KEYS`): the first wraps each new file's data
     * key, every one unwraps. Never log them.
     */
    encryptionKeys: { id: string; key: Uint8Array }[];
    chunkTokens: number;
    chunkOverlapTokens: number;
  };
  /** OpenAI-compatible `/embeddings`; absent = lexical retrieval only. */
  embeddings?: {
    baseUrl: string;
    apiKey: string;
    model: string;
    dimensions?: number;
    batchSize: number;
    timeoutMs: number;
  };
  retrieval: {
    topK: number;
    /** Bytes of users' vectors a worker keeps (least recently searched dropped first; one user always fits). */
    vectorCacheBytes: number;
  };
  webSearch: {
    /** Absent = the web search step is skipped and reported as such. */
    searxngUrl?: string;
    timeoutMs: number;
    resultLimit: number;
    cacheTtlSeconds: number;
    breaker: { failureThreshold: number; cooldownMs: number };
  };
  tools: {
    enabled: string[];
    requireApproval: string[];
    maxSteps: number;
    tokenBudget: number;
    approvalTimeoutMs: number;
    fetchUrlAllowedPrivateNetworks: string[];
    fetchUrlTimeoutMs: number;
    /** The operator's MCP servers (`MCP_SERVERS`), offered to every user's turns. */
    mcpServers: McpServerConfig[];
  };
  security: {
    rateLimits: {
      auth: { limit: number; windowSeconds: number };
      chat: { limit: number; windowSeconds: number };
      files: { limit: number; windowSeconds: number };
      search: { limit: number; windowSeconds: number };
    };
    lockout: {
      maxFailures: number;
      failureWindowSeconds: number;
      baseLockSeconds: number;
      maxLockSeconds: number;
      escalationMemorySeconds: number;
    };
  };
  auth: {
    /** `open`: anyone may register; `invite`: only with an invitation; `closed`: accounts come from the CLI only. */
    registration: Registration;
    tokenKeys: { id: string; key: Uint8Array }[];
    currentKeyId: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    issuer: string;
    audience: string;
    passwordPepper: string;
    bcryptCost: number;
    /** AES-256-GCM key (32 bytes) that encrypts TOTP secrets at rest. */
    totpEncryptionKey: Uint8Array;
  };
}
