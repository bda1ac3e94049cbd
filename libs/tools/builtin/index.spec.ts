import { ToolRegistry } from '../tool-registry';
import { createBuiltinTools } from './index';

describe('createBuiltinTools', () => {
  it('leaves out the tools whose services are missing', () => {
    expect(createBuiltinTools().map((tool) => tool.name)).toEqual(['calculator', 'current_time']);
  });

  it('offers all five with the default policies, none requiring approval, the pure ones local', () => {
    const search = () => Promise.resolve([]);
    const registry = new ToolRegistry(createBuiltinTools({ webSearch: search, searchFiles: search, fetchUrl: {} }));
    expect(registry.policies(registry.names())).toEqual([
      { name: 'calculator', timeoutMs: 2000, maxAttempts: 1, requiresApproval: false, local: true },
      { name: 'current_time', timeoutMs: 2000, maxAttempts: 1, requiresApproval: false, local: true },
      { name: 'web_search', timeoutMs: 15000, maxAttempts: 3, requiresApproval: false },
      { name: 'search_my_files', timeoutMs: 15000, maxAttempts: 3, requiresApproval: false },
      { name: 'fetch_url', timeoutMs: 15000, maxAttempts: 3, requiresApproval: false },
    ]);
    expect(registry.openAiTools(registry.names()).map((tool) => tool.function.parameters['type'])).toEqual(
      Array(5).fill('object'),
    );
  });

  it('hands the injected clock to current_time', async () => {
    const [, currentTime] = createBuiltinTools({ now: () => new Date('2030-01-01T00:00:00Z') });
    const output = await currentTime!.run({}, { userId: 'u', turnId: 't', signal: new AbortController().signal });
    expect(output.content).toContain('ISO 8601 (UTC): 2030-01-01T00:00:00.000Z');
  });
});
