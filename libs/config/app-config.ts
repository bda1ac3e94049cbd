import type { LlmProviderSpec } from '../llm/llm-provider-spec';

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  dataDir: string;
  api: { host: string; port: number; bodyLimitBytes: number; corsOrigins: string[]; syncTurnTimeoutMs: number };
  database: { url: string; poolSize: number };
  redis: { url: string; keyPrefix: string };
  temporal: {
    address: string;
    namespace: string;
    chatTaskQueue: string;
    ingestTaskQueue: string;
    uiUrl: string;
    workflowBundlePath: string;
    maxConcurrentActivities: number;
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
  retrieval: { topK: number };
  webSearch: {
    /** Absent = the web search step is skipped and reported as such. */
    searxngUrl?: string;
    timeoutMs: number;
    resultLimit: number;
    cacheTtlSeconds: number;
    breaker: { failureThreshold: number; cooldownMs: number };
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
