import { useCallback, useEffect, useState } from 'preact/hooks';
import { call, getJson, sendJson } from '../api/client';
import type { Conversation, ModelInfo } from '../api/types';
import { Composer, type Outgoing } from '../components/composer';
import { ConversationList } from '../components/conversation-list';
import { ConversationView } from '../components/conversation-view';
import { newId } from '../lib/format';
import { usePage } from '../lib/page';
import { problemText } from '../lib/problem-text';
import { navigate } from '../lib/router';

let modelsOnce: Promise<ModelInfo[]> | undefined;

/** The chat: conversations on the side, the open conversation (or a new one) in the middle. */
export function ChatPage({ conversationId }: { conversationId?: string }) {
  const [version, setVersion] = useState(0);
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [announcement, setAnnouncement] = useState('');
  const changed = useCallback(() => setVersion((v) => v + 1), []);
  // One polite live region for the page: the answer is announced when it is complete, never token by token.
  const announce = useCallback((text: string) => {
    setAnnouncement('');
    setTimeout(() => setAnnouncement(text), 50);
  }, []);

  useEffect(() => {
    modelsOnce ??= getJson<{ items: ModelInfo[] }>('/models').then((r) => r.items);
    modelsOnce.then(setModels, () => (modelsOnce = undefined));
  }, []);

  return (
    <div class="chat-layout">
      <ConversationList activeId={conversationId} version={version} onChanged={changed} />
      {conversationId ? (
        <ConversationView conversationId={conversationId} models={models} announce={announce} onChanged={changed} />
      ) : (
        <NewChat models={models} onChanged={changed} />
      )}
      <div class="sr-only" aria-live="polite" aria-atomic="true">
        {announcement}
      </div>
    </div>
  );
}

function NewChat({ models, onChanged }: { models: ModelInfo[]; onChanged: () => void }) {
  const heading = usePage('New chat');
  const [error, setError] = useState<string>();
  const send = async (message: Outgoing): Promise<boolean> => {
    setError(undefined);
    try {
      const conversation = await sendJson<Conversation>('POST', '/conversations', {
        ...(message.model ? { model: message.model } : {}),
        // The tools picked for the first message stay the conversation's.
        ...(message.tools.length ? { tools: message.tools } : {}),
      });
      await call('POST', `/conversations/${conversation.id}/messages`, {
        headers: { Prefer: 'respond-async', 'Idempotency-Key': newId() },
        body: {
          content: message.content,
          ...(message.webSearch ? { webSearch: true } : {}),
          ...(message.fileIds.length ? { fileIds: message.fileIds } : {}),
        },
      });
      onChanged();
      navigate(`/c/${conversation.id}`);
      return true;
    } catch (caught) {
      setError(problemText(caught));
      return false;
    }
  };
  return (
    <main id="main" class="chat-main">
      <header class="chat-header">
        <h1 ref={heading} tabIndex={-1}>
          New chat
        </h1>
      </header>
      <div class="messages empty-state">
        <p>Ask a question. Answers draw on your files and, when you tick “Search the web”, on the web, with sources.</p>
        <p class="muted">Answers survive a reload: close the tab mid-answer and it picks up where it was.</p>
      </div>
      <div class="status-area">
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
      <Composer models={models} streaming={false} onSend={send} onStop={() => undefined} />
    </main>
  );
}
