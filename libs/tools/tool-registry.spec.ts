import { z } from 'zod';
import { createCalculatorTool } from './builtin/calculator';
import type { ToolDefinition } from './tool-definition';
import { ToolRegistry } from './tool-registry';

function fakeTool(name: string, overrides: Partial<ToolDefinition> = {}): ToolDefinition {
  return {
    name,
    description: `The ${name} tool`,
    parameters: z.object({ query: z.string().min(1).describe('What to look for'), limit: z.number().int().optional() }),
    timeoutMs: 1000,
    maxAttempts: 2,
    requiresApproval: false,
    run: () => Promise.resolve({ content: '', summary: '' }),
    ...overrides,
  };
}

describe('ToolRegistry', () => {
  const registry = new ToolRegistry([createCalculatorTool(), fakeTool('lookup')]);

  it('lists and finds its tools by name', () => {
    expect(registry.names()).toEqual(['calculator', 'lookup']);
    expect(registry.get('lookup')?.description).toBe('The lookup tool');
    expect(registry.get('nope')).toBeUndefined();
  });

  it("offers tools in OpenAI's format, with a JSON schema derived from zod and no $schema key", () => {
    expect(registry.openAiTools(['lookup', 'unknown'])).toEqual([
      {
        type: 'function',
        function: {
          name: 'lookup',
          description: 'The lookup tool',
          parameters: {
            type: 'object',
            properties: {
              query: { type: 'string', minLength: 1, description: 'What to look for' },
              limit: { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
            },
            required: ['query'],
          },
        },
      },
    ]);
    const [calculator] = registry.openAiTools(['calculator']);
    expect(calculator?.function.parameters).toMatchObject({
      type: 'object',
      properties: { expression: { type: 'string', maxLength: 500 } },
      required: ['expression'],
    });
  });

  it('parses valid arguments into the typed value', () => {
    expect(registry.parseArguments('lookup', '{"query":"tides","limit":3}')).toEqual({
      ok: true,
      args: { query: 'tides', limit: 3 },
    });
  });

  it('explains bad arguments in a message meant for the model', () => {
    expect(registry.parseArguments('calculator', '{"expression":')).toEqual({
      ok: false,
      error: 'Invalid arguments for calculator: not valid JSON',
    });
    expect(registry.parseArguments('calculator', '{"expression": 12}')).toEqual({
      ok: false,
      error: 'Invalid arguments for calculator: expression: expected string, received number',
    });
    expect(registry.parseArguments('calculator', '')).toEqual({
      ok: false,
      error: 'Invalid arguments for calculator: expression: expected string, received undefined',
    });
    expect(registry.parseArguments('lookup', '[1]')).toEqual({
      ok: false,
      error: 'Invalid arguments for lookup: expected object, received array',
    });
    expect(registry.parseArguments('lookup', '{"query":"","limit":1.5}')).toEqual({
      ok: false,
      error:
        'Invalid arguments for lookup: query: Too small: expected string to have >=1 characters; limit: expected int, received number',
    });
  });

  it('answers an unknown tool with an error rather than throwing', () => {
    expect(registry.parseArguments('x', '{}')).toEqual({ ok: false, error: 'Unknown tool: x' });
  });

  it('refuses duplicate and invalid names at construction', () => {
    expect(() => new ToolRegistry([fakeTool('lookup'), fakeTool('lookup')])).toThrow('Duplicate tool name "lookup"');
    for (const name of ['Lookup', '1st', 'web-search', '', 'a'.repeat(65)]) {
      expect(() => new ToolRegistry([fakeTool(name)])).toThrow(`Invalid tool name "${name}"`);
    }
    expect(new ToolRegistry([fakeTool('a'.repeat(64))]).names()).toHaveLength(1);
  });

  it('refuses parameters that are not an object schema', () => {
    expect(() => new ToolRegistry([fakeTool('lookup', { parameters: z.string() })])).toThrow(
      'Tool "lookup" parameters must be an object schema',
    );
  });

  it('gives each known tool its policy, and lets the operator force approval', () => {
    const guarded = new ToolRegistry([fakeTool('lookup'), fakeTool('delete_all', { requiresApproval: true })], {
      requireApproval: ['lookup'],
    });
    expect(guarded.policies(['lookup', 'delete_all', 'ghost'])).toEqual([
      { name: 'lookup', timeoutMs: 1000, maxAttempts: 2, requiresApproval: true },
      { name: 'delete_all', timeoutMs: 1000, maxAttempts: 2, requiresApproval: true },
    ]);
    expect(registry.policies(['lookup'])).toEqual([
      { name: 'lookup', timeoutMs: 1000, maxAttempts: 2, requiresApproval: false },
    ]);
    expect(() => new ToolRegistry([fakeTool('lookup')], { requireApproval: ['lokup'] })).toThrow(
      'requireApproval names unknown tools: lokup',
    );
  });
});
