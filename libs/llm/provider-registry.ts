import type { LlmProviderSpec } from './llm-provider-spec';

/** A model as clients see it: who serves it first, never where or with which key. */
export interface CatalogModel {
  id: string;
  /** The provider tried first for this model. */
  provider: string;
  contextTokens?: number;
  /** The model used when neither the message nor the conversation names one. */
  default: boolean;
}

/** A provider as the catalog keeps it: without its API key, so that printing the catalog cannot leak one. */
export type CatalogProvider = Omit<LlmProviderSpec, 'apiKey'>;

/** One step of a fallback chain: ask `provider` for `model`. */
export interface ModelCandidate {
  provider: CatalogProvider;
  model: string;
}

/** The name under which the offline responder is listed when no provider is configured. */
export const OFFLINE_MODEL = 'offline';

/**
 * Which models the configured providers serve, and in which order to ask them. Shared by the API (to list models and
 * refuse unknown ones before a turn starts) and the worker (to build the fallback chain), so both agree.
 */
export class ModelCatalog {
  /** Providers by priority (smaller first); ties keep the configured order. */
  readonly providers: readonly CatalogProvider[];
  readonly defaultModel: string;

  /** `preferredDefault` (LLM_MODEL) is the default when some provider serves it. */
  constructor(providers: readonly LlmProviderSpec[], preferredDefault?: string) {
    this.providers = providers
      .map((provider, index) => ({ provider, index }))
      .sort((a, b) => a.provider.priority - b.provider.priority || a.index - b.index)
      .map(({ provider: { apiKey: _key, ...provider } }) => provider);
    const first = this.providers[0]?.models[0];
    if (first === undefined) {
      this.defaultModel = OFFLINE_MODEL;
    } else {
      this.defaultModel =
        preferredDefault !== undefined && this.providers.some((p) => p.models.includes(preferredDefault))
          ? preferredDefault
          : first;
    }
  }

  /** True when no provider is configured: the offline responder answers everything. */
  get offline(): boolean {
    return this.providers.length === 0;
  }

  /** Every model once, under the provider tried first for it; the default model first. */
  list(): CatalogModel[] {
    if (this.offline) return [{ id: OFFLINE_MODEL, provider: OFFLINE_MODEL, default: true }];
    const seen = new Set<string>();
    const models: CatalogModel[] = [];
    for (const provider of this.providers) {
      for (const id of provider.models) {
        if (seen.has(id)) continue;
        seen.add(id);
        models.push({
          id,
          provider: provider.name,
          ...(provider.contextTokens !== undefined ? { contextTokens: provider.contextTokens } : {}),
          default: id === this.defaultModel,
        });
      }
    }
    return models.sort((a, b) => Number(b.default) - Number(a.default));
  }

  has(model: string): boolean {
    return this.offline ? model === OFFLINE_MODEL : this.providers.some((p) => p.models.includes(model));
  }

  /**
   * The fallback chain for a model: first every provider serving it, by priority; then, degraded, every other
   * provider with its own first model. Empty for a model nobody serves.
   */
  candidatesFor(model: string): ModelCandidate[] {
    const serving = this.providers.filter((p) => p.models.includes(model));
    if (serving.length === 0) return [];
    const others = this.providers.filter((p) => !p.models.includes(model));
    return [
      ...serving.map((provider) => ({ provider, model })),
      ...others.map((provider) => ({ provider, model: provider.models[0] ?? model })),
    ];
  }
}
