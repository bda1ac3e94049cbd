import { useEffect, useState } from 'preact/hooks';
import { call, getJson, query, sendJson } from '../api/client';
import type { AdminUser, AuditEntry, Page } from '../api/types';
import { useAuth } from '../lib/auth-context';
import { formatTime } from '../lib/format';
import { usePage } from '../lib/page';
import { problemText } from '../lib/problem-text';
import { lazyPage } from '../lib/lazy';
import { useLocation } from '../lib/router';
import { StatusLines } from '../components/status-lines';

const Replays = lazyPage(() => import('./admin-replays'));

const TITLES = { users: 'users', audit: 'audit log', replays: 'replays' } as const;

/** Administration: users (role, disable, unlock), the audit log and batch replays. */
export default function AdminPage() {
  const location = useLocation();
  const tab = location.path.startsWith('/admin/audit')
    ? 'audit'
    : location.path.startsWith('/admin/replays')
      ? 'replays'
      : 'users';
  const heading = usePage(tab === 'audit' ? 'Audit log' : tab === 'replays' ? 'Replays' : 'Users');
  return (
    <main id="main" class="page wide">
      <h1 ref={heading} tabIndex={-1}>
        Administration: {TITLES[tab]}
      </h1>
      <nav aria-label="Administration" class="subnav">
        <a href="/admin/users" aria-current={tab === 'users' ? 'page' : undefined}>
          Users
        </a>
        <a href="/admin/audit" aria-current={tab === 'audit' ? 'page' : undefined}>
          Audit log
        </a>
        <a href="/admin/replays" aria-current={tab === 'replays' ? 'page' : undefined}>
          Replays
        </a>
        <TemporalUiButton />
      </nav>
      {tab === 'audit' ? (
        <Audit initialActor={location.query.get('actor') ?? ''} />
      ) : tab === 'replays' ? (
        <Replays path={location.path} />
      ) : (
        <Users />
      )}
    </main>
  );
}

/**
 * Opens the Temporal UI with decoding: the API sets the codec cookie (this session's access token, for the codec
 * routes only), which the UI sends when its codec setting "Include cross-origin credentials" is on.
 */
function TemporalUiButton() {
  const [state, setState] = useState<{ note?: string; error?: string }>({});
  const open = async () => {
    // Opened before the request, while the click still counts as the user's: popup blockers allow it then.
    const tab = window.open('about:blank', '_blank');
    try {
      const session = await sendJson<{ expiresAt: string; temporalUiUrl: string }>('POST', '/codec/session');
      if (tab) {
        tab.opener = null;
        tab.location.href = session.temporalUiUrl;
      }
      setState({
        note:
          `Payloads decode in the Temporal UI until ${formatTime(session.expiresAt)} (open this again after that). ` +
          'In its Codec Server settings, "Include cross-origin credentials" must be on.',
      });
    } catch (caught) {
      tab?.close();
      setState({ error: problemText(caught) });
    }
  };
  return (
    <>
      <button type="button" class="secondary" onClick={() => void open()}>
        Temporal UI (decoded)
      </button>
      {state.note && (
        <p class="notice" role="status">
          {state.note}
        </p>
      )}
      {state.error && (
        <p class="error" role="alert">
          {state.error}
        </p>
      )}
    </>
  );
}

function Users() {
  const { user: me } = useAuth();
  const [users, setUsers] = useState<AdminUser[]>();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('');
  const [locked, setLocked] = useState('');
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const load = async () => {
    try {
      const page = await getJson<Page<AdminUser>>(
        `/admin/users${query({ email: email.trim(), role, locked, limit: 100 })}`,
      );
      setUsers(page.items);
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  useEffect(() => void load(), []);

  const update = async (user: AdminUser, body: { role?: string; disabled?: boolean }, done: string) => {
    setError(undefined);
    try {
      await sendJson('PATCH', `/admin/users/${user.id}`, body);
      setNotice(done);
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  const unlock = async (user: AdminUser) => {
    try {
      await call('POST', `/admin/users/${user.id}/unlock`);
      setNotice(`${user.email} can sign in again.`);
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <div class="field">
          <label for="filter-email">Email contains</label>
          <input id="filter-email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="filter-role">Role</label>
          <select id="filter-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="">any</option>
            <option value="user">user</option>
            <option value="admin">admin</option>
          </select>
        </div>
        <div class="field">
          <label for="filter-locked">Locked out</label>
          <select id="filter-locked" value={locked} onChange={(e) => setLocked(e.currentTarget.value)}>
            <option value="">either</option>
            <option value="true">locked</option>
            <option value="false">not locked</option>
          </select>
        </div>
        <button type="submit">Filter</button>
      </form>
      <StatusLines error={error} notice={notice} />
      {users === undefined ? (
        <p class="muted">Loading…</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="User list">
          <table>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">State</th>
                <th scope="col">Joined</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id}>
                  <th scope="row">
                    {u.displayName}
                    <br />
                    <span class="muted">{u.email}</span>
                  </th>
                  <td>
                    <label class="sr-only" for={`role-${u.id}`}>
                      Role of {u.email}
                    </label>
                    <select
                      id={`role-${u.id}`}
                      value={u.role}
                      disabled={u.id === me.id}
                      onChange={(e) =>
                        void update(u, { role: e.currentTarget.value }, `${u.email} is now ${e.currentTarget.value}.`)
                      }
                    >
                      <option value="user">user</option>
                      <option value="admin">admin</option>
                    </select>
                  </td>
                  <td>
                    {u.disabled ? <span class="bad">disabled</span> : <span class="ok">active</span>}
                    {u.locked && <span class="badge warn">locked {Math.ceil(u.lockedForSeconds / 60)} min</span>}
                    {u.mfaEnabled && <span class="badge">2-step</span>}
                  </td>
                  <td>{formatTime(u.createdAt)}</td>
                  <td class="actions">
                    {u.id !== me.id && (
                      <button
                        type="button"
                        class={u.disabled ? 'small' : 'small danger'}
                        onClick={() =>
                          void update(
                            u,
                            { disabled: !u.disabled },
                            u.disabled ? `${u.email} is enabled.` : `${u.email} is disabled.`,
                          )
                        }
                      >
                        {u.disabled ? 'Enable' : 'Disable'} <span class="sr-only">{u.email}</span>
                      </button>
                    )}
                    {u.locked && (
                      <button type="button" class="small" onClick={() => void unlock(u)}>
                        Unlock <span class="sr-only">{u.email}</span>
                      </button>
                    )}
                    <a class="button small" href={`/admin/audit?actor=${u.id}`}>
                      Activity <span class="sr-only">of {u.email}</span>
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const toIso = (local: string): string | undefined => (local ? new Date(local).toISOString() : undefined);

function Audit({ initialActor }: { initialActor: string }) {
  const [entries, setEntries] = useState<AuditEntry[]>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [actor, setActor] = useState(initialActor);
  const [action, setAction] = useState('');
  const [target, setTarget] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState<string>();

  const filters = () => ({
    actor: actor.trim(),
    action: action.trim(),
    target: target.trim(),
    from: toIso(from),
    to: toIso(to),
    limit: 50,
  });
  const load = async (after?: string) => {
    setError(undefined);
    try {
      const page = await getJson<Page<AuditEntry>>(`/admin/audit${query({ ...filters(), cursor: after })}`);
      setEntries(after ? [...(entries ?? []), ...page.items] : page.items);
      setCursor(page.nextCursor ?? null);
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  useEffect(() => void load(), []);

  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <div class="field">
          <label for="audit-actor">Actor (user id)</label>
          <input id="audit-actor" value={actor} onInput={(e) => setActor(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="audit-action">Action</label>
          <input
            id="audit-action"
            placeholder="auth.login"
            value={action}
            onInput={(e) => setAction(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="audit-target">Target id</label>
          <input id="audit-target" value={target} onInput={(e) => setTarget(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="audit-from">From</label>
          <input id="audit-from" type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="audit-to">Before</label>
          <input id="audit-to" type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </div>
        <button type="submit">Filter</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {entries === undefined ? (
        <p class="muted">Loading…</p>
      ) : entries.length === 0 ? (
        <p class="muted">No entries match.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Audit entries">
          <table class="audit">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">From</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td>{formatTime(e.createdAt)}</td>
                  <th scope="row">
                    <code>{e.action}</code>
                  </th>
                  <td>{e.actorId ? <code title={e.actorId}>{e.actorId.slice(0, 8)}</code> : 'system'}</td>
                  <td>
                    {e.targetType ?? ''} {e.targetId ? <code title={e.targetId}>{e.targetId.slice(0, 8)}</code> : ''}
                  </td>
                  <td>{e.ip ?? ''}</td>
                  <td class="meta">{e.metadata ? JSON.stringify(e.metadata) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" class="secondary" onClick={() => void load(cursor)}>
          Older entries
        </button>
      )}
    </section>
  );
}
