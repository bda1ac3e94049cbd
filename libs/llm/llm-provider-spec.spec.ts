import { parseLlmProviders } from './llm-provider-spec';

describe('parseLlmProviders', () => {
  it('reads a list of providers with defaults', () => {
    const { providers, problems } = parseLlmProviders(
      JSON.stringify([
        { name: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: ' sk-one ', models: ['gpt-4o'], priority: 1 },
        { name: 'local', baseUrl: 'http://127.0.0.1:11434/v1', models: ['llama3'], contextTokens: 8192 },
      ]),
    );
    expect(problems).toEqual([]);
    expect(providers).toEqual([
      { name: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-one', models: ['gpt-4o'], priority: 1 },
      { name: 'local', baseUrl: 'http://127.0.0.1:11434/v1', models: ['llama3'], priority: 0, contextTokens: 8192 },
    ]);
  });

  it('names the entry and the field of every problem, never a key', () => {
    const secret = 'sk-very-secret-key';
    const { providers, problems } = parseLlmProviders(
      JSON.stringify([
        { name: 'ok', baseUrl: 'https://a.example/v1', models: ['m'] },
        { name: 'nourl', baseUrl: 'not a url', apiKey: secret, models: ['m'] },
        { name: 'ok', baseUrl: 'ftp://b.example', apiKey: secret, models: [] },
        { baseUrl: 'https://c.example/v1', apiKey: secret, models: ['bad model'], priority: 1.5, apikey: secret },
      ]),
    );
    expect(providers).toEqual([]);
    expect(problems).toEqual([
      'LLM_PROVIDERS: entry 2 ("nourl") baseUrl: must be an http(s) URL',
      'LLM_PROVIDERS: entry 3 ("ok") baseUrl: must be an http(s) URL',
      'LLM_PROVIDERS: entry 3 ("ok") models: must name at least one model',
      expect.stringMatching(/^LLM_PROVIDERS: entry 4 name: /),
      'LLM_PROVIDERS: entry 4 models.0: must be model names (letters, digits and ._:/@-)',
      expect.stringMatching(/^LLM_PROVIDERS: entry 4 priority: /),
      'LLM_PROVIDERS: entry 4: Unrecognized key: "apikey"',
    ]);
    expect(problems.join('\n')).not.toContain(secret);
  });

  it('refuses duplicate names and models', () => {
    const { problems } = parseLlmProviders(
      JSON.stringify([
        { name: 'a', baseUrl: 'https://a.example/v1', models: ['m', 'm'] },
        { name: 'a', baseUrl: 'https://b.example/v1', models: ['n'] },
      ]),
    );
    expect(problems).toEqual([
      'LLM_PROVIDERS: entry 1 ("a") models: lists a model twice',
      'LLM_PROVIDERS: entry 2 ("a"): the name is used twice',
    ]);
  });

  it.each([
    ['[{"name": "a", "apiKey": "sk-secret"', 'LLM_PROVIDERS: is not valid JSON'],
    ['{"name": "a"}', 'LLM_PROVIDERS: must be a JSON array of providers'],
    ['[]', 'LLM_PROVIDERS: must list at least one provider'],
  ])('refuses %s without quoting it', (text, problem) => {
    expect(parseLlmProviders(text)).toEqual({ providers: [], problems: [problem] });
  });
});
