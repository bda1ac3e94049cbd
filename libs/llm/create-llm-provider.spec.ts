import { createLlmProvider } from './create-llm-provider';
import { OfflineResponder } from './offline-responder';
import { OpenAiCompatibleProvider } from './openai-compatible.provider';

describe('createLlmProvider', () => {
  it('builds an OpenAI-compatible provider when a base URL is set', () => {
    const provider = createLlmProvider({
      baseUrl: 'http://127.0.0.1:4010/v1',
      apiKey: 'sk-x',
      model: 'llama3',
      timeoutMs: 30_000,
    });
    expect(provider).toBeInstanceOf(OpenAiCompatibleProvider);
    expect(provider).toMatchObject({ name: 'openai-compatible', defaultModel: 'llama3' });
  });

  it.each([undefined, '', '   '])('falls back to the offline responder when the base URL is %p', (baseUrl) => {
    const provider = createLlmProvider({ baseUrl, model: 'llama3', timeoutMs: 30_000 });
    expect(provider).toBeInstanceOf(OfflineResponder);
    expect(provider).toMatchObject({ name: 'offline', defaultModel: 'offline' });
  });

  it('refuses a base URL without a model', () => {
    expect(() => createLlmProvider({ baseUrl: 'http://127.0.0.1:4010/v1', timeoutMs: 30_000 })).toThrow(/model/);
  });
});
