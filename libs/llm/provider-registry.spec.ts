import type { LlmProviderSpec } from './llm-provider-spec';
import { ModelCatalog } from './provider-registry';

const spec = (name: string, models: string[], priority = 0, extra: Partial<LlmProviderSpec> = {}): LlmProviderSpec => ({
  name,
  baseUrl: `https://${name}.example/v1`,
  apiKey: `sk-${name}-secret`,
  models,
  priority,
  ...extra,
});

describe('ModelCatalog', () => {
  const providers = [
    spec('cheap', ['llama3', 'mistral'], 2),
    spec('openai', ['gpt-4o', 'gpt-4o-mini'], 1, { contextTokens: 128_000 }),
    spec('azure', ['gpt-4o'], 1),
  ];

  it('lists every model once under the provider tried first, the default first, without URLs or keys', () => {
    const catalog = new ModelCatalog(providers, 'gpt-4o-mini');

    expect(catalog.list()).toEqual([
      { id: 'gpt-4o-mini', provider: 'openai', contextTokens: 128_000, default: true },
      { id: 'gpt-4o', provider: 'openai', contextTokens: 128_000, default: false },
      { id: 'llama3', provider: 'cheap', default: false },
      { id: 'mistral', provider: 'cheap', default: false },
    ]);
    expect(JSON.stringify(catalog.list())).not.toMatch(/secret|https?:/);
  });

  it('defaults to the first model of the first provider when LLM_MODEL is not served', () => {
    expect(new ModelCatalog(providers, 'gpt-3.5').defaultModel).toBe('gpt-4o');
    expect(new ModelCatalog(providers).defaultModel).toBe('gpt-4o');
  });

  it('chains the providers serving a model by priority (ties in list order), then the others with their own model', () => {
    const catalog = new ModelCatalog(providers);

    expect(catalog.candidatesFor('gpt-4o').map((c) => `${c.provider.name}/${c.model}`)).toEqual([
      'openai/gpt-4o',
      'azure/gpt-4o',
      'cheap/llama3',
    ]);
    expect(catalog.candidatesFor('mistral').map((c) => `${c.provider.name}/${c.model}`)).toEqual([
      'cheap/mistral',
      'openai/gpt-4o',
      'azure/gpt-4o',
    ]);
    expect(catalog.candidatesFor('nope')).toEqual([]);
  });

  it('knows which models are served', () => {
    const catalog = new ModelCatalog(providers);
    expect(catalog.has('mistral')).toBe(true);
    expect(catalog.has('offline')).toBe(false);
    expect(catalog.has('gpt-4')).toBe(false);
  });

  it('lists only the offline responder when no provider is configured', () => {
    const catalog = new ModelCatalog([], 'gpt-4o-mini');
    expect(catalog.offline).toBe(true);
    expect(catalog.defaultModel).toBe('offline');
    expect(catalog.list()).toEqual([{ id: 'offline', provider: 'offline', default: true }]);
    expect(catalog.has('offline')).toBe(true);
    expect(catalog.has('gpt-4o-mini')).toBe(false);
  });
});
