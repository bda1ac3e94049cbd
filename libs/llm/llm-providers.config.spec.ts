import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/load-config';
import { createLlmProvider } from './create-llm-provider';
import { FallbackLlmProvider } from './fallback.provider';
import { OfflineResponder } from './offline-responder';

/** How `LLM_PROVIDERS` and the one-provider shorthand (`LLM_BASE_URL`, `LLM_MODEL`, `LLM_API_KEY`) are read. */
describe('LLM provider configuration', () => {
  const base = {
    PASETO_KEYS: `k1:k4.local.${Buffer.alloc(32, 1).toString('base64url')}`,
    PASSWORD_PEPPER: 'a-pepper-of-24-characters',
    TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'),
    GIGACHAT_DATA_DIR: mkdtempSync(join(tmpdir(), 'gc-llm-')),
  };
  const providers = JSON.stringify([
    { name: 'backup', baseUrl: 'http://127.0.0.1:1/v1', models: ['small'], priority: 2 },
    { name: 'primary', baseUrl: 'https://llm.example/v1', apiKey: 'sk-primary-secret', models: ['big', 'small'] },
  ]);

  it('has no provider by default: the offline responder answers', () => {
    const config = loadConfig(base);
    expect(config.llm.providers).toEqual([]);
    expect(config.llm.breaker).toEqual({ failureThreshold: 5, cooldownMs: 30_000 });
    expect(createLlmProvider({ ...config.llm, providers: config.llm.providers })).toBeInstanceOf(OfflineResponder);
  });

  it('turns LLM_BASE_URL into a single provider serving LLM_MODEL', () => {
    const config = loadConfig({
      ...base,
      LLM_BASE_URL: 'http://127.0.0.1:4010/v1',
      LLM_MODEL: 'llama3',
      LLM_API_KEY: 'k',
    });
    expect(config.llm.providers).toEqual([
      { name: 'openai-compatible', baseUrl: 'http://127.0.0.1:4010/v1', apiKey: 'k', models: ['llama3'], priority: 0 },
    ]);
  });

  it('reads LLM_PROVIDERS and builds a fallback chain whose default is LLM_MODEL when served', () => {
    const config = loadConfig({
      ...base,
      LLM_PROVIDERS: providers,
      LLM_MODEL: 'small',
      LLM_BREAKER_FAILURES: '2',
      LLM_BREAKER_COOLDOWN_SECONDS: '7',
    });
    expect(config.llm.providers.map((p) => p.name)).toEqual(['backup', 'primary']);
    expect(config.llm.breaker).toEqual({ failureThreshold: 2, cooldownMs: 7000 });

    const llm = createLlmProvider({ providers: config.llm.providers, model: config.llm.model, timeoutMs: 1000 });
    expect(llm).toBeInstanceOf(FallbackLlmProvider);
    expect(llm.defaultModel).toBe('small');
    // Not served: the first model of the first provider by priority.
    expect(
      createLlmProvider({ providers: config.llm.providers, model: 'gpt-4o-mini', timeoutMs: 1000 }).defaultModel,
    ).toBe('big');
    // The keys stay out of anything printed about the provider.
    expect(JSON.stringify(llm)).not.toContain('sk-primary-secret');
  });

  it('refuses LLM_PROVIDERS together with LLM_BASE_URL, and names bad entries without their keys', () => {
    const problemsOf = (env: Record<string, string>): string[] => {
      try {
        loadConfig({ ...base, ...env });
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
      return [];
    };
    expect(problemsOf({ LLM_PROVIDERS: providers, LLM_BASE_URL: 'http://127.0.0.1:4010/v1' })).toEqual([
      'LLM_PROVIDERS: set either LLM_PROVIDERS or LLM_BASE_URL, not both',
    ]);
    const bad = problemsOf({
      LLM_PROVIDERS: JSON.stringify([{ name: 'x', baseUrl: 'nope', apiKey: 'sk-leaky', models: ['m'] }]),
    });
    expect(bad).toEqual(['LLM_PROVIDERS: entry 1 ("x") baseUrl: must be an http(s) URL']);
  });
});
