import type { DocumentSection } from './extracted-document';

/** A section as a parser found it: its heading's level (1 = top; 0 for the text before any heading) and raw body. */
export interface OutlineSection {
  heading?: string;
  level: number;
  text: string;
}

/** Separates the headings of a section's path: `Guide › Install › Linux`. */
export const HEADING_PATH_SEPARATOR = ' › ';

/**
 * Turns a parser's outline into sections headed by their full heading path (`Guide › Install › Linux`), so a passage
 * keeps the context of every heading above it. A heading with no text of its own and nothing under it is kept as a
 * section whose text is the heading, so its words stay searchable. Sections with neither heading nor text are dropped.
 */
export function outlineToSections(outline: OutlineSection[]): DocumentSection[] {
  const sections: DocumentSection[] = [];
  const path: { level: number; heading: string }[] = [];
  const pathText = (): string | undefined =>
    path.length === 0 ? undefined : path.map((entry) => entry.heading).join(HEADING_PATH_SEPARATOR);
  /** A heading whose section had no text: emitted when the next section turns out not to be under it. */
  let empty: { level: number; heading: string; path: string | undefined } | undefined;

  for (const section of outline) {
    if (section.heading !== undefined) {
      if (empty && section.level <= empty.level) sections.push(withHeading(empty.path, empty.heading));
      empty = undefined;
      while (path.length > 0 && path[path.length - 1]!.level >= section.level) path.pop();
      const parent = pathText();
      path.push({ level: section.level, heading: section.heading });
      if (section.text.trim() === '') {
        empty = { level: section.level, heading: section.heading, path: parent };
        continue;
      }
    }
    if (section.text.trim() !== '') sections.push(withHeading(pathText(), section.text));
  }
  if (empty) sections.push(withHeading(empty.path, empty.heading));
  return sections;
}

function withHeading(heading: string | undefined, text: string): DocumentSection {
  return heading === undefined ? { text } : { heading, text };
}
