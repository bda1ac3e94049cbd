import type { Logger } from '../logging/logger';
import { FallbackLlmProvider, type FallbackLlmProviderOptions, type ProviderBreaker } from './fallback.provider';
import type { LlmProvider } from './llm-provider';
import type { LlmProviderSpec } from './llm-provider-spec';
import { OfflineResponder } from './offline-responder';
import { OpenAiCompatibleProvider } from './openai-compatible.provider';
import { ModelCatalog } from './provider-registry';

export interface LlmProviderConfig {
  /** An OpenAI-compatible API, e.g. `https://api.openai.com/v1`; blank or absent means no model: offline replies. */
  baseUrl?: string;
  apiKey?: string;
  /** The default model; required with `baseUrl`. With `providers`, the default when one of them serves it. */
  model?: string;
  timeoutMs: number;
  /** Provider name reported with each reply. Default `openai-compatible`. */
  name?: string;
  /**
   * Several providers with fallback (`config.llm.providers`); when non-empty, `baseUrl`, `apiKey` and `name` are
   * not used and the result is a {@link FallbackLlmProvider}.
   */
  providers?: readonly LlmProviderSpec[];
  /** Each provider's circuit breaker (with `providers`). */
  breakerFor?: (providerName: string) => ProviderBreaker | undefined;
  logger?: Pick<Logger, 'warn'>;
  /** Told each time a call falls back from one provider to the next (with `providers`). */
  onFallback?: FallbackLlmProviderOptions['onFallback'];
}

/**
 * The provider the configuration asks for: a fallback chain over `providers` when some are listed, else an
 * OpenAI-compatible endpoint when a base URL is set, else the offline responder.
 */
export function createLlmProvider(cfg: LlmProviderConfig): LlmProvider {
  if (cfg.providers && cfg.providers.length > 0) {
    const catalog = new ModelCatalog(cfg.providers, cfg.model?.trim() || undefined);
    const clients = new Map<string, LlmProvider>(
      cfg.providers.map((spec) => [
        spec.name,
        new OpenAiCompatibleProvider({
          name: spec.name,
          baseUrl: spec.baseUrl,
          apiKey: spec.apiKey,
          model: spec.models[0]!,
          timeoutMs: cfg.timeoutMs,
        }),
      ]),
    );
    return new FallbackLlmProvider({
      catalog,
      providers: clients,
      breakerFor: cfg.breakerFor,
      logger: cfg.logger,
      onFallback: cfg.onFallback,
    });
  }
  const baseUrl = cfg.baseUrl?.trim();
  if (!baseUrl) return new OfflineResponder();
  const model = cfg.model?.trim();
  if (!model) throw new Error('An LLM model name is required when an LLM base URL is configured');
  return new OpenAiCompatibleProvider({
    name: cfg.name ?? 'openai-compatible',
    baseUrl,
    apiKey: cfg.apiKey?.trim() || undefined,
    model,
    timeoutMs: cfg.timeoutMs,
  });
}
