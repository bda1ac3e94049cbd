import { mcpServerKey, parseMcpServers, validateMcpServer } from './mcp-server-config';

describe('parseMcpServers', () => {
  it('reads nothing from an empty variable', () => {
    expect(parseMcpServers('')).toEqual([]);
    expect(parseMcpServers('  \n')).toEqual([]);
    expect(parseMcpServers('[]')).toEqual([]);
  });

  it('reads http and stdio servers with their options', () => {
    const servers = parseMcpServers(
      JSON.stringify([
        {
          name: 'files',
          transport: 'http',
          url: 'https://mcp.example.com/mcp',
          headers: { Authorization: 'Bearer s3cret' },
          requiresApproval: false,
          timeoutMs: 10_000,
        },
        { name: 'git_local', transport: 'stdio', command: 'mcp-git', args: ['--repo', '/srv'], env: { A: '1' } },
      ]),
    );
    expect(servers).toEqual([
      {
        name: 'files',
        transport: 'http',
        url: 'https://mcp.example.com/mcp',
        headers: { Authorization: 'Bearer s3cret' },
        requiresApproval: false,
        timeoutMs: 10_000,
      },
      { name: 'git_local', transport: 'stdio', command: 'mcp-git', args: ['--repo', '/srv'], env: { A: '1' } },
    ]);
  });

  it.each([
    ['{', /MCP_SERVERS is not valid JSON/],
    ['{"name":"a"}', /MCP_SERVERS must be a JSON array/],
    ['[{"name":"Files","transport":"http","url":"http://x"}]', /MCP_SERVERS\[0\]\.name: must match/],
    ['[{"name":"a","transport":"ws","url":"http://x"}]', /MCP_SERVERS\[0\] \("a"\)\.transport:/],
    ['[{"name":"a","transport":"http"}]', /MCP_SERVERS\[0\] \("a"\)\.url: is required for transport "http"/],
    ['[{"name":"a","transport":"http","url":"ftp://x"}]', /\("a"\)\.url: must be an absolute http/],
    ['[{"name":"a","transport":"http","url":"/relative"}]', /\("a"\)\.url: must be an absolute http/],
    ['[{"name":"a","transport":"http","url":"http://x","command":"c"}]', /\("a"\)\.command: is for transport "stdio"/],
    ['[{"name":"a","transport":"stdio"}]', /\("a"\)\.command: is required for transport "stdio"/],
    ['[{"name":"a","transport":"stdio","command":"c","url":"http://x"}]', /\("a"\)\.url: is for transport "http"/],
    ['[{"name":"a","transport":"stdio","command":"c","publicOnly":true}]', /\("a"\)\.publicOnly: cannot be set/],
    ['[{"name":"a","transport":"http","url":"http://x","timeoutMs":0}]', /\("a"\)\.timeoutMs:/],
    ['[{"name":"a","transport":"http","url":"http://x","headers":{"k":1}}]', /\("a"\)\.headers\.k:/],
    ['[{"name":"a","transport":"http","url":"http://x","timeout":5}]', /\("a"\): Unrecognized key: "timeout"/],
    ['[null]', /MCP_SERVERS\[0\]: /],
  ])('refuses %s', (json, message) => {
    expect(() => parseMcpServers(json)).toThrow(message);
  });

  it('names every bad entry at once, and duplicate names', () => {
    const json = JSON.stringify([
      { name: 'a', transport: 'http', url: 'http://x' },
      { name: 'b', transport: 'http' },
      { name: 'a', transport: 'stdio', command: 'c' },
    ]);
    expect(() => parseMcpServers(json)).toThrow(
      'Invalid MCP_SERVERS: MCP_SERVERS[1] ("b").url: is required for transport "http"; ' +
        'MCP_SERVERS[2].name: "a" is used twice',
    );
  });

  it('never quotes a header value in its errors', () => {
    const json = JSON.stringify([
      { name: 'a', transport: 'http', url: 'nope', headers: { Authorization: 'top-secret' } },
    ]);
    expect(() => parseMcpServers(json)).toThrow(/url/);
    expect(() => parseMcpServers(json)).not.toThrow(/top-secret/);
  });

  it('validates one server for callers with their own label', () => {
    expect(validateMcpServer({ name: 'mine', transport: 'http', url: 'https://x' }, 'server')).toEqual({
      ok: true,
      server: { name: 'mine', transport: 'http', url: 'https://x' },
    });
    expect(validateMcpServer({ name: 'mine', transport: 'http' }, 'server')).toEqual({
      ok: false,
      problems: ['server ("mine").url: is required for transport "http"'],
    });
  });
});

describe('mcpServerKey', () => {
  it('ignores key order and undefined fields, and changes with any setting', () => {
    const a = mcpServerKey({ name: 'a', transport: 'http', url: 'http://x', headers: { k: '1', l: '2' } });
    const b = mcpServerKey({
      headers: { l: '2', k: '1' },
      url: 'http://x',
      transport: 'http',
      name: 'a',
      env: undefined,
    });
    expect(a).toBe(b);
    expect(mcpServerKey({ name: 'a', transport: 'http', url: 'http://x', headers: { k: '1', l: '3' } })).not.toBe(a);
  });
});
