import { parse as parseCsv } from 'csv-parse/sync';
import * as mammoth from 'mammoth';
import { DocumentError } from './document.error';
import { extractPdfPages } from './extract-pdf-pages';
import type { DocumentSection, ExtractedDocument } from './extracted-document';
import type { DocumentKind } from './file-type';
import { htmlToSections } from './html-sections';
import { markdownToSections } from './markdown-sections';
import { assertZipWithinLimits } from './zip-bomb-check';

export type { DocumentSection, ExtractedDocument } from './extracted-document';

export interface ExtractLimits {
  /** Largest total uncompressed size of a DOCX's parts (default 200 MB). */
  maxUncompressedBytes?: number;
  /** Largest amount of extracted text, in UTF-16 code units (default 20 million). */
  maxTextChars?: number;
  /** Time allowed to read a PDF (default 60 s). */
  pdfTimeoutMs?: number;
  /** Heap ceiling of the thread that reads a PDF (default 512 MB). */
  pdfMaxHeapMb?: number;
}

const DEFAULT_LIMITS: Required<ExtractLimits> = {
  maxUncompressedBytes: 200 * 1024 * 1024,
  maxTextChars: 20_000_000,
  pdfTimeoutMs: 60_000,
  pdfMaxHeapMb: 512,
};
/** A ZIP that unpacks to more than this is also held to MAX_COMPRESSION_RATIO. */
const RATIO_FLOOR_BYTES = 10 * 1024 * 1024;
const MAX_COMPRESSION_RATIO = 100;
/** CSV rows are grouped into sections of about this many characters, each starting with the header row. */
const CSV_SECTION_CHARS = 2000;

/**
 * Extracts the plain text of a document together with its structure (headings, pages, row groups) for chunking.
 * `kind` must come from `detectDocumentKind`. Throws `DocumentError` when the file is damaged, encrypted, too large
 * or has no text.
 */
export async function extractText(
  kind: DocumentKind,
  data: Uint8Array,
  limits: ExtractLimits = {},
): Promise<ExtractedDocument> {
  const effective = { ...DEFAULT_LIMITS, ...limits };
  const document = await extractByKind(kind, data, effective);
  const sections = document.sections
    .map((section) => ({ ...section, text: section.text.trimEnd() }))
    .filter((section) => section.text.trim() !== '');
  if (sections.length === 0) throw new DocumentError('empty', 'The document contains no text.');
  const text = sections
    .map((section) => (section.heading === undefined ? section.text : `${section.heading}\n\n${section.text}`))
    .join('\n\n');
  if (text.length > effective.maxTextChars) throw textTooLarge(effective.maxTextChars);
  return document.pages === undefined ? { text, sections } : { text, sections, pages: document.pages };
}

async function extractByKind(
  kind: DocumentKind,
  data: Uint8Array,
  limits: Required<ExtractLimits>,
): Promise<{ sections: DocumentSection[]; pages?: number }> {
  switch (kind) {
    case 'txt':
      return { sections: [{ text: decodeText(data, limits) }] };
    case 'md':
      return { sections: markdownToSections(decodeText(data, limits)) };
    case 'html':
      return { sections: htmlToSections(decodeText(data, limits)) };
    case 'csv':
      return { sections: csvToSections(decodeText(data, limits)) };
    case 'json':
      return { sections: [{ text: flattenJson(decodeText(data, limits)) }] };
    case 'docx':
      return { sections: await docxToSections(data, limits) };
    case 'pdf': {
      const pages = await extractPdfPages(data, {
        maxTextChars: limits.maxTextChars,
        timeoutMs: limits.pdfTimeoutMs,
        maxHeapMb: limits.pdfMaxHeapMb,
      });
      return {
        pages: pages.length,
        sections: pages.map((page, index) => ({ heading: `Page ${index + 1}`, text: normalizeNewlines(page) })),
      };
    }
  }
}

function decodeText(data: Uint8Array, limits: Required<ExtractLimits>): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch (error) {
    throw new DocumentError('corrupt', 'The file is not valid UTF-8 text.', { cause: error });
  }
  if (text.length > limits.maxTextChars) throw textTooLarge(limits.maxTextChars);
  return normalizeNewlines(text);
}

function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

function textTooLarge(maxTextChars: number): DocumentError {
  return new DocumentError(
    'too_large',
    `The document contains more than ${maxTextChars.toLocaleString('en-US')} characters of text.`,
  );
}

async function docxToSections(data: Uint8Array, limits: Required<ExtractLimits>): Promise<DocumentSection[]> {
  assertZipWithinLimits(data, {
    maxUncompressedBytes: limits.maxUncompressedBytes,
    maxCompressionRatio: MAX_COMPRESSION_RATIO,
    ratioFloorBytes: RATIO_FLOOR_BYTES,
  });
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(data.buffer, data.byteOffset, data.byteLength) },
      // Images carry no text: never unpack them.
      { convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: '' })) },
    );
    html = result.value;
  } catch (error) {
    throw new DocumentError('corrupt', 'The Word document could not be read; the file may be damaged.', {
      cause: error,
    });
  }
  return htmlToSections(html);
}

function csvToSections(text: string): DocumentSection[] {
  let rows: string[][];
  try {
    rows = parseCsv(text, {
      bom: true,
      delimiter: sniffDelimiter(text),
      relax_column_count: true,
      skip_empty_lines: true,
    });
  } catch (error) {
    throw new DocumentError('corrupt', 'The CSV file could not be read; check its quoting.', { cause: error });
  }
  const lines = rows.map((row) => row.map((cell) => cell.replace(/\s+/g, ' ').trim()).join(' | '));
  const [header, ...records] = lines;
  if (header === undefined) return [];
  if (records.length === 0) return [{ text: header }];
  const sections: DocumentSection[] = [];
  let group: string[] = [];
  let size = 0;
  for (const record of records) {
    if (group.length > 0 && size + record.length > CSV_SECTION_CHARS) {
      sections.push({ text: [header, ...group].join('\n') });
      group = [];
      size = 0;
    }
    group.push(record);
    size += record.length + 1;
  }
  sections.push({ text: [header, ...group].join('\n') });
  return sections;
}

/** Picks the separator that occurs most often (outside quotes) in the first line; commas win ties. */
function sniffDelimiter(text: string): string {
  const counts = new Map<string, number>([
    [',', 0],
    [';', 0],
    ['\t', 0],
  ]);
  let quoted = false;
  for (const char of text.slice(0, 10_000)) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '\n') break;
    else if (!quoted && counts.has(char)) counts.set(char, counts.get(char)! + 1);
  }
  let best = ',';
  for (const [delimiter, count] of counts) if (count > counts.get(best)!) best = delimiter;
  return best;
}

/** Flattens JSON into `path.to.key: value` lines, depth-first in document order (iteratively: nesting is unbounded). */
function flattenJson(text: string): string {
  let root: unknown;
  try {
    root = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new DocumentError('corrupt', 'The JSON file could not be read; it is not valid JSON.', { cause: error });
  }
  const lines: string[] = [];
  const stack: { path: string; value: unknown }[] = [{ path: '', value: root }];
  while (stack.length > 0) {
    const { path, value } = stack.pop()!;
    if (Array.isArray(value) && value.length > 0) {
      for (let index = value.length - 1; index >= 0; index--) {
        stack.push({ path: `${path}[${index}]`, value: value[index] as unknown });
      }
    } else if (isObject(value) && Object.keys(value).length > 0) {
      const keys = Object.keys(value);
      for (let index = keys.length - 1; index >= 0; index--) {
        const key = keys[index]!;
        stack.push({ path: joinPath(path, key), value: value[key] });
      }
    } else {
      lines.push(`${path === '' ? '$' : path}: ${formatScalar(value)}`);
    }
  }
  return lines.join('\n');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinPath(path: string, key: string): string {
  if (/^[\p{L}_$][\p{L}\p{N}_$-]*$/u.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function formatScalar(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\s+/g, ' ');
  if (Array.isArray(value)) return '[]';
  if (isObject(value)) return '{}';
  return JSON.stringify(value);
}
