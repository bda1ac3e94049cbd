import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, query, sendJson } from '../api/client';
import type { Conversation, Page } from '../api/types';
import { problemText } from '../lib/problem-text';
import { navigate } from '../lib/router';

interface Props {
  activeId?: string;
  /** Bumped by the page whenever a conversation changed (sent, renamed, archived, deleted). */
  version: number;
  onChanged: () => void;
}

/** The sidebar: new chat, search, archived toggle, import, and the conversations as links. */
export function ConversationList({ activeId, version, onChanged }: Props) {
  const [items, setItems] = useState<Conversation[]>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [q, setQ] = useState('');
  const [archived, setArchived] = useState(false);
  const [error, setError] = useState<string>();
  const importInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(
      () => {
        getJson<Page<Conversation>>(`/conversations${query({ q: q.trim(), archived, limit: 50 })}`, {
          signal: controller.signal,
        }).then(
          (page) => {
            setItems(page.items);
            setCursor(page.nextCursor ?? null);
            setError(undefined);
          },
          (caught: unknown) => {
            if (!controller.signal.aborted) setError(problemText(caught));
          },
        );
      },
      q ? 250 : 0,
    );
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [q, archived, version]);

  const more = async () => {
    if (!cursor) return;
    const page = await getJson<Page<Conversation>>(
      `/conversations${query({ q: q.trim(), archived, limit: 50, cursor })}`,
    );
    setItems([...(items ?? []), ...page.items]);
    setCursor(page.nextCursor ?? null);
  };

  const newChat = () => navigate('/');

  const importFile = async (file: File | undefined) => {
    if (!file) return;
    setError(undefined);
    try {
      const body: unknown = JSON.parse(await file.text());
      const created = await sendJson<Conversation>('POST', '/conversations/import', body);
      onChanged();
      navigate(`/c/${created.id}`);
    } catch (caught) {
      setError(caught instanceof ApiError ? problemText(caught) : 'That file is not a GigaChat JSON export.');
    } finally {
      if (importInput.current) importInput.current.value = '';
    }
  };

  return (
    <nav class="sidebar" aria-label="Conversations">
      <button type="button" class="new-chat" onClick={newChat}>
        New chat
      </button>
      <div class="field compact">
        <label for="conversation-search">Search conversations</label>
        <input
          id="conversation-search"
          type="search"
          maxLength={200}
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
      </div>
      <div class="row">
        <input
          id="show-archived"
          type="checkbox"
          checked={archived}
          onChange={(e) => setArchived(e.currentTarget.checked)}
        />
        <label for="show-archived">Show archived</label>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <h2 class="sr-only">{archived ? 'Archived conversations' : 'Your conversations'}</h2>
      {items === undefined ? (
        <p class="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p class="muted">
          {q ? 'No conversation has that in its title.' : archived ? 'Nothing archived.' : 'No conversations yet.'}
        </p>
      ) : (
        <ul class="conversation-links">
          {items.map((c) => (
            <li key={c.id}>
              <a href={`/c/${c.id}`} aria-current={c.id === activeId ? 'page' : undefined}>
                {c.title ?? 'New chat'}
                {c.shared && <span class="badge">shared · {c.permission}</span>}
              </a>
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" class="secondary" onClick={() => void more()}>
          More conversations
        </button>
      )}
      <div class="import">
        <label for="import-file">Import a conversation (JSON export)</label>
        <input
          ref={importInput}
          id="import-file"
          type="file"
          accept="application/json,.json"
          onChange={(e) => void importFile(e.currentTarget.files?.[0])}
        />
      </div>
    </nav>
  );
}
