import fc from 'fast-check';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { JsonSchemaChecker } from './json-schema-checker';
import {
  MAX_CONTENT_CHARS,
  MCP_TOOL_NAME,
  mcpToolName,
  toCallResult,
  toToolSpecs,
  type McpToolSpec,
} from './mcp-tools';

const objectSchema = (properties: Record<string, unknown> = {}, required: string[] = []) => ({
  type: 'object' as const,
  properties,
  required,
});

describe('mcpToolName', () => {
  it('namespaces and sanitizes', () => {
    expect(mcpToolName('files', 'read')).toBe('files__read');
    expect(mcpToolName('files', 'Weird-Name.v2')).toBe('files__weird_name_v2');
    expect(mcpToolName('files', 'x'.repeat(100))).toHaveLength(64);
  });

  it('always gives a name the model may call', () => {
    const server = fc.stringMatching(/^[a-z][a-z0-9_]{0,30}$/);
    fc.assert(fc.property(server, fc.string({ unit: 'grapheme' }), (s, t) => MCP_TOOL_NAME.test(mcpToolName(s, t))));
  });
});

describe('toToolSpecs', () => {
  const schemas = new JsonSchemaChecker();
  const tool = (name: string, inputSchema: Record<string, unknown> = objectSchema()): Tool =>
    ({ name, description: ` ${name} does things `, inputSchema }) as Tool;

  it('keeps the original name, the schema and the server policy (approval by default)', () => {
    const { tools, notes } = toToolSpecs({ name: 'files', transport: 'http' }, [tool('Read.File')], schemas);
    expect(notes).toEqual([]);
    expect(tools).toEqual([
      {
        name: 'files__read_file',
        server: 'files',
        tool: 'Read.File',
        description: 'Read.File does things',
        parameters: objectSchema(),
        requiresApproval: true,
        timeoutMs: 30_000,
      },
    ]);
    const operator = toToolSpecs(
      { name: 'files', transport: 'http', requiresApproval: false, timeoutMs: 5 },
      [tool('a')],
      schemas,
    );
    expect(operator.tools[0]).toMatchObject({ requiresApproval: false, timeoutMs: 5 });
  });

  it('skips clashing names, non-object schemas and schemas that do not compile, with notes', () => {
    const { tools, notes } = toToolSpecs(
      { name: 's', transport: 'http' },
      [
        tool('get-x'),
        tool('get.x'),
        tool('list', { type: 'array' }),
        tool('bad', { type: 'object', properties: { a: { type: 'nonsense' } } }),
      ],
      schemas,
    );
    expect(tools.map((t) => t.tool)).toEqual(['get-x']);
    expect(notes).toEqual([
      'MCP tool "get.x" of "s" skipped: its name becomes s__get_x, like "get-x"',
      'MCP tool "list" of "s" skipped: its input schema is not of type "object"',
      expect.stringMatching(/^MCP tool "bad" of "s" skipped: its input schema does not compile/),
    ]);
  });
});

describe('JsonSchemaChecker', () => {
  const checker = new JsonSchemaChecker();

  it('reports issues with their paths, for every draft', () => {
    const body = objectSchema({ path: { type: 'string' }, mode: { enum: ['r', 'w'] } }, ['path']);
    for (const $schema of [
      undefined,
      'http://json-schema.org/draft-07/schema#',
      'https://json-schema.org/draft/2019-09/schema',
      'https://json-schema.org/draft/2020-12/schema',
    ]) {
      const schema = $schema ? { $schema, ...body } : body;
      expect(checker.check(schema, { path: 'a' })).toEqual([]);
      expect(checker.check(schema, { path: 1, mode: 'x' })).toEqual([
        '/path must be string',
        '/mode must be equal to one of the allowed values ("r", "w")',
      ]);
      expect(checker.check(schema, {})).toEqual(["must have required property 'path'"]);
    }
  });

  it('ignores unknown formats and keywords rather than refusing the schema', () => {
    const schema = objectSchema({ url: { type: 'string', format: 'uri', 'x-ui': 1 } });
    expect(checker.check(schema, { url: 'not a uri' })).toEqual([]);
  });

  it('names unexpected properties', () => {
    expect(checker.check({ ...objectSchema(), additionalProperties: false }, { x: 1 })).toEqual([
      'must NOT have additional properties (x)',
    ]);
  });
});

describe('toCallResult', () => {
  const spec = { name: 'files__read' } as McpToolSpec;

  it('joins text and names the other parts', () => {
    const result = toCallResult(spec, {
      content: [
        { type: 'text', text: 'first' },
        { type: 'image', data: 'AA==', mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///a.txt', text: 'inside' } },
        { type: 'resource', resource: { uri: 'file:///b.bin', blob: 'AA==' } },
        { type: 'resource_link', uri: 'file:///c', name: 'c' },
      ],
    });
    expect(result).toEqual({
      content:
        'first\n[image image/png]\n[resource file:///a.txt]\ninside\n[resource file:///b.bin]\n[resource file:///c]',
      summary:
        'files__read: first [image image/png] [resource file:///a.txt] inside [resource file:///b.bin] [resource file:///c]',
      isError: false,
    });
  });

  it('keeps isError, falls back to structured content and caps long text', () => {
    expect(toCallResult(spec, { isError: true, content: [{ type: 'text', text: 'no such file' }] })).toEqual({
      content: 'no such file',
      summary: 'files__read failed: no such file',
      isError: true,
    });
    expect(toCallResult(spec, { content: [], structuredContent: { size: 3 } }).content).toBe('{"size":3}');
    const long = toCallResult(spec, { content: [{ type: 'text', text: 'x'.repeat(MAX_CONTENT_CHARS + 5) }] });
    expect(long.content).toMatch(
      new RegExp(`^x{${MAX_CONTENT_CHARS}}\\n\\(Result cut at 20000 of 20005 characters.\\)$`),
    );
    expect(long.summary.length).toBeLessThanOrEqual(200);
  });
});
