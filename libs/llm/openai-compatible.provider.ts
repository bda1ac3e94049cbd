import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { createOpenAiClient } from './openai-client';

import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ChatMessage, GenerateRequest, GenerateResult, LlmProvider, LlmToolCall } from './llm-provider';
import { LlmError } from './llm.error';

export interface OpenAiCompatibleProviderOptions {
  /** Reported as `GenerateResult.provider` and used in error messages. */
  name: string;
  /** Base URL of the API, including the version segment, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; omit for local servers that need none (then no header is sent). */
  apiKey?: string;
  /** Model used when a request names none. */
  model: string;
  /**
   * Longest silence tolerated from the provider: until the response starts, and then between two streamed chunks.
   * It bounds a stalled call without cutting off a long answer that is still flowing; the overall bound is the
   * caller's (the Temporal activity's start-to-close timeout).
   */
  timeoutMs: number;
}

/** Thrown out of the stream loop to carry an error of the caller's `onDelta` past the SDK error mapping. */
class ConsumerError extends Error {
  constructor(readonly error: unknown) {
    super('onDelta failed');
  }
}

/**
 * Any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, llama.cpp, Ollama, LiteLLM, …) through the official
 * SDK. Always streams; never retries (the caller's retry policy does); rejects only with `LlmError` (or what
 * `onDelta` threw).
 */
export class OpenAiCompatibleProvider implements LlmProvider {
  readonly name: string;
  readonly defaultModel: string;
  // ECMAScript-private so neither the key nor the client holding it shows up when this object is logged or inspected.
  readonly #client: OpenAI;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #endpoint: string;

  constructor(options: OpenAiCompatibleProviderOptions) {
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new Error(`LLM provider ${options.name}: timeoutMs must be a positive number`);
    }
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new Error(`LLM provider ${options.name}: baseUrl is not a valid URL`);
    }
    this.name = options.name;
    this.defaultModel = options.model;
    this.#apiKey = options.apiKey || undefined;
    this.#timeoutMs = Math.ceil(options.timeoutMs);
    this.#endpoint = `${url.protocol}//${url.host}${url.pathname}`; // no credentials, no query
    this.#client = createOpenAiClient({
      baseUrl: options.baseUrl,
      apiKey: this.#apiKey,
      timeoutMs: this.#timeoutMs,
      logLevel: 'warn',
    });
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const model = req.model ?? this.defaultModel;
    const { signal } = req;
    if (signal?.aborted) throw LlmError.aborted();

    // One controller for the HTTP call, aborted by the caller's signal or by silence from the provider.
    const controller = new AbortController();
    const onCallerAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const armTimer = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.#timeoutMs);
    };
    const stopped = (): LlmError =>
      timedOut
        ? LlmError.timeout(`${this.name} sent nothing for ${this.#timeoutMs} ms`)
        : LlmError.aborted(`The generation by ${this.name} was aborted`);

    let content = '';
    let finishReason: string | undefined;
    let reportedModel: string | undefined;
    let usage: GenerateResult['usage'];
    // Streamed tool calls arrive in pieces, keyed by their index: the id and name first, the arguments in fragments.
    const toolCalls = new Map<number, LlmToolCall>();
    armTimer();
    try {
      const stream = await this.#client.chat.completions.create(
        {
          model,
          messages: req.messages.map(toWireMessage),
          stream: true,
          ...(req.tools && req.tools.length > 0
            ? {
                tools: req.tools.map(({ name, description, parameters }) => ({
                  type: 'function' as const,
                  function: { name, description, parameters },
                })),
                tool_choice: req.toolChoice ?? 'auto',
              }
            : {}),
          stream_options: { include_usage: true },
          ...(req.maxTokens !== undefined ? { max_tokens: req.maxTokens } : {}),
          ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        },
        { signal: controller.signal },
      );
      for await (const chunk of stream) {
        // Chunks already decoded when an abort lands are still yielded; deliver none of them.
        if (controller.signal.aborted) break;
        armTimer();
        reportedModel ||= chunk.model;
        if (chunk.usage) {
          usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
        }
        const choice = chunk.choices[0];
        if (!choice) continue;
        const delta = (choice.delta.content ?? '') + (choice.delta.refusal ?? '');
        if (delta !== '') {
          content += delta;
          if (req.onDelta) {
            // A slow consumer is not a silent provider.
            clearTimeout(timer);
            try {
              await req.onDelta(delta);
            } catch (err) {
              throw new ConsumerError(err);
            }
            armTimer();
          }
        }
        for (const piece of choice.delta.tool_calls ?? []) {
          const call = toolCalls.get(piece.index) ?? { id: '', name: '', arguments: '' };
          if (piece.id) call.id = piece.id;
          if (piece.function?.name) call.name += piece.function.name;
          if (piece.function?.arguments) call.arguments += piece.function.arguments;
          toolCalls.set(piece.index, call);
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
      // The SDK ends a stream quietly when its request is aborted mid-body.
      if (controller.signal.aborted) throw stopped();
    } catch (err) {
      if (err instanceof ConsumerError) throw err.error;
      if (err instanceof LlmError) throw err;
      if (timedOut || controller.signal.aborted || err instanceof APIUserAbortError) throw stopped();
      throw this.toLlmError(err);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
    }

    return {
      content,
      model: reportedModel || model,
      provider: this.name,
      finishReason: finishReason ?? 'unknown',
      ...(usage ? { usage } : {}),
      ...(toolCalls.size > 0
        ? {
            toolCalls: [...toolCalls.entries()]
              .sort(([a], [b]) => a - b)
              .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` })),
          }
        : {}),
    };
  }

  private toLlmError(err: unknown): LlmError {
    const cause = this.mentionsKey(err) ? undefined : err;
    if (err instanceof APIConnectionTimeoutError) {
      return LlmError.timeout(`${this.name} did not answer within ${this.#timeoutMs} ms`, cause);
    }
    if (err instanceof APIConnectionError) {
      return LlmError.unavailable(`Could not reach ${this.name} at ${this.#endpoint}: ${rootCause(err)}`, cause);
    }
    if (err instanceof APIError) {
      // `instanceof` narrows to APIError<any, any, any>; the class's declared defaults are what it really holds.
      const apiError = err as APIError;
      const { status, headers } = apiError;
      const message = `${this.name}: ${this.redact(err.message)}`;
      // No status: the provider sent an error event in the middle of the stream.
      if (status === undefined) return LlmError.unavailable(message, cause);
      return LlmError.fromStatus(status, message, { retryAfterMs: retryAfterMs(headers), cause });
    }
    // Anything else is the provider's fault and may not recur: a connection dropped mid-stream ("terminated"),
    // an event that is not JSON, a stream without a body.
    return LlmError.unavailable(`${this.name} failed: ${this.redact(rootCause(err))}`, cause);
  }

  private redact(text: string): string {
    // A key this short is a placeholder, and redacting it would mangle the message.
    return this.#apiKey === undefined || this.#apiKey.length < 4 ? text : text.split(this.#apiKey).join('[redacted]');
  }

  private mentionsKey(err: unknown): boolean {
    if (this.#apiKey === undefined || !(err instanceof Error)) return false;
    const body = err instanceof APIError ? JSON.stringify(err.error ?? null) : '';
    return err.message.includes(this.#apiKey) || body.includes(this.#apiKey);
  }
}

/** A prompt message as the chat completions API takes it (tool calls and their results included). */
function toWireMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content };
    case 'assistant':
      return message.toolCalls && message.toolCalls.length > 0
        ? {
            role: 'assistant',
            content: message.content === '' ? null : message.content,
            tool_calls: message.toolCalls.map((call) => ({
              id: call.id,
              type: 'function' as const,
              function: { name: call.name, arguments: call.arguments },
            })),
          }
        : { role: 'assistant', content: message.content };
    default:
      return { role: message.role, content: message.content };
  }
}

/** The innermost message of an error chain, e.g. `connect ECONNREFUSED 127.0.0.1:1` under "Connection error.". */
function rootCause(err: unknown): string {
  // Duck-typed rather than `instanceof Error`: fetch's errors may come from another realm (Jest's VM context).
  const isErrorLike = (x: unknown): x is { message?: unknown; code?: unknown; cause?: unknown } =>
    typeof x === 'object' && x !== null && ('message' in x || 'code' in x);
  let current: unknown = err;
  for (let depth = 0; depth < 5 && isErrorLike(current) && isErrorLike(current.cause); depth++) {
    current = current.cause;
  }
  if (!isErrorLike(current)) return String(current);
  const message = typeof current.message === 'string' ? current.message : '';
  const code = typeof current.code === 'string' ? current.code : '';
  return message || code || 'unknown error';
}

/** `retry-after-ms` (OpenAI's), else `Retry-After` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const raw = headers?.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number.parseFloat(raw) * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
