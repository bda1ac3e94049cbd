import type { Readable } from 'node:stream';

/** A file's stored bytes and how to present them: what `GET /files/:id/content` sends. */
export interface FileContent {
  fileId: string;
  /** The cleaned file name (for Content-Disposition). */
  name: string;
  size: number;
  /** The media type of the row's kind (never the one the client claimed), with its charset for text kinds. */
  contentType: string;
  body: Readable;
}
