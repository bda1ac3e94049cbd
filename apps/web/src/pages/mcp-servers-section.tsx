import { useEffect, useState } from 'preact/hooks';
import { call, getJson, sendJson } from '../api/client';
import type { McpServer } from '../api/types';
import { StatusLines } from '../components/status-lines';
import { formatTime } from '../lib/format';
import { problemText } from '../lib/problem-text';

/**
 * The user's own MCP servers: add one that sends a header or signs in with OAuth, sign in (the browser goes to the
 * server's sign-in page and comes back to /mcp-servers/oauth/callback), remove one.
 */
export function McpServersSection() {
  const [servers, setServers] = useState<McpServer[]>();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [auth, setAuth] = useState<'oauth' | 'header' | 'none'>('oauth');
  const [header, setHeader] = useState('');
  const [approval, setApproval] = useState(true);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const load = () =>
    getJson<{ items: McpServer[] }>('/mcp-servers').then(
      (r) => setServers(r.items),
      (caught: unknown) => setError(problemText(caught)),
    );
  useEffect(() => void load(), []);

  const signIn = async (server: Pick<McpServer, 'id'>) => {
    setError(undefined);
    try {
      const started = await sendJson<{ authorizationUrl: string }>('POST', `/mcp-servers/${server.id}/oauth`);
      window.location.assign(started.authorizationUrl);
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  const add = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const added = await sendJson<McpServer>('POST', '/mcp-servers', {
        name: name.trim(),
        url: url.trim(),
        requiresApproval: approval,
        ...(auth === 'oauth' ? { oauth: true } : {}),
        ...(auth === 'header' ? { headers: { Authorization: header } } : {}),
      });
      setName('');
      setUrl('');
      setHeader('');
      setNotice(`MCP server “${added.name}” added.`);
      await load();
      if (added.oauth) await signIn(added);
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  const remove = async (server: McpServer) => {
    try {
      await call('DELETE', `/mcp-servers/${server.id}`);
      setNotice(`MCP server “${server.name}” removed.`);
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  return (
    <section aria-labelledby="mcp-title" class="card">
      <h2 id="mcp-title">MCP servers</h2>
      <p>
        Your own tool servers: their tools are <code>name__tool</code> in the Tools menu of a chat.
      </p>
      <form onSubmit={(e) => void add(e)}>
        <div class="field">
          <label for="mcp-name">Prefix of its tools (lower-case letters, digits and _)</label>
          <input
            id="mcp-name"
            required
            maxLength={31}
            pattern="[a-z][a-z0-9_]*"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="mcp-url">Address (streamable HTTP)</label>
          <input
            id="mcp-url"
            type="url"
            required
            placeholder="https://mcp.example.com/mcp"
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
        </div>
        <fieldset>
          <legend>Credentials</legend>
          {(
            [
              ['oauth', 'Sign in with OAuth'],
              ['header', 'An Authorization header'],
              ['none', 'None'],
            ] as const
          ).map(([value, label]) => (
            <div class="row" key={value}>
              <input
                id={`mcp-auth-${value}`}
                type="radio"
                name="mcp-auth"
                checked={auth === value}
                onChange={() => setAuth(value)}
              />
              <label for={`mcp-auth-${value}`}>{label}</label>
            </div>
          ))}
        </fieldset>
        {auth === 'header' && (
          <div class="field">
            <label for="mcp-header">Authorization header (stored encrypted, never shown again)</label>
            <input
              id="mcp-header"
              required
              autoComplete="off"
              placeholder="Bearer …"
              value={header}
              onInput={(e) => setHeader(e.currentTarget.value)}
            />
          </div>
        )}
        <div class="row">
          <input
            id="mcp-approval"
            type="checkbox"
            checked={approval}
            onChange={(e) => setApproval(e.currentTarget.checked)}
          />
          <label for="mcp-approval">Ask me before each call</label>
        </div>
        <button type="submit">Add server</button>
      </form>
      <StatusLines error={error} notice={notice} />
      <h3>Your servers</h3>
      {servers === undefined ? (
        <p class="muted">Loading…</p>
      ) : servers.length === 0 ? (
        <p class="muted">No MCP servers.</p>
      ) : (
        <ul class="token-list">
          {servers.map((s) => (
            <li key={s.id}>
              <strong>{s.name}</strong> <code>{s.url}</code> · {describeCredentials(s)}
              {s.requiresApproval ? ' · asks before each call' : ''}{' '}
              {s.oauth && (
                <button type="button" class="small" onClick={() => void signIn(s)}>
                  {s.oauth.signedIn ? 'Sign in again' : 'Sign in'} <span class="sr-only">to {s.name}</span>
                </button>
              )}{' '}
              <button type="button" class="small danger" onClick={() => void remove(s)}>
                Remove <span class="sr-only">{s.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function describeCredentials(server: McpServer): string {
  if (server.oauth) {
    if (!server.oauth.signedIn) return 'OAuth: not signed in yet';
    const when = server.oauth.signedInAt ? ` ${formatTime(server.oauth.signedInAt)}` : '';
    return `OAuth: signed in${when}${server.oauth.scope ? ` (${server.oauth.scope})` : ''}`;
  }
  return server.headerNames.length > 0 ? `sends ${server.headerNames.join(', ')}` : 'no credentials';
}
