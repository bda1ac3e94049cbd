import type { DocumentSection } from './extracted-document';
import { type OutlineSection, outlineToSections } from './outline-sections';

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const SETEXT_UNDERLINE = /^ {0,3}(?:=+|-+)[ \t]*$/;

/**
 * Splits Markdown into sections at ATX (`# Title`) and setext (`Title` over `===`/`---`) headings, ignoring anything
 * inside fenced code blocks and a leading front-matter block. The Markdown itself is kept as the text.
 */
export function markdownToSections(markdown: string): DocumentSection[] {
  const lines = markdown.split('\n');
  const outline: OutlineSection[] = [];
  let heading: string | undefined;
  let level = 0;
  let body: string[] = [];
  let fence: string | undefined;
  let start = 0;

  if (lines[0] === '---') {
    const end = lines.indexOf('---', 1);
    if (end > 0) {
      body = lines.slice(0, end + 1);
      start = end + 1;
    }
  }

  const closeSection = (): void => {
    const text = body
      .join('\n')
      .replace(/^\s*\n/, '')
      .trimEnd();
    outline.push(heading === undefined ? { level, text } : { heading, level, text });
    body = [];
  };

  for (let index = start; index < lines.length; index++) {
    const line = lines[index]!;
    const fenceMatch = FENCE.exec(line);
    if (fence !== undefined) {
      if (fenceMatch && fenceMatch[1]![0] === fence[0] && fenceMatch[1]!.length >= fence.length) fence = undefined;
      body.push(line);
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      body.push(line);
      continue;
    }
    const atx = ATX_HEADING.exec(line);
    if (atx) {
      closeSection();
      heading = (atx[2] ?? '').trim() || undefined;
      level = atx[1]!.length;
      continue;
    }
    const next = lines[index + 1];
    const previous = body[body.length - 1];
    const startsParagraph = previous === undefined || previous.trim() === '' || FENCE.test(previous);
    if (
      next !== undefined &&
      line.trim() !== '' &&
      startsParagraph &&
      SETEXT_UNDERLINE.test(next) &&
      !/^\s{4}/.test(line)
    ) {
      closeSection();
      heading = line.trim();
      level = next.trim().startsWith('=') ? 1 : 2;
      index++;
      continue;
    }
    body.push(line);
  }
  closeSection();
  return outlineToSections(outline);
}
