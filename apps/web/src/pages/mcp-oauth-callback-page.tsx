import { useEffect, useState } from 'preact/hooks';
import { sendJson } from '../api/client';
import type { McpServer } from '../api/types';
import { usePage } from '../lib/page';
import { problemText } from '../lib/problem-text';

type Outcome = { state: 'working' } | { state: 'done'; server: McpServer } | { state: 'failed'; message: string };

/**
 * Where an MCP server's authorization server sends the browser back after the user signed in there. The code and
 * state go to the API with this user's own credentials (only the user who started a sign-in can finish it), and leave
 * the address bar and the history at once.
 */
export default function McpOAuthCallbackPage() {
  const heading = usePage('Connecting an MCP server');
  const [params] = useState(() => {
    const read = new URLSearchParams(window.location.search);
    window.history.replaceState(null, '', window.location.pathname);
    return read;
  });
  const [outcome, setOutcome] = useState<Outcome>({ state: 'working' });

  useEffect(() => {
    const refused = params.get('error');
    const state = params.get('state');
    const code = params.get('code');
    if (refused) {
      const why = params.get('error_description') ?? refused;
      setOutcome({ state: 'failed', message: `The server's sign-in page did not let GigaChat in: ${why}` });
    } else if (!state || !code) {
      setOutcome({ state: 'failed', message: 'This page was opened without a sign-in to finish.' });
    } else {
      sendJson<McpServer>('POST', '/mcp-servers/oauth/complete', { state, code }).then(
        (server) => setOutcome({ state: 'done', server }),
        (error: unknown) => setOutcome({ state: 'failed', message: problemText(error) }),
      );
    }
  }, [params]);

  return (
    <main id="main" class="page" aria-busy={outcome.state === 'working'}>
      <h1 ref={heading} tabIndex={-1}>
        Connecting an MCP server
      </h1>
      {outcome.state === 'working' && <p class="muted">Finishing the sign-in…</p>}
      {outcome.state === 'done' && (
        <p class="notice" role="status">
          <strong>{outcome.server.name}</strong> is connected
          {outcome.server.oauth?.scope ? ` (${outcome.server.oauth.scope})` : ''}. Its tools are{' '}
          <code>{outcome.server.name}__…</code> in your conversations.
        </p>
      )}
      {outcome.state === 'failed' && (
        <p class="error" role="alert">
          {outcome.message}
        </p>
      )}
      <p>
        <a href="/settings">Your MCP servers</a> · <a href="/">Back to chat</a>
      </p>
    </main>
  );
}
