import type { LlmProvider } from './llm-provider';
import { OfflineResponder } from './offline-responder';
import { OpenAiCompatibleProvider } from './openai-compatible.provider';

export interface LlmProviderConfig {
  /** An OpenAI-compatible API, e.g. `https://api.openai.com/v1`; blank or absent means no model: offline replies. */
  baseUrl?: string;
  apiKey?: string;
  /** The default model; required with `baseUrl`. */
  model?: string;
  timeoutMs: number;
  /** Provider name reported with each reply. Default `openai-compatible`. */
  name?: string;
}

/** The provider the configuration asks for: an OpenAI-compatible endpoint when one is set, else the offline responder. */
export function createLlmProvider(cfg: LlmProviderConfig): LlmProvider {
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
