import OpenAI from 'openai';

/**
 * An `openai` SDK client for any OpenAI-compatible endpoint, configured only from what is passed: no retries (the
 * caller's retry policy decides), none of the SDK's OPENAI_* environment fallbacks, and no Authorization header when
 * there is no key (the SDK insists on a credential, so it gets a placeholder that is then dropped).
 */
export function createOpenAiClient(options: {
  baseUrl: string;
  apiKey: string | undefined;
  timeoutMs: number;
  logLevel: 'off' | 'warn';
}): OpenAI {
  return new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey ?? 'none',
    ...(options.apiKey === undefined ? { defaultHeaders: { Authorization: null } } : {}),
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    logLevel: options.logLevel,
    maxRetries: 0,
    timeout: options.timeoutMs,
  });
}
