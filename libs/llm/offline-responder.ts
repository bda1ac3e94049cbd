import type { ChatMessage, GenerateRequest, GenerateResult, LlmProvider } from './llm-provider';
import { LlmError } from './llm.error';

/** A numbered context passage found in a system message as a line `[n] title: text`. */
export interface ContextSource {
  number: number;
  title: string;
  text: string;
}

const MAX_SOURCES_MENTIONED = 3;
const MAX_QUOTE_CHARS = 400;
const MAX_EXCERPT_CHARS = 240;

/**
 * The stand-in used when no language model is configured: deterministic, no network. It says so plainly, quotes the
 * question and points at the best context passages by their numbers, so the citations in the reply still resolve.
 */
export class OfflineResponder implements LlmProvider {
  readonly name = 'offline';
  readonly defaultModel = 'offline';

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const { signal } = req;
    if (signal?.aborted) throw LlmError.aborted();
    let pieces = splitIntoWords(composeOfflineReply(req.messages));
    let finishReason = 'stop';
    if (req.maxTokens !== undefined && pieces.length > req.maxTokens) {
      pieces = pieces.slice(0, Math.max(0, req.maxTokens));
      finishReason = 'length';
    }
    let content = '';
    for (const piece of pieces) {
      if (signal?.aborted) throw LlmError.aborted();
      await req.onDelta?.(piece);
      content += piece;
    }
    // No model ran, so no usage is reported.
    return { content, model: this.defaultModel, provider: this.name, finishReason };
  }
}

export function composeOfflineReply(messages: readonly ChatMessage[]): string {
  const question = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const sources = parseContextSources(messages);
  const parts = [
    'No language model is configured on this server, so this is an automatic reply, not an AI-written answer.',
  ];
  const quoted = truncate(collapseWhitespace(question), MAX_QUOTE_CHARS);
  parts.push(quoted === '' ? 'Your message was empty.' : `You asked: "${quoted}"`);
  if (sources.length === 0) {
    parts.push('No documents or web results were found for it, so there is nothing more to go on.');
  } else {
    const words = contentWords(question);
    const lines = sources.slice(0, MAX_SOURCES_MENTIONED).map((source) => {
      const excerpt = bestExcerpt(source.text, words);
      const label = source.title === '' ? `[${source.number}]` : `[${source.number}] ${source.title}`;
      return excerpt === '' ? `- ${label}` : `- ${label}: ${excerpt}`;
    });
    const more = sources.length - lines.length;
    if (more > 0) lines.push(`(${more} more source${more === 1 ? '' : 's'} not shown.)`);
    const intro =
      sources.length === 1 ? 'This passage was found for it:' : 'These are the most relevant passages found for it:';
    parts.push([intro, ...lines].join('\n'));
  }
  parts.push('For real answers, an administrator needs to configure a language model provider.');
  return parts.join('\n\n');
}

/**
 * The context passages in the system messages: lines `[n] title: text` (the title ends at the first colon followed
 * by a space, so URLs in titles survive), continued by following lines up to a blank line or the next `[m]`.
 * Ordered as given, which is the retrieval's ranking; a repeated number keeps its first passage.
 */
export function parseContextSources(messages: readonly ChatMessage[]): ContextSource[] {
  const sources: ContextSource[] = [];
  const seen = new Set<number>();
  for (const message of messages) {
    if (message.role !== 'system') continue;
    let current: ContextSource | undefined;
    for (const line of message.content.split(/\r?\n/)) {
      const start = /^\s*\[(\d+)\]\s*(.*)$/.exec(line);
      if (start) {
        const number = Number(start[1]);
        const rest = start[2] ?? '';
        const colon = /:\s/.exec(rest);
        const source: ContextSource =
          colon === null
            ? { number, title: '', text: rest.trim() }
            : { number, title: rest.slice(0, colon.index).trim(), text: rest.slice(colon.index + 1).trim() };
        current = seen.has(number) ? undefined : source;
        if (current) {
          seen.add(number);
          sources.push(current);
        }
      } else if (line.trim() === '') {
        current = undefined;
      } else if (current) {
        current.text = `${current.text} ${line.trim()}`.trim();
      }
    }
  }
  return sources;
}

/** The sentence of `text` sharing most words with the question (the first one on a tie), shortened. */
function bestExcerpt(text: string, questionWords: ReadonlySet<string>): string {
  const sentences = collapseWhitespace(text).match(/[^.!?]+(?:[.!?]+|$)/g) ?? [];
  let best = '';
  let bestScore = -1;
  for (const sentence of sentences) {
    const trimmed = sentence.trim();
    if (trimmed === '') continue;
    let score = 0;
    for (const word of contentWords(trimmed)) if (questionWords.has(word)) score++;
    if (score > bestScore) {
      best = trimmed;
      bestScore = score;
    }
  }
  return truncate(best, MAX_EXCERPT_CHARS);
}

function contentWords(text: string): Set<string> {
  return new Set((text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 2));
}

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Word-sized pieces whose concatenation is the text. */
function splitIntoWords(text: string): string[] {
  return text.match(/\s*\S+\s*|\s+/g) ?? [];
}
