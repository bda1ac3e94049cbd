import type { ExtractedDocument } from './extracted-document';

export interface ChunkOptions {
  /** Upper bound on the tokens of every chunk. */
  chunkTokens: number;
  /** About how many tokens consecutive chunks of one section share (whole sentences, else whole words). */
  overlapTokens: number;
  countTokens: (text: string) => number;
}

export interface DocumentChunk {
  /** Position in the document, from 0. */
  seq: number;
  /** Heading of the section the chunk comes from. */
  heading?: string;
  content: string;
  /**
   * `countTokens(content)`, never above `chunkTokens`. For text with runs of over 32 characters the tokenizer cannot
   * split (long base64 or emoji strings), the sum of the counts of 32-character slices instead; see `boundedCount`.
   */
  tokens: number;
}

/** How strongly a piece of text ends: the chunker prefers to cut after the strongest boundary it can. */
const Boundary = {
  /** Inside a word that had to be cut. */
  Glued: 0,
  Word: 1,
  Sentence: 2,
  Line: 3,
  Paragraph: 4,
} as const;
type Boundary = (typeof Boundary)[keyof typeof Boundary];

interface Candidate {
  pieces: Piece[];
  /** How many pieces of the queue it takes (the rest of `pieces` are carried over from the previous chunk). */
  taken: number;
  /** The pieces joined and trimmed. */
  content: string;
  tokens: number;
}

interface Piece {
  /** The text including the whitespace that follows it. */
  text: string;
  end: Boundary;
}

/** Sentence ends (Latin and CJK punctuation) and line breaks, with the whitespace after them. */
const BOUNDARY = /[.!?…]+["'”’»)\]]*\s+|[。！？]+["'”’」』)\]]*\s*|[^\S\n]*\n\s*/g;
const WORD = /\S+\s*/g;
/** Longest run of non-space (or space) characters handed to the tokenizer in one piece. */
const MAX_RUN = 32;
/** First guess of characters per token (English prose with o200k is about 4.5); learned from each chunk after. */
const INITIAL_CHARS_PER_TOKEN = 4;
/** Candidates are sized to this share of the limit by the estimate, so that most fit at the first count. */
const FILL_TARGET = 0.92;
/** A candidate counted below this share of the limit is regrown once with the corrected estimate. */
const UNDERFILLED = 0.75;

/**
 * Splits a document into chunks of at most `chunkTokens` tokens for embedding and retrieval. Sections are chunked
 * on their own and never merged; a section that fits is one chunk. A longer one is cut preferably at a paragraph,
 * then a line, a sentence and finally a word boundary (a word longer than a chunk is cut inside), and each chunk
 * repeats about `overlapTokens` worth of whole sentences (else words) from the end of the previous one.
 *
 * Tokenizing dominates the cost, so candidates are sized by a characters-per-token estimate learned as it goes and
 * each candidate is counted once, whole: the text is tokenized a little more than once in total, in few calls.
 * Deterministic; never returns empty chunks.
 */
export function chunkDocument(doc: ExtractedDocument, options: ChunkOptions): DocumentChunk[] {
  const { chunkTokens, overlapTokens } = options;
  if (!Number.isInteger(chunkTokens) || chunkTokens < 1) throw new RangeError('chunkTokens must be a positive integer');
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= chunkTokens) {
    throw new RangeError('overlapTokens must be an integer from 0 to chunkTokens - 1');
  }
  const chunker = new SectionChunker(chunkTokens, overlapTokens);
  const bounded = boundedCount(options.countTokens);
  const chunks: DocumentChunk[] = [];
  for (const section of doc.sections) {
    // Every candidate chunk is a piece of its section's text, so a section without a long run needs no check per
    // candidate: counted whole, as `boundedCount` would count them.
    const count = hasLongRun(section.text) ? bounded : options.countTokens;
    for (const { content, tokens } of chunker.chunk(section.text, count)) {
      chunks.push(
        section.heading === undefined
          ? { seq: chunks.length, content, tokens }
          : { seq: chunks.length, heading: section.heading, content, tokens },
      );
    }
  }
  return chunks;
}

class SectionChunker {
  /** Learned characters per token, carried from section to section. */
  private charsPerToken = INITIAL_CHARS_PER_TOKEN;

  /** The token count of the section being chunked. */
  private count: (text: string) => number = () => 0;

  constructor(
    private readonly limit: number,
    private readonly overlap: number,
  ) {}

  chunk(sectionText: string, count: (text: string) => number): { content: string; tokens: number }[] {
    this.count = count;
    const text = sectionText.trim();
    if (text === '') return [];
    const queue = new PieceQueue(splitSentences(text));
    const chunks: { content: string; tokens: number }[] = [];
    let carried: Piece[] = [];
    while (queue.length > 0) {
      const chunk = this.nextChunk(queue, carried);
      if (chunk.content !== '') chunks.push({ content: chunk.content, tokens: chunk.tokens });
      queue.consume(chunk.taken);
      carried = queue.length > 0 ? this.overlapFrom(chunk.pieces) : [];
    }
    return chunks;
  }

  /**
   * Finds the next chunk: the pieces that fit the estimated budget, cut at the best boundary, counted once. A
   * candidate that counts over the limit shrinks in proportion; one well under it grows once with the corrected
   * estimate; a single piece over the limit is split further.
   */
  private nextChunk(queue: PieceQueue, carriedIn: Piece[]): Candidate {
    let carried = carriedIn;
    let targetChars = this.limit * this.charsPerToken * FILL_TARGET;
    let fitting: Candidate | undefined;
    for (;;) {
      // A first piece far beyond the budget is split before it is ever counted.
      while (queue.at(0)!.text.length > Math.max(targetChars * 3, MAX_RUN) && queue.refineFirst()) {
        // keep splitting
      }
      while (carried.length > 0 && sumChars(carried) + queue.at(0)!.text.length > targetChars)
        carried = carried.slice(1);
      const taken = cutWithin(queue, targetChars - sumChars(carried));
      const pieces = [...carried, ...queue.slice(taken)];
      const content = joinPieces(pieces).trim();
      const chars = content.length;
      const tokens = this.count(content);
      if (tokens > 0) this.charsPerToken = (this.charsPerToken + chars / tokens) / 2;
      const candidate = { pieces, taken, content, tokens };

      if (tokens <= this.limit) {
        if (fitting || taken === queue.length || tokens >= this.limit * UNDERFILLED) return candidate;
        const grown = (chars * this.limit * FILL_TARGET) / Math.max(1, tokens);
        // Short because it ends at a good boundary rather than because the estimate was off: nothing to gain.
        if (cutWithin(queue, grown - sumChars(carried)) === taken) return candidate;
        fitting = candidate;
        targetChars = grown;
      } else if (fitting) {
        return fitting;
      } else if (taken > 1) {
        // Shrinks by at least 8% each time.
        targetChars = (chars * this.limit * FILL_TARGET) / tokens;
      } else if (carried.length > 0) {
        carried = [];
      } else if (!queue.refineFirst()) {
        // One character that is more tokens than a whole chunk (only with tiny limits): kept, on its own.
        return candidate;
      }
    }
  }

  /**
   * The last whole sentences (or, when the last sentence is too long, words) of a chunk, about `overlap` tokens by
   * the learned estimate: not counted, as that would tokenize the overlap once more for every chunk.
   */
  private overlapFrom(chunk: Piece[]): Piece[] {
    if (this.overlap === 0) return [];
    const budget = this.overlap * this.charsPerToken * FILL_TARGET;
    const carried: Piece[] = [];
    let chars = 0;
    for (let index = chunk.length - 1; index >= 0; index--) {
      const piece = chunk[index]!;
      if (chars + piece.text.length > budget) {
        if (carried.length === 0) carried.push(...lastWords(piece, budget));
        break;
      }
      carried.unshift(piece);
      chars += piece.text.length;
    }
    return carried;
  }
}
/** The pieces still to chunk; the first can be replaced by finer pieces without copying the rest. */
class PieceQueue {
  private front: Piece[] = [];
  private frontStart = 0;
  private next = 0;

  constructor(private readonly pieces: Piece[]) {}

  get length(): number {
    return this.front.length - this.frontStart + this.pieces.length - this.next;
  }

  at(index: number): Piece | undefined {
    const inFront = this.front.length - this.frontStart;
    return index < inFront ? this.front[this.frontStart + index] : this.pieces[this.next + index - inFront];
  }

  slice(count: number): Piece[] {
    return Array.from({ length: count }, (_, index) => this.at(index)!);
  }

  consume(count: number): void {
    const inFront = this.front.length - this.frontStart;
    if (count < inFront) {
      this.frontStart += count;
      return;
    }
    this.front = [];
    this.frontStart = 0;
    this.next += count - inFront;
  }

  /** Splits the first piece into words, a long word into runs, a run into characters; false if it cannot. */
  refineFirst(): boolean {
    const first = this.at(0);
    if (!first) return false;
    const parts = refine(first);
    if (parts.length <= 1) return false;
    if (this.front.length - this.frontStart > 0) {
      this.front.splice(this.frontStart, 1, ...parts);
    } else {
      this.front = parts;
      this.frontStart = 0;
      this.next++;
    }
    return true;
  }
}

/** How many queued pieces to take within `targetChars`: at least one, ending at the strongest boundary past half. */
function cutWithin(queue: PieceQueue, targetChars: number): number {
  let chars = 0;
  let fitted = 1;
  let best = 0;
  let bestBoundary: number = -1;
  for (let index = 0; index < queue.length; index++) {
    const piece = queue.at(index)!;
    if (index > 0 && chars + piece.text.length > targetChars) break;
    chars += piece.text.length;
    fitted = index + 1;
    if (chars >= targetChars / 2 && piece.end >= bestBoundary) {
      best = index + 1;
      bestBoundary = piece.end;
    }
  }
  return fitted === queue.length || best === 0 ? fitted : best;
}

function splitSentences(text: string): Piece[] {
  const pieces: Piece[] = [];
  let start = 0;
  for (const match of text.matchAll(BOUNDARY)) {
    const end = match.index + match[0].length;
    const newlines = countNewlines(match[0]);
    const boundary = newlines >= 2 ? Boundary.Paragraph : newlines === 1 ? Boundary.Line : Boundary.Sentence;
    if (end > start) pieces.push({ text: text.slice(start, end), end: boundary });
    start = end;
  }
  if (start < text.length) pieces.push({ text: text.slice(start), end: Boundary.Paragraph });
  return pieces;
}

function refine(piece: Piece): Piece[] {
  const words = piece.text.match(WORD) ?? [];
  if (words.length > 1 || (words.length === 1 && words[0].length < piece.text.length)) {
    return withEnd(words, Boundary.Word, piece.end);
  }
  if (piece.text.length > MAX_RUN) return withEnd(sliceRuns(piece.text), Boundary.Glued, piece.end);
  return withEnd(Array.from(piece.text), Boundary.Glued, piece.end);
}

function withEnd(texts: string[], inner: Boundary, last: Boundary): Piece[] {
  return texts.map((text, index) => ({ text, end: index === texts.length - 1 ? last : inner }));
}

function lastWords(piece: Piece, budgetChars: number): Piece[] {
  const words = piece.text.match(WORD) ?? [];
  const carried: Piece[] = [];
  let chars = 0;
  for (let index = words.length - 1; index > 0; index--) {
    const word = words[index]!;
    if (chars + word.length > budgetChars) break;
    carried.unshift({ text: word, end: index === words.length - 1 ? piece.end : Boundary.Word });
    chars += word.length;
  }
  return carried;
}

/**
 * BPE tokenizers take time quadratic in the length of a run of characters they cannot pre-split (8,000 emoji or
 * capital letters in a row take tens of seconds with js-tiktoken). Text with a run longer than MAX_RUN is therefore
 * counted in slices of at most MAX_RUN characters and the counts added: linear, and slightly over-counting.
 */
function boundedCount(count: (text: string) => number): (text: string) => number {
  return (text) => {
    if (!hasLongRun(text)) return count(text);
    let total = 0;
    for (const slice of sliceRuns(text)) total += count(slice);
    return total;
  };
}

/** Whether the text has more than MAX_RUN spaces or non-spaces in a row (a hand-written scan: a regex is 5x slower). */
function hasLongRun(text: string): boolean {
  let run = 0;
  let runIsSpace = false;
  for (let index = 0; index < text.length; index++) {
    const space = isSpace(text.charCodeAt(index));
    run = space === runIsSpace ? run + 1 : 1;
    runIsSpace = space;
    if (run > MAX_RUN) return true;
  }
  return false;
}

/** The characters `\s` matches. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** Cuts text into slices of at most MAX_RUN characters, never between the halves of a surrogate pair. */
function sliceRuns(text: string): string[] {
  const slices: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + MAX_RUN);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    slices.push(text.slice(start, end));
    start = end;
  }
  return slices;
}

function countNewlines(text: string): number {
  let newlines = 0;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) newlines++;
  return newlines;
}

function sumChars(pieces: Piece[]): number {
  let total = 0;
  for (const piece of pieces) total += piece.text.length;
  return total;
}

function joinPieces(pieces: Piece[]): string {
  let text = '';
  for (const piece of pieces) text += piece.text;
  return text;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
