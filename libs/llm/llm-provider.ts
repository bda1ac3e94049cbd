/** One message of a chat prompt, in the order the model should read them. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerateRequest {
  /** Model to use; the provider's `defaultModel` when omitted. */
  model?: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  /** Aborting stops the generation (and its HTTP call); `generate` then rejects with an `llm_aborted` LlmError. */
  signal?: AbortSignal;
  /**
   * Called once per piece of generated text, in order. A returned promise is awaited before the next piece is
   * delivered, so a slow consumer applies back-pressure. An error thrown here aborts the generation and is rethrown
   * by `generate` unchanged.
   */
  onDelta?: (delta: string) => void | Promise<void>;
}

export interface GenerateResult {
  /** The whole reply: the concatenation of every delta passed to `onDelta`. */
  content: string;
  /** The model that answered, as reported by the provider. */
  model: string;
  provider: string;
  /** `stop`, `length`, `content_filter`, … as reported by the provider; `unknown` when it reported none. */
  finishReason: string;
  usage?: { promptTokens: number; completionTokens: number };
}

/** A source of chat completions. Implementations reject only with `LlmError` (or whatever `onDelta` threw). */
export interface LlmProvider {
  readonly name: string;
  readonly defaultModel: string;
  generate(req: GenerateRequest): Promise<GenerateResult>;
}
