import { useMemo, useState } from 'preact/hooks';
import type { Message } from '../api/types';
import type { Siblings } from '../lib/branches';
import { renderMarkdown } from '../lib/markdown';
import { Sources } from './sources';
import { ToolCalls } from './tool-calls';

interface Props {
  message: Message;
  siblings: Siblings;
  canWrite: boolean;
  busy: boolean;
  onSwitch: (messageId: string) => void;
  onRegenerate: (message: Message) => void;
  onEdit: (message: Message, content: string) => void;
  onFeedback: (message: Message, rating: 'up' | 'down') => void;
}

/** One message of the current branch, with its versions (‹ 2/3 ›), tool calls, sources and actions. */
export function MessageItem({ message, siblings, canWrite, busy, onSwitch, onRegenerate, onEdit, onFeedback }: Props) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const [copied, setCopied] = useState(false);
  const assistant = message.role === 'assistant';
  const html = useMemo(
    () => (assistant ? renderMarkdown(message.content, message.id, message.citations.length) : ''),
    [assistant, message.content, message.id, message.citations.length],
  );
  const headingId = `msg-${message.id}`;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(message.content);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };

  return (
    <article class={`msg msg-${message.role}`} aria-labelledby={headingId}>
      <h3 id={headingId} class="msg-author">
        {assistant ? 'GigaChat' : message.role === 'user' ? 'You' : 'System'}
        {message.status === 'cancelled' && <span class="badge warn">Stopped · partial answer</span>}
        {message.status === 'failed' && <span class="badge bad">Failed</span>}
      </h3>
      {editing ? (
        <form
          class="edit-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (draft.trim()) {
              setEditing(false);
              onEdit(message, draft.trim());
            }
          }}
        >
          <label for={`edit-${message.id}`}>Edit your message</label>
          <textarea id={`edit-${message.id}`} rows={3} value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
          <div class="row">
            <button type="submit" disabled={busy}>
              Save and send
            </button>
            <button type="button" class="secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : assistant ? (
        // Sanitized by renderMarkdown (DOMPurify, raw HTML escaped): no markup from the model executes.
        <div class="markdown" dangerouslySetInnerHTML={{ __html: html }} />
      ) : (
        <p class="user-text">{message.content}</p>
      )}
      {assistant && <ToolCalls calls={message.toolCalls} />}
      {assistant && <Sources messageId={message.id} citations={message.citations} />}
      <div class="msg-actions">
        {siblings.count > 1 && (
          <span class="branch-nav" role="group" aria-label="Versions">
            <button
              type="button"
              class="icon"
              aria-label="Previous version"
              disabled={!siblings.previous || busy || !canWrite}
              onClick={() => siblings.previous && onSwitch(siblings.previous)}
            >
              ‹
            </button>
            <span aria-label={`Version ${siblings.index} of ${siblings.count}`}>
              {siblings.index}/{siblings.count}
            </span>
            <button
              type="button"
              class="icon"
              aria-label="Next version"
              disabled={!siblings.next || busy || !canWrite}
              onClick={() => siblings.next && onSwitch(siblings.next)}
            >
              ›
            </button>
          </span>
        )}
        <button type="button" class="small" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        {message.role === 'user' && canWrite && !editing && (
          <button
            type="button"
            class="small"
            disabled={busy}
            onClick={() => {
              setDraft(message.content);
              setEditing(true);
            }}
          >
            Edit
          </button>
        )}
        {assistant && canWrite && (
          <button type="button" class="small" disabled={busy} onClick={() => onRegenerate(message)}>
            Regenerate
          </button>
        )}
        {assistant && (
          <>
            <button
              type="button"
              class="small"
              aria-pressed={message.feedback?.rating === 'up'}
              aria-label="Good answer"
              onClick={() => onFeedback(message, 'up')}
            >
              <Thumb up />
            </button>
            <button
              type="button"
              class="small"
              aria-pressed={message.feedback?.rating === 'down'}
              aria-label="Bad answer"
              onClick={() => onFeedback(message, 'down')}
            >
              <Thumb />
            </button>
            {message.model && <span class="muted small-text">{message.model}</span>}
          </>
        )}
      </div>
    </article>
  );
}

/** A thumb drawn in SVG (no emoji font needed); the button around it carries the name. */
function Thumb({ up = false }: { up?: boolean }) {
  return (
    <svg
      width="16"
      height="16"
      viewBox="0 0 24 24"
      aria-hidden="true"
      focusable="false"
      transform={up ? undefined : 'rotate(180)'}
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      <path d="M7 10v11H3V10h4zm0 0 4-8a3 3 0 0 1 3 3v4h5.5a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 18.1 21H7" />
    </svg>
  );
}
