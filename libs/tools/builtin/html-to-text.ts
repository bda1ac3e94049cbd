/**
 * Reduces an HTML page to the readable text a model needs. Deliberately simple regexes, not a DOM: the output is
 * only read by the model, so an odd page that leaves some markup behind costs a little noise, never a security
 * hole (the text is never rendered as HTML).
 */
export function htmlToText(html: string): { title?: string; text: string } {
  const title = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html)?.[1];
  const text = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(/<(script|style|noscript|template|svg|head)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
    // Line breaks in the source are plain spaces in HTML; the lines of the text come from block elements.
    .replace(/\s+/g, ' ')
    .replace(/<(?:br|hr)\b[^>]*>/gi, '\n')
    .replace(
      /<\/?(?:p|div|section|article|main|header|footer|nav|aside|li|ul|ol|tr|table|h[1-6]|pre|blockquote)\b[^>]*>/gi,
      '\n',
    )
    .replace(/<\/?(?:td|th)\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '');
  const cleanTitle =
    title === undefined ? undefined : collapseWhitespace(decodeEntities(title.replace(/<[^>]*>/g, '')));
  return { ...(cleanTitle ? { title: cleanTitle } : {}), text: collapseWhitespace(decodeEntities(text)) };
}

/** Spaces within a line collapse to one; runs of blank lines collapse to a single blank line. */
export function collapseWhitespace(text: string): string {
  return text
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  mdash: '—',
  ndash: '–',
  hellip: '…',
  copy: '©',
  laquo: '«',
  raquo: '»',
  rsquo: '’',
  lsquo: '‘',
  rdquo: '”',
  ldquo: '“',
};

/** The common named entities and every numeric one; unknown names are left as written. */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '';
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
  });
}
