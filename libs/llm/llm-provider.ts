/** A function call the model asked for (OpenAI tool-calling format): `arguments` is the model's JSON text, unparsed. */
export interface LlmToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A tool the model may call: its JSON-schema parameters, as the OpenAI `tools` field carries them. */
export interface LlmToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/**
 * One message of a chat prompt, in the order the model should read them. An assistant message may carry the tool calls
 * it made; each is answered by a `tool` message with its `toolCallId`.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  toolCalls?: LlmToolCall[];
  toolCallId?: string;
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
  /** Tools the model may call; `toolChoice: 'none'` forbids calling them (the last step of a tool loop). */
  tools?: LlmToolSpec[];
  toolChoice?: 'auto' | 'none';
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
  /** The tools the model asked to call (finish reason `tool_calls`), in the order it listed them. */
  toolCalls?: LlmToolCall[];
}

/** A source of chat completions. Implementations reject only with `LlmError` (or whatever `onDelta` threw). */
export interface LlmProvider {
  readonly name: string;
  readonly defaultModel: string;
  generate(req: GenerateRequest): Promise<GenerateResult>;
}
