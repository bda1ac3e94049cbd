import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { createOpenAiClient } from '../llm/openai-client';
import { EmbeddingError } from './embedding.error';

export { EmbeddingError, type EmbeddingErrorCode } from './embedding.error';

export interface EmbeddingClientOptions {
  /** OpenAI-compatible base URL, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Empty: no Authorization header (local servers). */
  apiKey: string;
  model: string;
  /** Asked of models that can shorten their vectors (`text-embedding-3-*`), and checked on the answer. */
  dimensions?: number;
  timeoutMs: number;
}

/**
 * Embeddings from an OpenAI-compatible `/embeddings` endpoint through the `openai` SDK, as float arrays. The SDK
 * does not retry (the caller's retry policy does); failures are `EmbeddingError`s that say whether to retry.
 */
export class EmbeddingClient {
  readonly model: string;
  readonly #client: OpenAI;
  readonly #apiKey: string | undefined;
  readonly #dimensions: number | undefined;
  readonly #timeoutMs: number;
  readonly #endpoint: string;

  constructor(options: EmbeddingClientOptions) {
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new Error('Embedding client: timeoutMs must be a positive number');
    }
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new Error('Embedding client: baseUrl is not a valid URL');
    }
    this.model = options.model;
    this.#apiKey = options.apiKey || undefined;
    this.#dimensions = options.dimensions;
    this.#timeoutMs = Math.ceil(options.timeoutMs);
    this.#endpoint = `${url.protocol}//${url.host}${url.pathname}`; // no credentials, no query
    this.#client = createOpenAiClient({
      baseUrl: options.baseUrl,
      apiKey: this.#apiKey,
      timeoutMs: this.#timeoutMs,
      logLevel: 'off',
    });
  }

  /** One vector per text, in the order of `texts`. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    let response: OpenAI.CreateEmbeddingResponse;
    const startedAt = performance.now();
    try {
      response = await this.#client.embeddings.create({
        model: this.model,
        input: texts,
        encoding_format: 'float',
        ...(this.#dimensions === undefined ? {} : { dimensions: this.#dimensions }),
      });
    } catch (error) {
      throw this.toEmbeddingError(error, performance.now() - startedAt);
    }
    return this.vectorsOf(response, texts.length);
  }

  private vectorsOf(response: OpenAI.CreateEmbeddingResponse, expected: number): Float32Array[] {
    const bad = (detail: string) => new EmbeddingError('embedding_bad_response', `${this.#endpoint}: ${detail}`, false);
    const data: unknown = response?.data;
    if (!Array.isArray(data) || data.length !== expected) {
      throw bad(`expected ${expected} embeddings, got ${Array.isArray(data) ? data.length : 'none'}`);
    }
    const vectors = new Array<Float32Array | undefined>(expected);
    for (const item of data as OpenAI.Embedding[]) {
      const { index, embedding } = item;
      if (!Number.isInteger(index) || index < 0 || index >= expected || vectors[index] !== undefined) {
        throw bad(`an embedding has a missing, repeated or out-of-range index (${String(index)})`);
      }
      if (!Array.isArray(embedding) || embedding.length === 0 || !embedding.every(Number.isFinite)) {
        throw bad(`embedding ${index} is not a list of numbers`);
      }
      if (this.#dimensions !== undefined && embedding.length !== this.#dimensions) {
        throw bad(`embedding ${index} has ${embedding.length} dimensions, ${this.#dimensions} were asked for`);
      }
      vectors[index] = Float32Array.from(embedding);
    }
    const dims = vectors[0]!.length;
    if (vectors.some((vector) => vector!.length !== dims)) throw bad('embeddings of different lengths');
    return vectors as Float32Array[];
  }

  private toEmbeddingError(error: unknown, elapsedMs: number): EmbeddingError {
    // Under some runtimes (Jest's VM contexts) the SDK cannot recognise fetch's abort and reports a plain connection
    // error; a connection error that took the whole timeout is the timeout.
    const timedOut = error instanceof APIConnectionError && elapsedMs >= this.#timeoutMs;
    if (error instanceof APIConnectionTimeoutError || timedOut) {
      return new EmbeddingError(
        'embedding_timeout',
        `${this.#endpoint} did not answer within ${this.#timeoutMs} ms`,
        true,
      );
    }
    if (error instanceof APIConnectionError) {
      return new EmbeddingError('embedding_unavailable', `Could not reach ${this.#endpoint}`, true);
    }
    if (error instanceof APIError) {
      const apiError = error as APIError;
      const message = `${this.#endpoint}: ${this.redact(apiError.message)}`;
      if (apiError.status === undefined) return new EmbeddingError('embedding_unavailable', message, true);
      return EmbeddingError.fromStatus(apiError.status, message);
    }
    const detail = error instanceof Error ? error.message : String(error);
    return new EmbeddingError('embedding_unavailable', `${this.#endpoint} failed: ${this.redact(detail)}`, true);
  }

  private redact(text: string): string {
    // A key this short is a placeholder, and redacting it would mangle the message.
    return this.#apiKey === undefined || this.#apiKey.length < 4 ? text : text.split(this.#apiKey).join('[redacted]');
  }
}
