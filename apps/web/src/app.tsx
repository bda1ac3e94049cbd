import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { getJson, sendJson } from './api/client';
import { endSession, hasSession, onSessionChange, validAccessToken } from './api/session';
import type { User } from './api/types';
import { AuthContext, type AuthState } from './lib/auth-context';
import { lazyPage } from './lib/lazy';
import { navigate, useLocation } from './lib/router';
import { ChatPage } from './pages/chat-page';
import { SignInPage } from './pages/sign-in-page';

const FilesPage = lazyPage(() => import('./pages/files-page'));
const SettingsPage = lazyPage(() => import('./pages/settings-page'));
const AdminPage = lazyPage(() => import('./pages/admin-page'));
const McpOAuthCallbackPage = lazyPage(() => import('./pages/mcp-oauth-callback-page'));

const SIGNED_OUT_PATHS = new Set(['/login', '/register']);

export function App() {
  const location = useLocation();
  const [user, setUser] = useState<User | null | undefined>(undefined);

  const reloadUser = useCallback(async () => {
    try {
      setUser(await getJson<User>('/auth/me'));
    } catch {
      setUser(null);
    }
  }, []);

  useEffect(() => {
    if (!hasSession()) setUser(null);
    else void validAccessToken().then(() => reloadUser());
    return onSessionChange((signedIn) => {
      if (!signedIn) setUser(null);
    });
  }, [reloadUser]);

  const signOut = useCallback(async () => {
    await sendJson('POST', '/auth/logout').catch(() => undefined);
    endSession();
    sessionStorage.clear();
    navigate('/login');
  }, []);

  const auth = useMemo<AuthState | undefined>(
    () => (user ? { user, reloadUser, signOut } : undefined),
    [user, reloadUser, signOut],
  );

  useEffect(() => {
    if (user === null && !SIGNED_OUT_PATHS.has(location.path)) {
      // The query goes along: an MCP sign-in's callback carries its code and state there.
      const where = location.path + (location.query.size > 0 ? `?${location.query.toString()}` : '');
      const back = location.path === '/' ? '' : `?next=${encodeURIComponent(where)}`;
      navigate(`/login${back}`, { replace: true });
    } else if (user && SIGNED_OUT_PATHS.has(location.path)) {
      const next = location.query.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    }
  }, [user, location]);

  if (user === undefined)
    return (
      <main id="main" class="page center" aria-busy="true">
        <p class="muted">Loading…</p>
      </main>
    );
  if (!auth) return <SignInPage mode={location.path === '/register' ? 'register' : 'login'} onSignedIn={reloadUser} />;

  const path = location.path;
  const section = path.startsWith('/files')
    ? 'files'
    : path === '/mcp-servers/oauth/callback'
      ? 'mcp-oauth'
      : path.startsWith('/settings')
        ? 'settings'
        : path.startsWith('/admin')
          ? 'admin'
          : 'chat';
  return (
    <AuthContext.Provider value={auth}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/">
          GigaChat
        </a>
        <nav aria-label="Main" class="mainnav">
          <a href="/" aria-current={section === 'chat' ? 'page' : undefined}>
            Chat
          </a>
          <a href="/files" aria-current={section === 'files' ? 'page' : undefined}>
            Files
          </a>
          <a href="/settings" aria-current={section === 'settings' ? 'page' : undefined}>
            Settings
          </a>
          {auth.user.role === 'admin' && (
            <a href="/admin" aria-current={section === 'admin' ? 'page' : undefined}>
              Admin
            </a>
          )}
        </nav>
        <span class="who" title={auth.user.email}>
          {auth.user.displayName}
        </span>
        <button type="button" class="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {section === 'files' ? (
        <FilesPage />
      ) : section === 'mcp-oauth' ? (
        <McpOAuthCallbackPage />
      ) : section === 'settings' ? (
        <SettingsPage />
      ) : section === 'admin' ? (
        auth.user.role === 'admin' ? (
          <AdminPage />
        ) : (
          <main id="main" class="page">
            <h1>Administration</h1>
            <p>Only administrators can see this page.</p>
          </main>
        )
      ) : (
        <ChatPage conversationId={/^\/c\/([0-9a-f-]{36})$/.exec(path)?.[1]} />
      )}
    </AuthContext.Provider>
  );
}
