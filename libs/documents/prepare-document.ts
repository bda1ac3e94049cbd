import { createTokenCounter } from '../chat/token-counter';
import { chunkDocument, type DocumentChunk } from './chunk-text';
import { extractText, type ExtractLimits } from './extract-text';
import type { DocumentKind } from './file-type';

export interface PrepareOptions {
  chunkTokens: number;
  overlapTokens: number;
  limits?: ExtractLimits;
}

export interface PreparedDocument {
  chunks: DocumentChunk[];
  characters: number;
  pages?: number;
}

/** Extraction and chunking of one file: the CPU-heavy part of ingestion, pure and synchronous in effect. */
export async function prepareDocument(
  kind: DocumentKind,
  data: Uint8Array,
  options: PrepareOptions,
): Promise<PreparedDocument> {
  const document = await extractText(kind, data, options.limits);
  const tokens = createTokenCounter();
  const chunks = chunkDocument(document, {
    chunkTokens: options.chunkTokens,
    overlapTokens: options.overlapTokens,
    countTokens: (text) => tokens.count(text),
  });
  return {
    chunks,
    characters: document.text.length,
    ...(document.pages !== undefined ? { pages: document.pages } : {}),
  };
}
