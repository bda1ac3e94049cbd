import DOMPurify from 'dompurify';
import { Marked, type Tokens } from 'marked';

/**
 * Answers are Markdown written by a model that may have read hostile web pages and files, so nothing in them may
 * execute: raw HTML is shown as text (never parsed), images become plain links (no tracking pixels), and the result is
 * sanitized by DOMPurify, which also drops `javascript:` and other script-bearing URLs. Links open in a new tab
 * without a referrer. `[n]` becomes a link to the n-th source when the message has that many.
 */

interface CiteContext {
  messageId: string;
  count: number;
}

let context: CiteContext = { messageId: '', count: 0 };

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const sourceAnchor = (messageId: string, n: number): string => `src-${messageId}-${n}`;

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(token.text);
    },
    image(token: Tokens.Image): string {
      const label = escapeHtml(token.text || token.href);
      return `<a href="${escapeHtml(token.href)}">${label}</a>`;
    },
    code(token: Tokens.Code): string {
      const lang = (token.lang ?? '').match(/^[\w+#.-]+/)?.[0] ?? '';
      const label = lang ? ` aria-label="${escapeHtml(lang)} code"` : ' aria-label="code"';
      const cls = lang ? ` class="language-${escapeHtml(lang)}"` : '';
      // Focusable, so a long line can be scrolled with the keyboard.
      return `<pre tabindex="0"${label}><code${cls}>${escapeHtml(token.text)}</code></pre>\n`;
    },
    // A message's heading is an h3: the answer's own headings sit below it (# → h4 … capped at h6).
    heading(
      this: { parser: { parseInline(tokens: Tokens.Heading['tokens']): string } },
      token: Tokens.Heading,
    ): string {
      const level = Math.min(6, token.depth + 3);
      return `<h${level}>${this.parser.parseInline(token.tokens)}</h${level}>\n`;
    },
    checkbox({ checked }: Tokens.Checkbox): string {
      return checked ? '☑ ' : '☐ ';
    },
  },
  extensions: [
    {
      name: 'citation',
      level: 'inline',
      start: (src: string) => src.match(/\[\d{1,3}\]/)?.index,
      tokenizer(src: string) {
        const match = /^\[(\d{1,3})\]/.exec(src);
        if (!match) return undefined;
        const n = Number(match[1]);
        if (n < 1 || n > context.count) return undefined;
        return { type: 'citation', raw: match[0], n };
      },
      renderer(token) {
        const n = (token as unknown as { n: number }).n;
        return `<a class="cite" href="#${sourceAnchor(context.messageId, n)}" aria-label="Source ${n}">[${n}]</a>`;
      },
    },
  ],
});

let hooked = false;
function installHooks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName !== 'A') return;
    const href = node.getAttribute('href') ?? '';
    if (href.startsWith('#')) return;
    if (!/^(https?:|mailto:)/i.test(href)) {
      node.removeAttribute('href');
      return;
    }
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  });
}

/** Safe HTML for a message's Markdown. */
export function renderMarkdown(markdown: string, messageId = '', citationCount = 0): string {
  installHooks();
  context = { messageId, count: citationCount };
  const html = marked.parse(markdown) as string;
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'img', 'video', 'audio', 'iframe'],
    FORBID_ATTR: ['style', 'id', 'name'],
  });
}
