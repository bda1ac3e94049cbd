/** A part of a document under one heading (or none); the chunker never merges two sections into one chunk. */
export interface DocumentSection {
  heading?: string;
  text: string;
}

/** The plain text of a document plus the structure the chunker uses. */
export interface ExtractedDocument {
  text: string;
  sections: DocumentSection[];
  /** Number of pages, for PDFs. */
  pages?: number;
}
