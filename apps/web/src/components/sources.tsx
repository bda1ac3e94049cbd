import type { Citation } from '../api/types';
import { sourceAnchor } from '../lib/markdown';

/** The answer's sources, numbered as the answer cites them: `[n]` links here. */
export function Sources({ messageId, citations }: { messageId: string; citations: Citation[] }) {
  if (citations.length === 0) return null;
  return (
    <section class="sources" aria-label="Sources">
      <h4>Sources</h4>
      <ol>
        {citations.map((c, i) => (
          <li key={i} id={sourceAnchor(messageId, i + 1)} tabIndex={-1}>
            {c.kind === 'web' && c.url && /^https?:\/\//i.test(c.url) ? (
              <a href={c.url} target="_blank" rel="noopener noreferrer nofollow">
                {c.title || c.url}
              </a>
            ) : c.kind === 'file' && c.fileId ? (
              <a href={`/files?file=${encodeURIComponent(c.fileId)}`}>{c.title}</a>
            ) : (
              <span>{c.title}</span>
            )}
            <span class="muted"> · {c.kind === 'web' ? 'web page' : 'your file'}</span>
            {c.snippet && <blockquote class="snippet">{c.snippet}</blockquote>}
          </li>
        ))}
      </ol>
    </section>
  );
}
