import { useEffect, useState } from 'preact/hooks';
import { call, getJson, query, sendJson } from '../api/client';
import type { ModelInfo, Page, Replay, ReplayResult, ReplayStatus } from '../api/types';
import { formatTime, newId, saveBlob } from '../lib/format';
import { renderMarkdown } from '../lib/markdown';
import { problemText } from '../lib/problem-text';
import { navigate } from '../lib/router';
import { StatusLines } from '../components/status-lines';

/**
 * Batch replays for administrators (`/admin/replays…`): the list, a form that starts one, and one replay's progress,
 * controls, report and answers side by side with the originals. Everything goes through the `/replays` routes.
 */
export default function Replays({ path }: { path: string }) {
  const rest = path.replace(/^\/admin\/replays\/?/, '');
  if (rest === 'new') return <NewReplay />;
  if (rest) return <ReplayDetail id={rest} />;
  return <ReplayList />;
}

const RUNNING: readonly ReplayStatus[] = ['queued', 'running', 'paused'];
const short = (id: string) => id.slice(0, 8);

function ReplayList() {
  const [replays, setReplays] = useState<Replay[]>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const load = async (after?: string) => {
    try {
      const page = await getJson<Page<Replay>>(`/replays${query({ limit: 50, cursor: after })}`);
      setReplays(after ? [...(replays ?? []), ...page.items] : page.items);
      setCursor(page.nextCursor ?? null);
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  useEffect(() => void load(), []);
  return (
    <section aria-labelledby="replays-title">
      <h2 id="replays-title">Replays</h2>
      <p class="muted">
        Re-run saved conversations against other models or prompts and compare the answers with the originals.
      </p>
      <a class="button" href="/admin/replays/new">
        New replay
      </a>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {replays === undefined ? (
        !error && <p class="muted">Loading…</p>
      ) : replays.length === 0 ? (
        <p class="muted">No replays yet.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Replay list">
          <table>
            <thead>
              <tr>
                <th scope="col">Replay</th>
                <th scope="col">Status</th>
                <th scope="col">Arms</th>
                <th scope="col">Conversations</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {replays.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    <a href={`/admin/replays/${r.id}`}>
                      <code>{short(r.id)}</code> <span class="sr-only">replay {r.id}</span>
                    </a>
                  </th>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{r.arms.map((arm) => arm.label).join(', ')}</td>
                  <td>
                    {r.progress.conversations.done} of {r.progress.conversations.total}
                    {r.progress.conversations.failed > 0 && `, ${r.progress.conversations.failed} failed`}
                  </td>
                  <td>{formatTime(r.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" class="secondary" onClick={() => void load(cursor)}>
          Older replays
        </button>
      )}
    </section>
  );
}

function StatusBadge({ status }: { status: ReplayStatus }) {
  const tone = status === 'completed' ? 'ok' : status === 'failed' ? 'bad' : status === 'cancelled' ? 'warn' : '';
  return <span class={`badge ${tone}`}>{status}</span>;
}

interface ArmDraft {
  key: string;
  model: string;
  label: string;
  prompt: 'own' | 'none' | 'custom';
  systemPrompt: string;
  retrieval: ToggleValue;
  webSearch: ToggleValue;
}

const emptyArm = (): ArmDraft => ({
  key: newId(),
  model: '',
  label: '',
  prompt: 'own',
  systemPrompt: '',
  retrieval: '',
  webSearch: '',
});

const toIso = (local: string): string | undefined => (local ? new Date(local).toISOString() : undefined);
const toggle = (value: ToggleValue): boolean | undefined => (value === '' ? undefined : value === 'on');

function NewReplay() {
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [ids, setIds] = useState('');
  const [owner, setOwner] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [search, setSearch] = useState('');
  const [mode, setMode] = useState<'pinned' | 'trajectory'>('pinned');
  const [arms, setArms] = useState<ArmDraft[]>([emptyArm()]);
  const [judge, setJudge] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  // One key per form: a retried submit (a lost response) maps to the same replay instead of starting a second one.
  const [idempotencyKey] = useState(newId);

  useEffect(() => {
    getJson<{ items: ModelInfo[] }>('/models')
      .then((page) => setModels(page.items))
      .catch(() => setModels([]));
  }, []);

  const change = (key: string, patch: Partial<ArmDraft>) =>
    setArms(arms.map((arm) => (arm.key === key ? { ...arm, ...patch } : arm)));

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    const conversationIds = ids
      .split(/[\s,]+/)
      .map((id) => id.trim())
      .filter(Boolean);
    const body = {
      mode,
      selection: {
        conversationIds: conversationIds.length > 0 ? conversationIds : undefined,
        userId: owner.trim() || undefined,
        since: toIso(since),
        until: toIso(until),
        query: search.trim() || undefined,
      },
      arms: arms.map((arm) => ({
        model: arm.model.trim(),
        label: arm.label.trim() || undefined,
        systemPrompt: arm.prompt === 'own' ? undefined : arm.prompt === 'none' ? null : arm.systemPrompt,
        retrieval: toggle(arm.retrieval),
        webSearch: toggle(arm.webSearch),
      })),
      judge: judge.trim() ? { model: judge.trim() } : undefined,
    };
    try {
      const created = await sendJson<Replay>('POST', '/replays', body, {
        headers: { 'Idempotency-Key': idempotencyKey },
      });
      navigate(`/admin/replays/${created.id}`);
    } catch (caught) {
      setError(problemText(caught));
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="new-replay-title">
      <h2 id="new-replay-title">New replay</h2>
      <form onSubmit={(e) => void submit(e)} class="replay-form">
        <datalist id="replay-models">
          {models.map((m) => (
            <option key={m.id} value={m.id} />
          ))}
        </datalist>
        <fieldset>
          <legend>Conversations</legend>
          <p class="muted">Name conversations by id, or select them by owner, time and text (combined).</p>
          <div class="field">
            <label for="replay-ids">Conversation ids (one per line)</label>
            <textarea id="replay-ids" rows={3} value={ids} onInput={(e) => setIds(e.currentTarget.value)} />
          </div>
          <div class="filters">
            <div class="field">
              <label for="replay-owner">Owner (user id)</label>
              <input id="replay-owner" value={owner} onInput={(e) => setOwner(e.currentTarget.value)} />
            </div>
            <div class="field">
              <label for="replay-since">Created from</label>
              <input
                id="replay-since"
                type="datetime-local"
                value={since}
                onInput={(e) => setSince(e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label for="replay-until">Created before</label>
              <input
                id="replay-until"
                type="datetime-local"
                value={until}
                onInput={(e) => setUntil(e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label for="replay-search">Containing text</label>
              <input id="replay-search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
            </div>
          </div>
          <div class="field">
            <label for="replay-mode">History before each turn</label>
            <select
              id="replay-mode"
              value={mode}
              onChange={(e) => setMode(e.currentTarget.value as 'pinned' | 'trajectory')}
            >
              <option value="pinned">the original conversation (pinned)</option>
              <option value="trajectory">each arm's own answers (trajectory)</option>
            </select>
          </div>
        </fieldset>
        {arms.map((arm, i) => (
          <fieldset key={arm.key}>
            <legend>Arm {i + 1}</legend>
            <div class="filters">
              <div class="field">
                <label for={`arm-model-${arm.key}`}>Model</label>
                <input
                  id={`arm-model-${arm.key}`}
                  list="replay-models"
                  required
                  value={arm.model}
                  onInput={(e) => change(arm.key, { model: e.currentTarget.value })}
                />
              </div>
              <div class="field">
                <label for={`arm-label-${arm.key}`}>Label</label>
                <input
                  id={`arm-label-${arm.key}`}
                  placeholder="the model"
                  value={arm.label}
                  onInput={(e) => change(arm.key, { label: e.currentTarget.value })}
                />
              </div>
              <Toggle
                id={`arm-retrieval-${arm.key}`}
                label="Retrieval"
                value={arm.retrieval}
                onChange={(retrieval) => change(arm.key, { retrieval })}
              />
              <Toggle
                id={`arm-web-${arm.key}`}
                label="Web search"
                value={arm.webSearch}
                onChange={(webSearch) => change(arm.key, { webSearch })}
              />
              <div class="field">
                <label for={`arm-prompt-${arm.key}`}>System prompt</label>
                <select
                  id={`arm-prompt-${arm.key}`}
                  value={arm.prompt}
                  onChange={(e) => change(arm.key, { prompt: e.currentTarget.value as ArmDraft['prompt'] })}
                >
                  <option value="own">each conversation's own</option>
                  <option value="none">none</option>
                  <option value="custom">this one:</option>
                </select>
              </div>
            </div>
            {arm.prompt === 'custom' && (
              <div class="field">
                <label for={`arm-prompt-text-${arm.key}`}>System prompt of arm {i + 1}</label>
                <textarea
                  id={`arm-prompt-text-${arm.key}`}
                  rows={3}
                  value={arm.systemPrompt}
                  onInput={(e) => change(arm.key, { systemPrompt: e.currentTarget.value })}
                />
              </div>
            )}
            {arms.length > 1 && (
              <button
                type="button"
                class="small secondary"
                onClick={() => setArms(arms.filter((other) => other.key !== arm.key))}
              >
                Remove arm {i + 1}
              </button>
            )}
          </fieldset>
        ))}
        {arms.length < 8 && (
          <button type="button" class="secondary" onClick={() => setArms([...arms, emptyArm()])}>
            Add an arm
          </button>
        )}
        <div class="field">
          <label for="replay-judge">Judge model (optional: compares each answer with the original)</label>
          <input
            id="replay-judge"
            list="replay-models"
            value={judge}
            onInput={(e) => setJudge(e.currentTarget.value)}
          />
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Start the replay
        </button>
      </form>
    </section>
  );
}

type ToggleValue = '' | 'on' | 'off';

/** An arm's on/off setting that may also follow what each original turn asked for. */
function Toggle(props: { id: string; label: string; value: ToggleValue; onChange: (value: ToggleValue) => void }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value as ToggleValue)}>
        <option value="">as the turn asked</option>
        <option value="on">on</option>
        <option value="off">off</option>
      </select>
    </div>
  );
}

function ReplayDetail({ id }: { id: string }) {
  const [replay, setReplay] = useState<Replay>();
  const [report, setReport] = useState<string>();
  const [results, setResults] = useState<ReplayResult[]>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const loadReport = async () => {
    const res = await call('GET', `/replays/${id}/report${query({ format: 'md' })}`, {
      headers: { Accept: 'text/markdown' },
    });
    setReport(await res.text());
  };
  const loadResults = async (after?: string) => {
    const page = await getJson<Page<ReplayResult>>(`/replays/${id}/results${query({ limit: 50, cursor: after })}`);
    setResults(after ? [...(results ?? []), ...page.items] : page.items);
    setCursor(page.nextCursor ?? null);
  };
  /** The replay, then its report and answers; a failure is shown, and the replay is still followed if it ran. */
  const load = async () => {
    let current: Replay | undefined;
    try {
      current = await getJson<Replay>(`/replays/${id}`);
      setReplay(current);
      await Promise.all([loadReport(), loadResults()]);
      setError(undefined);
    } catch (caught) {
      setError(problemText(caught));
    }
    return current;
  };

  // Followed while it runs: every two seconds (the progress is live), until it ends.
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      const current = await load();
      if (!stopped && current && RUNNING.includes(current.status)) timer = setTimeout(() => void tick(), 2000);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id]);

  const control = async (action: 'pause' | 'resume' | 'cancel') => {
    setError(undefined);
    try {
      setReplay(await sendJson<Replay>('POST', `/replays/${id}/${action}`));
      setNotice(action === 'pause' ? 'Paused.' : action === 'resume' ? 'Resumed.' : 'Cancelling.');
    } catch (caught) {
      setError(problemText(caught));
    }
  };
  const download = async () => {
    try {
      const res = await call('GET', `/replays/${id}/report${query({ format: 'csv' })}`, {
        headers: { Accept: 'text/csv' },
      });
      saveBlob(await res.blob(), `replay-${short(id)}.csv`);
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  const p = replay?.progress;
  return (
    <section aria-labelledby="replay-title">
      <h2 id="replay-title">
        Replay <code>{short(id)}</code>
      </h2>
      <p>
        <a href="/admin/replays">All replays</a>
      </p>
      <StatusLines error={error} notice={notice} />
      {replay && p && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={replay.status} />
              {replay.error && ` ${replay.error.detail}`}
            </dd>
            <dt>Conversations</dt>
            <dd>
              <progress
                aria-label="Conversations replayed"
                max={p.conversations.total || 1}
                value={p.conversations.done + p.conversations.failed}
              />{' '}
              {p.conversations.done} of {p.conversations.total} done
              {p.conversations.failed > 0 && `, ${p.conversations.failed} failed`}
              {p.etaSeconds !== null && RUNNING.includes(replay.status) && `, about ${Math.ceil(p.etaSeconds)} s left`}
            </dd>
            <dt>Answers</dt>
            <dd>
              {p.turns.done} answered, {p.turns.failed} failed; {p.tokens.prompt + p.tokens.completion} tokens
            </dd>
            <dt>Arms</dt>
            <dd>{replay.arms.map((arm) => `${arm.label} (${arm.model})`).join(', ')}</dd>
            <dt>Temporal</dt>
            <dd>
              <code>{replay.workflowId}</code>
            </dd>
          </dl>
          <div class="actions">
            {replay.status === 'running' && (
              <button type="button" class="secondary" onClick={() => void control('pause')}>
                Pause
              </button>
            )}
            {replay.status === 'paused' && (
              <button type="button" class="secondary" onClick={() => void control('resume')}>
                Resume
              </button>
            )}
            {RUNNING.includes(replay.status) && (
              <button type="button" class="danger" onClick={() => void control('cancel')}>
                Cancel
              </button>
            )}
            <button type="button" class="secondary" onClick={() => void download()}>
              Download the report (CSV)
            </button>
          </div>
        </>
      )}
      {report !== undefined && (
        <section aria-labelledby="report-title">
          <h3 id="report-title">Report</h3>
          {/* Markdown from our own API, sanitised like every message. */}
          <div class="markdown report" dangerouslySetInnerHTML={{ __html: renderMarkdown(report) }} />
        </section>
      )}
      {results !== undefined && (
        <section aria-labelledby="results-title">
          <h3 id="results-title">Answers</h3>
          {results.length === 0 ? (
            <p class="muted">No answers yet.</p>
          ) : (
            <div class="table-wrap" tabIndex={0} role="region" aria-label="Answers beside the originals">
              <table class="replay-results">
                <thead>
                  <tr>
                    <th scope="col">Turn</th>
                    <th scope="col">User</th>
                    <th scope="col">Original</th>
                    <th scope="col">Arm</th>
                    <th scope="col">Answer</th>
                    <th scope="col">Verdict</th>
                  </tr>
                </thead>
                <tbody>
                  {results.map((r) => (
                    <tr key={r.id}>
                      <th scope="row">
                        <code>{short(r.conversationId)}</code> #{r.turnIndex + 1}
                      </th>
                      <td>{r.userMessage.content ?? <span class="muted">deleted</span>}</td>
                      <td>{r.original?.content ?? <span class="muted">none</span>}</td>
                      <td>{r.arm.label}</td>
                      <td>
                        {r.arm.status === 'failed' ? (
                          <span class="bad">failed: {r.arm.error?.detail ?? r.arm.error?.code}</span>
                        ) : (
                          r.arm.content
                        )}
                      </td>
                      <td>{r.verdict ? `${r.verdict.outcome}: ${r.verdict.reason}` : r.bucket}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {cursor && (
            <button type="button" class="secondary" onClick={() => void loadResults(cursor).catch(() => undefined)}>
              More answers
            </button>
          )}
        </section>
      )}
    </section>
  );
}
