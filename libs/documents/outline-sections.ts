import type { DocumentSection } from './extracted-document';

/** A section as a parser found it: its heading's level (1 = top; 0 for the text before any heading) and raw body. */
export interface OutlineSection {
  heading?: string;
  level: number;
  text: string;
}

/**
 * Turns a parser's outline into sections without losing headings: a heading with no text of its own is folded into
 * the heading of a deeper section right after it (`Guide › Install`), or else kept as
 * a section whose text is the heading.
 * Sections with neither heading nor text are dropped.
 */
export function outlineToSections(outline: OutlineSection[]): DocumentSection[] {
  const sections: DocumentSection[] = [];
  let pending: OutlineSection | undefined;
  for (const section of outline) {
    const current: OutlineSection =
      pending?.heading !== undefined && section.heading !== undefined && section.level > pending.level
        ? { ...section, heading: `${pending.heading} › ${section.heading}` }
        : section;
    if (pending && current === section) sections.push({ text: pending.heading ?? '' });
    pending = undefined;
    if (current.text.trim() !== '') {
      sections.push(
        current.heading === undefined ? { text: current.text } : { heading: current.heading, text: current.text },
      );
    } else if (current.heading !== undefined) {
      pending = current;
    }
  }
  if (pending?.heading !== undefined) sections.push({ text: pending.heading });
  return sections;
}
