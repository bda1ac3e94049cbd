import type { Logger } from '../logging/logger';
import { CircuitOpenError } from '../resilience/circuit-open.error';
import type { GenerateRequest, GenerateResult, LlmProvider } from './llm-provider';
import { LlmError } from './llm.error';
import type { ModelCatalog } from './provider-registry';

/** What a provider's circuit breaker must offer (`RedisCircuitBreaker` does); rejects with `CircuitOpenError`. */
export interface ProviderBreaker {
  run<T>(fn: () => Promise<T>, isFailure?: (error: unknown) => boolean): Promise<T>;
}

export interface FallbackLlmProviderOptions {
  catalog: ModelCatalog;
  /** The client of each provider of the catalog, by provider name. */
  providers: ReadonlyMap<string, LlmProvider>;
  /** Each provider's breaker, shared by every worker; none = calls are never short-circuited. */
  breakerFor?: (providerName: string) => ProviderBreaker | undefined;
  /** Extra attempts on one provider after a retryable failure, before falling back to the next. Default 1. */
  retriesPerProvider?: number;
  /** Pause before such a retry unless the provider asked for one (`Retry-After`). Default 250 ms. */
  retryDelayMs?: number;
  /** A provider that asks to wait longer than this is not retried but fallen back from at once. Default 2000 ms. */
  maxRetryDelayMs?: number;
  logger?: Pick<Logger, 'warn'>;
  /** Told each time a call moves on from a provider to the next (the worker's metrics count fallbacks). */
  onFallback?: (fallback: { from: string; to: string; reason: string }) => void;
}

type Failure = { provider: string; error: LlmError | CircuitOpenError };

/** What counts against a provider's breaker: outages, rate limits, timeouts, and a key it refuses. */
const isProviderFailure = (error: unknown): boolean =>
  error instanceof LlmError && (error.retryable || error.type === 'llm_auth');

/**
 * Several providers behind one `LlmProvider`. For the requested model (or the default) it asks the providers that
 * serve it by priority, then, degraded, the others with their own first model (see `ModelCatalog.candidatesFor`).
 * Each call goes through the provider's breaker. It moves on to the next provider when:
 *
 * - the breaker is open (the provider is not called at all);
 * - the call failed with a retryable error (429, 5xx, timeout, connection) and the provider's retry budget is spent
 *   (the last provider of the chain is not retried here: the caller's retry policy, with its backoff, takes over);
 * - the provider refused the key (`llm_auth`): another provider has other credentials.
 *
 * It never moves on once a delta reached `onDelta`: a half-streamed answer must not be continued by another model, so
 * that error is rethrown unchanged for the caller to start over. Nor after `llm_bad_request` (the request itself is
 * at fault; another provider would refuse it too, or worse, accept what should not be sent), `llm_aborted`, or an
 * error thrown by `onDelta`. A model nobody serves is `llm_unknown_model`.
 *
 * The result names the provider and model that answered.
 */
export class FallbackLlmProvider implements LlmProvider {
  readonly name = 'fallback';
  readonly defaultModel: string;
  private readonly catalog: ModelCatalog;
  private readonly clients: ReadonlyMap<string, LlmProvider>;
  private readonly breakers = new Map<string, ProviderBreaker | undefined>();
  private readonly breakerFor: (providerName: string) => ProviderBreaker | undefined;
  private readonly retriesPerProvider: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly logger: Pick<Logger, 'warn'> | undefined;
  private readonly onFallback: FallbackLlmProviderOptions['onFallback'];

  constructor(options: FallbackLlmProviderOptions) {
    if (options.catalog.offline) throw new Error('FallbackLlmProvider needs at least one provider');
    const missing = options.catalog.providers.filter((p) => !options.providers.has(p.name)).map((p) => p.name);
    if (missing.length > 0) throw new Error(`No client for LLM provider(s): ${missing.join(', ')}`);
    this.catalog = options.catalog;
    this.defaultModel = options.catalog.defaultModel;
    this.clients = options.providers;
    this.breakerFor = options.breakerFor ?? (() => undefined);
    this.retriesPerProvider = Math.max(0, Math.floor(options.retriesPerProvider ?? 1));
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 2000;
    this.logger = options.logger;
    this.onFallback = options.onFallback;
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const requested = req.model ?? this.defaultModel;
    const candidates = this.catalog.candidatesFor(requested);
    if (candidates.length === 0) throw LlmError.unknownModel(requested);

    let delivered = false;
    const { onDelta } = req;
    const tracked: GenerateRequest['onDelta'] = onDelta
      ? (delta) => {
          delivered = true;
          return onDelta(delta);
        }
      : undefined;

    const failures: Failure[] = [];
    for (const [index, { provider: spec, model }] of candidates.entries()) {
      const client = this.clients.get(spec.name)!;
      const breaker = this.breaker(spec.name);
      const attempts = index === candidates.length - 1 ? 1 : 1 + this.retriesPerProvider;
      const maxTokens =
        spec.maxOutputTokens !== undefined && req.maxTokens !== undefined
          ? Math.min(req.maxTokens, spec.maxOutputTokens)
          : (req.maxTokens ?? spec.maxOutputTokens);
      const call = (): Promise<GenerateResult> =>
        client.generate({
          ...req,
          model,
          ...(maxTokens !== undefined ? { maxTokens } : {}),
          ...(tracked ? { onDelta: tracked } : {}),
        });

      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (req.signal?.aborted) throw LlmError.aborted();
        try {
          return await (breaker ? breaker.run(call, isProviderFailure) : call());
        } catch (error) {
          // Part of an answer is out: nothing may be added to it, not even by a retry here.
          if (delivered) throw error;
          if (error instanceof CircuitOpenError) {
            failures.push({ provider: spec.name, error });
            break;
          }
          if (!(error instanceof LlmError) || !isProviderFailure(error)) throw error;
          failures.push({ provider: spec.name, error });
          if (!error.retryable || attempt === attempts) break;
          const delay = error.retryAfterMs ?? this.retryDelayMs;
          if (delay > this.maxRetryDelayMs) break;
          await pause(delay, req.signal);
        }
      }
      if (index < candidates.length - 1) {
        const last = failures.at(-1)?.error;
        const reason = last instanceof LlmError ? last.type : 'circuit_open';
        const next = candidates[index + 1]!.provider.name;
        this.logger?.warn(
          { provider: spec.name, model, reason, next },
          'LLM provider unavailable; falling back to the next',
        );
        this.onFallback?.({ from: spec.name, to: next, reason });
      }
    }
    throw exhausted(requested, failures);
  }

  private breaker(name: string): ProviderBreaker | undefined {
    if (!this.breakers.has(name)) this.breakers.set(name, this.breakerFor(name));
    return this.breakers.get(name);
  }
}

/**
 * The error after every provider failed. A single failure is rethrown as it is. Otherwise the last retryable one
 * (its type, status and Retry-After) with every provider's reason in the message; else, when some breaker was open,
 * `llm_unavailable` with the shortest wait; when every provider refused its key, the last `llm_auth`.
 */
function exhausted(model: string, failures: Failure[]): LlmError {
  const only = failures.length === 1 ? failures[0]?.error : undefined;
  if (only instanceof LlmError) return only;
  const message = `No provider could answer with ${model}: ${failures.map((f) => `[${f.provider}] ${f.error.message}`).join('; ')}`;
  const errors = failures.map((f) => f.error);
  const retryable = errors.filter((e): e is LlmError => e instanceof LlmError && e.retryable).at(-1);
  if (retryable) {
    return new LlmError(retryable.type, message, {
      retryable: true,
      status: retryable.status,
      retryAfterMs: retryable.retryAfterMs,
      cause: retryable,
    });
  }
  const open = errors.filter((e): e is CircuitOpenError => e instanceof CircuitOpenError);
  if (open.length > 0) {
    return new LlmError('llm_unavailable', message, {
      retryable: true,
      retryAfterMs: Math.min(...open.map((e) => e.retryAfterMs)),
    });
  }
  const refused = errors.filter((e): e is LlmError => e instanceof LlmError).at(-1)!;
  return new LlmError(refused.type, message, { retryable: false, status: refused.status, cause: refused });
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(LlmError.aborted());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(LlmError.aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
