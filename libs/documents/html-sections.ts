import { Parser } from 'htmlparser2';
import type { DocumentSection } from './extracted-document';
import { type OutlineSection, outlineToSections } from './outline-sections';

/** Elements whose content is never text a reader sees. */
const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object']);
/** Elements that end a paragraph: a blank line in the output. */
const PARAGRAPHS = new Set([
  'p',
  'blockquote',
  'pre',
  'table',
  'ul',
  'ol',
  'dl',
  'section',
  'article',
  'aside',
  'header',
  'footer',
  'main',
  'nav',
  'figure',
  'form',
  'fieldset',
  'details',
  'address',
  'hr',
  'title',
]);
/** Elements that end a line. */
const LINES = new Set(['div', 'li', 'tr', 'dt', 'dd', 'br', 'caption', 'figcaption', 'summary', 'legend', 'option']);
const CELLS = new Set(['td', 'th']);
const HEADING = /^h[1-6]$/;

/**
 * Turns HTML into plain-text sections, one per h1–h6 heading (plus the text before the first): script, style and
 * similar contents dropped, entities decoded, block boundaries kept as line breaks and paragraphs as blank lines.
 */
export function htmlToSections(html: string): DocumentSection[] {
  const outline: OutlineSection[] = [];
  let heading: string | undefined;
  let level = 0;
  let openingLevel = 0;
  let body = '';
  let headingText: string | undefined;
  let skipDepth = 0;
  let preDepth = 0;

  const append = (text: string): void => {
    if (headingText !== undefined) headingText += text;
    else body += text;
  };
  const breakLine = (blankLine: boolean): void => {
    if (headingText !== undefined) {
      headingText += ' ';
      return;
    }
    body = body.replace(/[ \t]+$/, '');
    if (body === '' || body.endsWith('\n\n')) return;
    body += blankLine ? (body.endsWith('\n') ? '\n' : '\n\n') : body.endsWith('\n') ? '' : '\n';
  };
  const closeSection = (): void => {
    const text = tidy(body);
    outline.push(heading === undefined ? { level, text } : { heading, level, text });
    body = '';
  };

  const parser = new Parser(
    {
      onopentag(name) {
        if (SKIPPED.has(name)) skipDepth++;
        if (skipDepth > 0) return;
        if (HEADING.test(name)) {
          closeSection();
          headingText = '';
          openingLevel = Number(name[1]);
        } else if (name === 'pre') {
          breakLine(true);
          preDepth++;
        } else if (PARAGRAPHS.has(name)) breakLine(true);
        else if (LINES.has(name)) breakLine(false);
      },
      ontext(text) {
        if (skipDepth > 0) return;
        if (preDepth > 0) {
          append(text);
          return;
        }
        const collapsed = text.replace(/\s+/g, ' ');
        const atLineStart = headingText === undefined ? body === '' || body.endsWith('\n') : headingText === '';
        append(atLineStart ? collapsed.trimStart() : collapsed);
      },
      onclosetag(name) {
        if (SKIPPED.has(name)) {
          skipDepth = Math.max(0, skipDepth - 1);
          return;
        }
        if (skipDepth > 0) return;
        if (HEADING.test(name) && headingText !== undefined) {
          const text = headingText.replace(/\s+/g, ' ').trim();
          headingText = undefined;
          heading = text === '' ? undefined : text;
          level = openingLevel;
        } else if (name === 'pre') {
          preDepth = Math.max(0, preDepth - 1);
          breakLine(true);
        } else if (PARAGRAPHS.has(name)) breakLine(true);
        else if (LINES.has(name)) breakLine(false);
        else if (CELLS.has(name) && headingText === undefined) body += '\t';
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  if (headingText !== undefined) {
    const text = headingText.replace(/\s+/g, ' ').trim();
    heading = text === '' ? undefined : text;
    level = openingLevel;
    headingText = undefined;
  }
  closeSection();
  return outlineToSections(outline);
}

function tidy(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
}
