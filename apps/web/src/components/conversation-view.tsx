import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, call, getJson, query, sendJson } from '../api/client';
import { followTurn } from '../api/turn-stream';
import type {
  Conversation,
  ConversationWithMessages,
  Message,
  ModelInfo,
  Page,
  ToolDecisionView,
  Turn,
} from '../api/types';
import { MessageTree } from '../lib/branches';
import { newId, saveBlob } from '../lib/format';
import {
  applyTurnEvent,
  forgetTurn,
  type LiveTurn,
  recalledTurn,
  rememberTurn,
  settleApproval,
  startLiveTurn,
} from '../lib/live-turn';
import { renderMarkdown } from '../lib/markdown';
import { usePage } from '../lib/page';
import { problemText } from '../lib/problem-text';
import { navigate } from '../lib/router';
import { Composer, type Outgoing } from './composer';
import { LiveToolCalls } from './live-tool-calls';
import { MessageItem } from './message-item';
import { Sources } from './sources';
import { TurnSteps } from './turn-steps';
import { StatusLines } from './status-lines';

/** Messages drawn at first; older ones come on request, so a 500-message conversation opens and scrolls smoothly. */
const WINDOW = 40;

interface Props {
  conversationId: string;
  models: ModelInfo[];
  announce: (text: string) => void;
  onChanged: () => void;
}

const FAILURE_TEXT: Record<string, string> = {
  llm_bad_request: 'The model refused this request.',
  llm_auth: 'The model provider refused our credentials.',
  turn_timeout: 'The answer took too long.',
};

export function ConversationView({ conversationId, models, announce, onChanged }: Props) {
  const [conversation, setConversation] = useState<ConversationWithMessages>();
  const [all, setAll] = useState<Message[]>();
  const [live, setLive] = useState<LiveTurn>();
  const [reconnecting, setReconnecting] = useState(false);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [shown, setShown] = useState(WINDOW);
  const [renaming, setRenaming] = useState(false);
  const [title, setTitle] = useState('');
  const follow = useRef<AbortController | undefined>(undefined);
  /** Changes the followed turn's state outside its events (a decision on a tool call), kept for a reload too. */
  const amend = useRef<((change: (turn: LiveTurn) => LiveTurn) => void) | undefined>(undefined);
  const bottom = useRef<HTMLDivElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const loads = useRef(0);
  const deleteDialog = useRef<HTMLDialogElement>(null);
  const heading = usePage(conversation?.title ?? 'Conversation');

  // The branch is drawn as soon as it arrives; every branch's messages (for ‹ 2/3 ›) follow in the background.
  const load = useCallback(async () => {
    const loaded = await getJson<ConversationWithMessages>(`/conversations/${conversationId}`);
    setConversation(loaded);
    const n = ++loads.current;
    allMessages(conversationId).then(
      (messages) => n === loads.current && setAll(messages),
      () => undefined,
    );
    return loaded;
  }, [conversationId]);

  const followLive = useCallback(
    (start: LiveTurn) => {
      follow.current?.abort();
      const controller = new AbortController();
      follow.current = controller;
      let state = start;
      let ended = false;
      setLive(state);
      rememberTurn(state);
      amend.current = (change) => {
        // A decision's answer can arrive after the turn's last event: the turn is no longer live then.
        if (follow.current !== controller || ended) return;
        state = change(state);
        setLive(state);
        rememberTurn(state);
      };
      followTurn(start.turnId, {
        ...(start.lastEventId ? { lastEventId: start.lastEventId } : {}),
        signal: controller.signal,
        onReconnecting: setReconnecting,
        onEvent(event, id) {
          const before = state;
          state = applyTurnEvent(state, event, id);
          if (event.event === 'tool.approval_required') {
            const call = state.toolCalls.find((c) => c.callId === event.data.callId);
            const asked = before.toolCalls.find((c) => c.callId === event.data.callId)?.approvalExpiresAt;
            if (call?.approvalExpiresAt && !asked) announce(`GigaChat asks to use ${call.name}: approve or deny it.`);
          }
          setLive(state);
          // Text and event id are written together, at every event, so a reload resumes exactly after what is shown.
          rememberTurn(state);
        },
      })
        .then(async () => {
          ended = true;
          forgetTurn(conversationId);
          if (state.outcome === 'completed') announce(`GigaChat answered: ${state.text.slice(0, 600)}`);
          else if (state.outcome === 'cancelled') announce('Stopped. The partial answer was kept.');
          else if (state.outcome === 'failed') {
            const text = `The answer failed. ${FAILURE_TEXT[state.error?.code ?? ''] ?? state.error?.detail ?? ''}`;
            setError(text);
            announce(text);
          }
          await load().catch(() => undefined);
          if (follow.current === controller) setLive(undefined);
          onChanged();
        })
        .catch((caught: unknown) => {
          if (controller.signal.aborted) return;
          forgetTurn(conversationId);
          setLive(undefined);
          setError(problemText(caught));
        });
    },
    [conversationId, load, announce, onChanged],
  );

  // Open the conversation; pick up a turn this tab was following (a reload), or one still running.
  useEffect(() => {
    setConversation(undefined);
    setAll(undefined);
    setLive(undefined);
    setError(undefined);
    setNotice(undefined);
    setShown(WINDOW);
    stick.current = true;
    let cancelled = false;
    load().then(
      async (loaded) => {
        if (cancelled) return;
        const recalled = recalledTurn(conversationId);
        if (recalled) return followLive(recalled);
        const last = loaded.messages.at(-1);
        if (last?.role === 'user' && last.turnId) {
          const turn = await getJson<Turn>(`/turns/${last.turnId}`).catch(() => undefined);
          if (cancelled || !turn) return;
          if (turn.status === 'queued' || turn.status === 'running') followLive(startLiveTurn(turn.id, conversationId));
          else await load(); // it ended between the two reads: show its answer
        }
      },
      (caught: unknown) => !cancelled && setError(problemText(caught)),
    );
    return () => {
      cancelled = true;
      follow.current?.abort();
    };
  }, [conversationId, load, followLive]);

  // Keep the newest text in view while the person has not scrolled up to read.
  useLayoutEffect(() => {
    if (stick.current) bottom.current?.scrollIntoView({ block: 'end' });
  }, [live?.text, conversation]);

  const tree = useMemo(() => (all ? new MessageTree(all) : undefined), [all]);
  const canWrite = conversation !== undefined && conversation.permission !== 'read';
  const streaming = live !== undefined && live.outcome === undefined;

  const startTurn = async (request: () => Promise<Response>): Promise<boolean> => {
    setError(undefined);
    setNotice(undefined);
    try {
      const res = await request();
      // 202 answers with the turn (TurnView: `id`) and its eventsUrl; shared/API.md says `turnId`, so take either.
      const accepted = (await res.json()) as { id?: string; turnId?: string };
      const turnId = accepted.id ?? accepted.turnId ?? '';
      stick.current = true;
      announce('GigaChat is answering…');
      await load().catch(() => undefined);
      followLive(startLiveTurn(turnId, conversationId));
      return true;
    } catch (caught) {
      setError(problemText(caught));
      return false;
    }
  };

  const async = { Prefer: 'respond-async', 'Idempotency-Key': newId() };
  const send = (message: Outgoing) =>
    startTurn(() =>
      call('POST', `/conversations/${conversationId}/messages`, {
        headers: async,
        body: {
          content: message.content,
          ...(message.model ? { model: message.model } : {}),
          ...(message.webSearch ? { webSearch: true } : {}),
          ...(message.fileIds.length ? { fileIds: message.fileIds } : {}),
          // The owner's picks are the conversation's tools, which a message without `tools` gets; a sharee's go along.
          ...(conversation?.permission !== 'owner' && message.tools.length ? { tools: message.tools } : {}),
        },
      }),
    );
  const regenerate = (message: Message) =>
    void startTurn(() => call('POST', `/messages/${message.id}/regenerate`, { headers: async, body: {} }));
  const edit = (message: Message, content: string) =>
    void startTurn(() => call('PATCH', `/messages/${message.id}`, { headers: async, body: { content } }));

  const stop = async () => {
    if (!live) return;
    try {
      await sendJson('POST', `/turns/${live.turnId}/cancel`);
    } catch (caught) {
      if (!(caught instanceof ApiError && caught.code === 'conflict')) setError(problemText(caught));
    }
  };

  const decide = async (callId: string, approve: boolean) => {
    if (!live) return;
    setError(undefined);
    try {
      const decided = await sendJson<ToolDecisionView>(
        'POST',
        `/turns/${live.turnId}/tool-calls/${encodeURIComponent(callId)}/${approve ? 'approve' : 'deny'}`,
      );
      amend.current?.((turn) => settleApproval(turn, callId, decided.decision));
    } catch (caught) {
      // 409: the call waits no more (decided elsewhere, timed out, the turn ended); its result tells the rest.
      if (caught instanceof ApiError && caught.code === 'conflict')
        amend.current?.((turn) => settleApproval(turn, callId));
      setError(problemText(caught));
    }
  };

  const switchTo = async (messageId: string) => {
    if (!tree) return;
    try {
      await sendJson('PATCH', `/conversations/${conversationId}`, { currentMessageId: tree.leafOf(messageId) });
      await load();
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  const feedback = async (message: Message, rating: 'up' | 'down') => {
    try {
      await sendJson('POST', `/messages/${message.id}/feedback`, { rating });
      await load();
      setNotice(rating === 'up' ? 'Thanks: marked as a good answer.' : 'Thanks: marked as a bad answer.');
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  const patch = async (body: Partial<Conversation>, done: string) => {
    try {
      await sendJson('PATCH', `/conversations/${conversationId}`, body);
      await load();
      setNotice(done);
      onChanged();
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  /** The owner's tool picks, kept as the conversation's tools. */
  const saveTools = async (tools: string[]): Promise<boolean> => {
    try {
      const updated = await sendJson<Conversation>('PATCH', `/conversations/${conversationId}`, { tools });
      setConversation((current) => current && { ...current, tools: updated.tools });
      return true;
    } catch (caught) {
      setError(problemText(caught));
      return false;
    }
  };

  const exportAs = async (format: 'json' | 'md') => {
    try {
      const res = await call('GET', `/conversations/${conversationId}/export${query({ format })}`, {
        headers: { Accept: format === 'json' ? 'application/json' : 'text/markdown' },
      });
      saveBlob(await res.blob(), `conversation-${conversationId}.${format}`);
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  const remove = async () => {
    try {
      await call('DELETE', `/conversations/${conversationId}`);
      forgetTurn(conversationId);
      onChanged();
      navigate('/');
    } catch (caught) {
      setError(problemText(caught));
    }
  };

  if (!conversation)
    return (
      <main id="main" class="chat-main" aria-busy={error ? undefined : 'true'}>
        <h1 ref={heading} tabIndex={-1}>
          {error ? 'Conversation unavailable' : 'Loading…'}
        </h1>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </main>
    );

  const messages = conversation.messages.filter((m) => m.role !== 'system');
  // While a turn streams, its answer is drawn live below; an answer already saved for it is not drawn twice.
  const visible = messages.filter((m) => !(live && m.id === live.assistantMessageId));
  const first = Math.max(0, visible.length - shown);

  return (
    <main id="main" class="chat-main">
      <header class="chat-header">
        {renaming ? (
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              setRenaming(false);
              if (title.trim()) void patch({ title: title.trim() }, 'Renamed.');
            }}
          >
            <label for="rename-title">Title</label>
            <input id="rename-title" value={title} maxLength={200} onInput={(e) => setTitle(e.currentTarget.value)} />
            <button type="submit">Save</button>
            <button type="button" class="secondary" onClick={() => setRenaming(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <h1 ref={heading} tabIndex={-1}>
            {conversation.title ?? 'New chat'}
          </h1>
        )}
        <div class="chat-actions" role="group" aria-label="Conversation actions">
          {canWrite && !renaming && (
            <button
              type="button"
              class="small"
              onClick={() => {
                setTitle(conversation.title ?? '');
                setRenaming(true);
              }}
            >
              Rename
            </button>
          )}
          {conversation.permission === 'owner' && (
            <>
              <button
                type="button"
                class="small"
                onClick={() =>
                  void patch(
                    { archived: !conversation.archived },
                    conversation.archived ? 'Moved out of the archive.' : 'Archived.',
                  )
                }
              >
                {conversation.archived ? 'Unarchive' : 'Archive'}
              </button>
              <a class="button small" href={`/settings?share=${conversation.id}#sharing`}>
                Share
              </a>
            </>
          )}
          <button type="button" class="small" onClick={() => void exportAs('json')}>
            Export JSON
          </button>
          <button type="button" class="small" onClick={() => void exportAs('md')}>
            Export Markdown
          </button>
          {conversation.permission === 'owner' && (
            <button type="button" class="small danger" onClick={() => deleteDialog.current?.showModal()}>
              Delete
            </button>
          )}
        </div>
      </header>
      {conversation.shared && (
        <p class="muted">Shared with you{conversation.permission === 'read' ? ' to read' : ' to read and write'}.</p>
      )}
      <div
        class="messages"
        ref={scroller}
        tabIndex={0}
        role="region"
        aria-label="Messages"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        }}
      >
        <h2 class="sr-only">Messages</h2>
        {first > 0 && (
          <button type="button" class="secondary earlier" onClick={() => setShown(shown + 100)}>
            Show {Math.min(100, first)} earlier messages ({first} not shown)
          </button>
        )}
        {visible.length === 0 && !live && <p class="muted empty">No messages yet. Ask something below.</p>}
        {visible.slice(first).map((m) => (
          <MessageItem
            key={m.id}
            message={m}
            siblings={tree?.siblings(m.id) ?? { index: 1, count: 1 }}
            canWrite={canWrite}
            busy={streaming}
            onSwitch={(id) => void switchTo(id)}
            onRegenerate={regenerate}
            onEdit={edit}
            onFeedback={(msg, rating) => void feedback(msg, rating)}
          />
        ))}
        {live && <LiveAnswer live={live} reconnecting={reconnecting} onDecide={decide} />}
        <div ref={bottom} />
      </div>
      <div class="status-area">
        <StatusLines error={error} notice={notice} />
      </div>
      <Composer
        models={models}
        model={conversation.model}
        streaming={streaming}
        disabled={canWrite ? undefined : 'This conversation is shared with you to read only.'}
        tools={conversation.tools}
        onToolsChange={conversation.permission === 'owner' ? saveTools : undefined}
        onSend={send}
        onStop={() => void stop()}
      />
      <dialog ref={deleteDialog} aria-labelledby="delete-title" class="dialog">
        <h2 id="delete-title">Delete this conversation?</h2>
        <p>Every message and branch of “{conversation.title ?? 'New chat'}” is removed. This cannot be undone.</p>
        <form method="dialog" class="row">
          <button type="submit" class="danger" onClick={() => void remove()}>
            Delete
          </button>
          <button type="submit" class="secondary">
            Keep it
          </button>
        </form>
      </dialog>
    </main>
  );
}

/** The answer being written: steps, tool calls, the text so far (rendered as it comes), and its sources once known. */
function LiveAnswer({
  live,
  reconnecting,
  onDecide,
}: {
  live: LiveTurn;
  reconnecting: boolean;
  onDecide: (callId: string, approve: boolean) => Promise<void>;
}) {
  const id = live.assistantMessageId ?? live.turnId;
  const html = useMemo(
    () => renderMarkdown(live.text, id, live.citations.length),
    [live.text, id, live.citations.length],
  );
  return (
    <article class="msg msg-assistant live" aria-labelledby="live-author" aria-busy={live.outcome ? 'false' : 'true'}>
      <h3 id="live-author" class="msg-author">
        GigaChat {live.outcome ? '' : <span class="badge">answering…</span>}
        {reconnecting && <span class="badge warn">connection lost, reconnecting…</span>}
      </h3>
      <TurnSteps steps={live.steps} />
      <LiveToolCalls calls={live.toolCalls} onDecide={onDecide} />
      {live.text ? (
        <div class="markdown" dangerouslySetInnerHTML={{ __html: html }} />
      ) : (
        !live.outcome && <p class="muted typing">Thinking…</p>
      )}
      <Sources messageId={id} citations={live.citations} />
    </article>
  );
}

async function allMessages(conversationId: string): Promise<Message[]> {
  const out: Message[] = [];
  let cursor: string | null | undefined;
  do {
    const page = await getJson<Page<Message>>(
      `/conversations/${conversationId}/messages${query({ limit: 100, cursor })}`,
    );
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
