import qrcode from 'qrcode-generator';
import { useEffect, useState } from 'preact/hooks';
import { call, getJson, query, sendJson } from '../api/client';
import { SCOPES, type ApiToken, type Conversation, type Page, type Scope, type Share } from '../api/types';
import { useAuth } from '../lib/auth-context';
import { formatTime } from '../lib/format';
import { usePage } from '../lib/page';
import { problemText } from '../lib/problem-text';
import { useLocation } from '../lib/router';
import { StatusLines } from '../components/status-lines';
import { McpServersSection } from './mcp-servers-section';

/** Two-step sign-in, API tokens, MCP servers and sharing. */
export default function SettingsPage() {
  const heading = usePage('Settings');
  const { user } = useAuth();
  return (
    <main id="main" class="page">
      <h1 ref={heading} tabIndex={-1}>
        Settings
      </h1>
      <p>
        Signed in as <strong>{user.displayName}</strong> ({user.email}), {user.role}.
      </p>
      <TwoFactor />
      <ApiTokens />
      <McpServersSection />
      <Sharing />
    </main>
  );
}

function qrDataUrl(text: string): string {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  return qr.createDataURL(5, 4);
}

function TwoFactor() {
  const { user, reloadUser } = useAuth();
  const [setup, setSetup] = useState<{ secret: string; otpauthUrl: string }>();
  const [otp, setOtp] = useState('');
  const [password, setPassword] = useState('');
  const [codes, setCodes] = useState<string[]>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const begin = async () => {
    setError(undefined);
    try {
      setSetup(await sendJson<{ secret: string; otpauthUrl: string }>('POST', '/auth/2fa/setup'));
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  const enable = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const result = await sendJson<{ recoveryCodes: string[] }>('POST', '/auth/2fa/enable', { otp: otp.trim() });
      setCodes(result.recoveryCodes);
      setSetup(undefined);
      setOtp('');
      setNotice('Two-step sign-in is on.');
      await reloadUser();
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  const disable = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      await sendJson('POST', '/auth/2fa/disable', { password, otp: otp.trim() });
      setPassword('');
      setOtp('');
      setCodes(undefined);
      setNotice('Two-step sign-in is off.');
      await reloadUser();
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  return (
    <section aria-labelledby="twofactor-title" class="card">
      <h2 id="twofactor-title">Two-step sign-in</h2>
      {codes && (
        <div class="recovery">
          <h3>Your recovery codes</h3>
          <p>Save these now: they are shown only once. Each one signs you in once if you lose your authenticator.</p>
          <ul class="codes" aria-label="Recovery codes">
            {codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button type="button" class="small" onClick={() => void navigator.clipboard.writeText(codes.join('\n'))}>
            Copy the codes
          </button>
        </div>
      )}
      {user.mfaEnabled ? (
        <form onSubmit={(e) => void disable(e)}>
          <p>
            <span class="ok">On.</span> Signing in asks for a code from your authenticator app.
          </p>
          <div class="field">
            <label for="disable-password">Password</label>
            <input
              id="disable-password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="disable-otp">Authentication code</label>
            <input
              id="disable-otp"
              autocomplete="one-time-code"
              required
              value={otp}
              onInput={(e) => setOtp(e.currentTarget.value)}
            />
          </div>
          <button type="submit" class="danger">
            Turn off two-step sign-in
          </button>
        </form>
      ) : setup ? (
        <form onSubmit={(e) => void enable(e)}>
          <p>Scan this code with an authenticator app, or type the key by hand, then enter the code it shows.</p>
          <img
            class="qr"
            src={qrDataUrl(setup.otpauthUrl)}
            alt="QR code for your authenticator app (the key is written below it)"
            width={200}
            height={200}
          />
          <p>
            Key: <code class="secret">{setup.secret}</code>
          </p>
          <div class="field">
            <label for="enable-otp">Code from the app</label>
            <input
              id="enable-otp"
              inputMode="numeric"
              autocomplete="one-time-code"
              pattern="[0-9]{6}"
              required
              value={otp}
              onInput={(e) => setOtp(e.currentTarget.value)}
            />
          </div>
          <button type="submit">Turn on</button>
        </form>
      ) : (
        <>
          <p>Off. With it on, signing in also asks for a code from an authenticator app.</p>
          <button type="button" onClick={() => void begin()}>
            Set up two-step sign-in
          </button>
        </>
      )}
      <StatusLines error={error} notice={notice} />
    </section>
  );
}

const SCOPE_TEXT: Record<Scope, string> = {
  'chat:read': 'read conversations',
  'chat:write': 'send messages',
  'files:read': 'read files',
  'files:write': 'upload and delete files',
  admin: 'administration',
};

function ApiTokens() {
  const { user } = useAuth();
  const [tokens, setTokens] = useState<ApiToken[]>();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['chat:read']);
  const [days, setDays] = useState('90');
  const [secret, setSecret] = useState<string>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const load = () =>
    getJson<{ items: ApiToken[] }>('/tokens').then(
      (r) => setTokens(r.items),
      (caught: unknown) => setError(problemText(caught)),
    );
  useEffect(() => void load(), []);

  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const created = await sendJson<ApiToken & { token: string }>('POST', '/tokens', {
        name: name.trim(),
        scopes,
        ...(days ? { expiresInDays: Number(days) } : {}),
      });
      setSecret(created.token);
      setName('');
      setNotice(`Token “${created.name}” created.`);
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  const revoke = async (token: ApiToken) => {
    try {
      await call('DELETE', `/tokens/${token.id}`);
      setNotice(`Token “${token.name}” revoked.`);
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  return (
    <section aria-labelledby="tokens-title" class="card">
      <h2 id="tokens-title">API tokens</h2>
      <p>For scripts and tools: a token acts as you, limited to the scopes you choose.</p>
      {secret && (
        <div class="secret-box">
          <p>
            <strong>Copy this token now: it will not be shown again.</strong>
          </p>
          <label for="new-token">New token</label>
          <input id="new-token" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
          <button type="button" class="small" onClick={() => void navigator.clipboard.writeText(secret)}>
            Copy token
          </button>
        </div>
      )}
      <form onSubmit={(e) => void create(e)}>
        <div class="field">
          <label for="token-name">Name</label>
          <input
            id="token-name"
            required
            maxLength={100}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.filter((s) => s !== 'admin' || user.role === 'admin').map((scope) => (
            <div class="row" key={scope}>
              <input
                id={`scope-${scope}`}
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(e) =>
                  setScopes(e.currentTarget.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))
                }
              />
              <label for={`scope-${scope}`}>
                <code>{scope}</code> – {SCOPE_TEXT[scope]}
              </label>
            </div>
          ))}
        </fieldset>
        <div class="field">
          <label for="token-days">Expires after (days; empty for never)</label>
          <input
            id="token-days"
            type="number"
            min={1}
            max={3650}
            value={days}
            onInput={(e) => setDays(e.currentTarget.value)}
          />
        </div>
        <button type="submit" disabled={scopes.length === 0}>
          Create token
        </button>
      </form>
      <StatusLines error={error} notice={notice} />
      <h3>Your tokens</h3>
      {tokens === undefined ? (
        <p class="muted">Loading…</p>
      ) : tokens.length === 0 ? (
        <p class="muted">No tokens.</p>
      ) : (
        <ul class="token-list">
          {tokens.map((t) => (
            <li key={t.id}>
              <strong>{t.name}</strong> <code>{t.prefix}…</code> · {t.scopes.join(', ')} ·{' '}
              {t.expiresAt ? `expires ${formatTime(t.expiresAt)}` : 'never expires'}
              {t.lastUsedAt ? ` · last used ${formatTime(t.lastUsedAt)}` : ''}{' '}
              <button type="button" class="small danger" onClick={() => void revoke(t)}>
                Revoke <span class="sr-only">{t.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Sharing() {
  const location = useLocation();
  const [conversations, setConversations] = useState<Conversation[]>();
  const [selected, setSelected] = useState(location.query.get('share') ?? '');
  const [shares, setShares] = useState<Share[]>();
  const [email, setEmail] = useState('');
  const [permission, setPermission] = useState<'read' | 'write'>('read');
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  useEffect(() => {
    getJson<Page<Conversation>>(`/conversations${query({ limit: 100 })}`).then(
      (page) => {
        const own = page.items.filter((c) => c.permission === 'owner');
        setConversations(own);
        if (!own.some((c) => c.id === selected)) setSelected(own[0]?.id ?? '');
      },
      (caught: unknown) => setError(problemText(caught)),
    );
  }, []);
  const loadShares = (id: string) =>
    id
      ? getJson<{ items: Share[] }>(`/conversations/${id}/shares`).then(
          (r) => setShares(r.items),
          (caught: unknown) => setError(problemText(caught)),
        )
      : setShares(undefined);
  useEffect(() => void loadShares(selected), [selected]);

  const share = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const created = await sendJson<Share>('POST', `/conversations/${selected}/shares`, {
        email: email.trim(),
        permission,
      });
      setEmail('');
      setNotice(
        `Shared with ${created.displayName} (${created.permission === 'read' ? 'read only' : 'read and write'}).`,
      );
      await loadShares(selected);
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  const unshare = async (s: Share) => {
    try {
      await call('DELETE', `/conversations/${selected}/shares/${s.userId}`);
      setNotice(`${s.displayName} no longer has access.`);
      await loadShares(selected);
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  return (
    <section aria-labelledby="sharing-title" class="card" id="sharing">
      <h2 id="sharing-title">Sharing</h2>
      {conversations === undefined ? (
        <p class="muted">Loading…</p>
      ) : conversations.length === 0 ? (
        <p class="muted">You have no conversations to share yet.</p>
      ) : (
        <>
          <div class="field">
            <label for="share-conversation">Conversation</label>
            <select id="share-conversation" value={selected} onChange={(e) => setSelected(e.currentTarget.value)}>
              {conversations.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title ?? 'New chat'}
                </option>
              ))}
            </select>
          </div>
          <form onSubmit={(e) => void share(e)}>
            <div class="field">
              <label for="share-email">Email of the person</label>
              <input
                id="share-email"
                type="email"
                required
                value={email}
                onInput={(e) => setEmail(e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label for="share-permission">They may</label>
              <select
                id="share-permission"
                value={permission}
                onChange={(e) => setPermission(e.currentTarget.value as 'read' | 'write')}
              >
                <option value="read">read</option>
                <option value="write">read and write</option>
              </select>
            </div>
            <button type="submit">Share</button>
          </form>
          <h3>Shared with</h3>
          {shares === undefined ? (
            <p class="muted">Loading…</p>
          ) : shares.length === 0 ? (
            <p class="muted">Nobody yet.</p>
          ) : (
            <ul>
              {shares.map((s) => (
                <li key={s.userId}>
                  {s.displayName} ({s.email}) · {s.permission === 'read' ? 'read only' : 'read and write'}{' '}
                  <button type="button" class="small danger" onClick={() => void unshare(s)}>
                    Stop sharing <span class="sr-only">with {s.displayName}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <StatusLines error={error} notice={notice} />
    </section>
  );
}
