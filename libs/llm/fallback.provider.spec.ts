import { CircuitOpenError } from '../resilience/circuit-open.error';
import { FallbackLlmProvider, type ProviderBreaker } from './fallback.provider';
import type { GenerateRequest, GenerateResult, LlmProvider } from './llm-provider';
import type { LlmProviderSpec } from './llm-provider-spec';
import { LlmError } from './llm.error';
import { ModelCatalog } from './provider-registry';

/** A provider scripted with outcomes, one per call: a reply text, an error, or deltas then an error. */
type Outcome = string | LlmError | Error | { deltas: string[]; then: LlmError };

class ScriptedProvider implements LlmProvider {
  readonly defaultModel = 'unused';
  readonly calls: GenerateRequest[] = [];
  constructor(
    readonly name: string,
    private readonly script: Outcome[],
    private readonly fallbackOutcome: Outcome = 'ok',
  ) {}

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    this.calls.push(req);
    const outcome = this.script.shift() ?? this.fallbackOutcome;
    if (outcome instanceof Error) throw outcome;
    if (typeof outcome === 'string') {
      const text = `${this.name}:${outcome}`;
      await req.onDelta?.(text);
      return { content: text, model: req.model ?? 'none', provider: this.name, finishReason: 'stop' };
    }
    for (const delta of outcome.deltas) await req.onDelta?.(delta);
    throw outcome.then;
  }
}

/** An in-process breaker: open when told, counting failures as `RedisCircuitBreaker` would. */
class FakeBreaker implements ProviderBreaker {
  open = false;
  failures = 0;
  async run<T>(fn: () => Promise<T>, isFailure: (error: unknown) => boolean = () => true): Promise<T> {
    if (this.open) throw new CircuitOpenError('fake', 1500, 'open');
    try {
      return await fn();
    } catch (error) {
      if (isFailure(error)) this.failures++;
      throw error;
    }
  }
}

const spec = (name: string, models: string[], priority = 0, extra: Partial<LlmProviderSpec> = {}): LlmProviderSpec => ({
  name,
  baseUrl: `http://${name}.invalid/v1`,
  models,
  priority,
  ...extra,
});

const unavailable = (): LlmError => LlmError.fromStatus(500, 'down');
const messages: GenerateRequest['messages'] = [{ role: 'user', content: 'hi' }];

function build(
  specs: LlmProviderSpec[],
  clients: ScriptedProvider[],
  breakers: Record<string, FakeBreaker> = {},
  defaultModel?: string,
): FallbackLlmProvider {
  return new FallbackLlmProvider({
    catalog: new ModelCatalog(specs, defaultModel),
    providers: new Map(clients.map((c) => [c.name, c])),
    breakerFor: (name) => breakers[name],
    retryDelayMs: 1,
  });
}

describe('FallbackLlmProvider', () => {
  it('asks the providers serving the model by priority, and names who answered', async () => {
    const low = new ScriptedProvider('low', []);
    const high = new ScriptedProvider('high', []);
    const llm = build([spec('low', ['m'], 5), spec('high', ['m'], 1)], [low, high]);

    const result = await llm.generate({ model: 'm', messages });

    expect(result).toMatchObject({ provider: 'high', model: 'm', content: 'high:ok' });
    expect(low.calls).toHaveLength(0);
    expect(llm.defaultModel).toBe('m');
  });

  it('uses the default model when none is asked for', async () => {
    const a = new ScriptedProvider('a', []);
    const b = new ScriptedProvider('b', []);
    const llm = build([spec('a', ['a1', 'a2']), spec('b', ['b1'])], [a, b], {}, 'b1');

    const result = await llm.generate({ messages });

    expect(result).toMatchObject({ provider: 'b', model: 'b1' });
    expect(a.calls).toHaveLength(0);
  });

  it('tells each fallback, from which provider to which and why (breaker open or the error type)', async () => {
    const first = new ScriptedProvider('first', []);
    const second = new ScriptedProvider('second', [LlmError.fromStatus(503, 'down')]);
    const third = new ScriptedProvider('third', []);
    const breakers = { first: Object.assign(new FakeBreaker(), { open: true }) };
    const told: unknown[] = [];
    const llm = new FallbackLlmProvider({
      catalog: new ModelCatalog([spec('first', ['m'], 0), spec('second', ['m'], 1), spec('third', ['m'], 2)]),
      providers: new Map([first, second, third].map((c) => [c.name, c])),
      breakerFor: (name) => breakers[name as 'first'],
      retriesPerProvider: 0,
      onFallback: (fallback) => told.push(fallback),
    });

    expect(await llm.generate({ model: 'm', messages })).toMatchObject({ provider: 'third' });
    expect(told).toEqual([
      { from: 'first', to: 'second', reason: 'circuit_open' },
      { from: 'second', to: 'third', reason: LlmError.fromStatus(503, 'down').type },
    ]);
  });

  it('retries a retryable failure once, then falls back to the next provider (with its own model)', async () => {
    const primary = new ScriptedProvider('primary', [unavailable(), unavailable()]);
    const backup = new ScriptedProvider('backup', []);
    const breakers = { primary: new FakeBreaker(), backup: new FakeBreaker() };
    const llm = build([spec('primary', ['big']), spec('backup', ['small'], 1)], [primary, backup], breakers);

    const deltas: string[] = [];
    const result = await llm.generate({ model: 'big', messages, onDelta: (d) => void deltas.push(d) });

    expect(result).toMatchObject({ provider: 'backup', model: 'small', content: 'backup:ok' });
    expect(deltas).toEqual(['backup:ok']);
    expect(primary.calls).toHaveLength(2);
    expect(backup.calls.map((c) => c.model)).toEqual(['small']);
    expect(breakers.primary.failures).toBe(2);
  });

  it('skips a provider whose breaker is open without calling it', async () => {
    const primary = new ScriptedProvider('primary', []);
    const backup = new ScriptedProvider('backup', []);
    const breakers = { primary: new FakeBreaker() };
    breakers.primary.open = true;
    const llm = build([spec('primary', ['m']), spec('backup', ['m'], 1)], [primary, backup], breakers);

    const result = await llm.generate({ model: 'm', messages });

    expect(result.provider).toBe('backup');
    expect(primary.calls).toHaveLength(0);
  });

  it('does not fall back once a delta went out: the same error, nothing more delivered', async () => {
    const cut = LlmError.unavailable('connection dropped');
    const primary = new ScriptedProvider('primary', [{ deltas: ['Hel', 'lo'], then: cut }]);
    const backup = new ScriptedProvider('backup', []);
    const breakers = { primary: new FakeBreaker() };
    const llm = build([spec('primary', ['m']), spec('backup', ['m'], 1)], [primary, backup], breakers);

    const deltas: string[] = [];
    await expect(llm.generate({ model: 'm', messages, onDelta: (d) => void deltas.push(d) })).rejects.toBe(cut);

    expect(deltas).toEqual(['Hel', 'lo']);
    expect(primary.calls).toHaveLength(1); // not even retried here
    expect(backup.calls).toHaveLength(0);
    expect(breakers.primary.failures).toBe(1); // it still counts against the provider
  });

  it('falls back from a refused key (llm_auth) at once, without retrying it', async () => {
    const primary = new ScriptedProvider('primary', [LlmError.fromStatus(401, 'bad key')]);
    const backup = new ScriptedProvider('backup', []);
    const llm = build([spec('primary', ['m']), spec('backup', ['m'], 1)], [primary, backup]);

    await expect(llm.generate({ model: 'm', messages })).resolves.toMatchObject({ provider: 'backup' });
    expect(primary.calls).toHaveLength(1);
  });

  it('does not fall back from a bad request: the request is at fault', async () => {
    const refused = LlmError.fromStatus(400, 'context too long');
    const primary = new ScriptedProvider('primary', [refused]);
    const backup = new ScriptedProvider('backup', []);
    const breakers = { primary: new FakeBreaker() };
    const llm = build([spec('primary', ['m']), spec('backup', ['m'], 1)], [primary, backup], breakers);

    await expect(llm.generate({ model: 'm', messages })).rejects.toBe(refused);
    expect(backup.calls).toHaveLength(0);
    expect(breakers.primary.failures).toBe(0);
  });

  it('rethrows what onDelta threw, without falling back', async () => {
    const primary = new ScriptedProvider('primary', []);
    const backup = new ScriptedProvider('backup', []);
    const llm = build([spec('primary', ['m']), spec('backup', ['m'], 1)], [primary, backup]);
    const consumerFailure = new Error('client went away');

    await expect(
      llm.generate({
        model: 'm',
        messages,
        onDelta: () => {
          throw consumerFailure;
        },
      }),
    ).rejects.toBe(consumerFailure);
    expect(backup.calls).toHaveLength(0);
  });

  it('refuses a model nobody serves with llm_unknown_model (non-retryable)', async () => {
    const a = new ScriptedProvider('a', []);
    const llm = build([spec('a', ['m'])], [a]);

    await expect(llm.generate({ model: 'gpt-9', messages })).rejects.toMatchObject({
      name: 'LlmError',
      type: 'llm_unknown_model',
      retryable: false,
    });
    expect(a.calls).toHaveLength(0);
  });

  it('leaves a lone provider to the caller: one call, its own error unchanged', async () => {
    const limited = LlmError.fromStatus(429, 'slow down', { retryAfterMs: 1000 });
    const only = new ScriptedProvider('only', [limited]);
    const llm = build([spec('only', ['m'])], [only], { only: new FakeBreaker() });

    await expect(llm.generate({ model: 'm', messages })).rejects.toBe(limited);
    expect(only.calls).toHaveLength(1);
  });

  it('when every provider fails, throws a retryable error naming each of them', async () => {
    const primary = new ScriptedProvider('primary', [], unavailable());
    const backup = new ScriptedProvider('backup', [], LlmError.fromStatus(503, 'overloaded', { retryAfterMs: 700 }));
    const llm = build([spec('primary', ['m']), spec('backup', ['m'], 1)], [primary, backup]);

    const error = (await llm.generate({ model: 'm', messages }).catch((e: unknown) => e)) as LlmError;

    expect(error).toMatchObject({ type: 'llm_unavailable', retryable: true, status: 503, retryAfterMs: 700 });
    expect(error.message).toContain('[primary]');
    expect(error.message).toContain('[backup]');
  });

  it('when every breaker is open, says so with the shortest wait', async () => {
    const breakers = { a: new FakeBreaker(), b: new FakeBreaker() };
    breakers.a.open = true;
    breakers.b.open = true;
    const llm = build(
      [spec('a', ['m']), spec('b', ['m'], 1)],
      [new ScriptedProvider('a', []), new ScriptedProvider('b', [])],
      breakers,
    );

    await expect(llm.generate({ model: 'm', messages })).rejects.toMatchObject({
      type: 'llm_unavailable',
      retryable: true,
      retryAfterMs: 1500,
    });
  });

  it('when every provider refuses its key, fails for good with llm_auth', async () => {
    const llm = build(
      [spec('a', ['m']), spec('b', ['m'], 1)],
      [
        new ScriptedProvider('a', [LlmError.fromStatus(401, 'no')]),
        new ScriptedProvider('b', [LlmError.fromStatus(403, 'no')]),
      ],
    );

    await expect(llm.generate({ model: 'm', messages })).rejects.toMatchObject({ type: 'llm_auth', retryable: false });
  });

  it("does not retry a provider that asks to wait longer than the budget, and caps the answer at the provider's limit", async () => {
    const primary = new ScriptedProvider('primary', [LlmError.fromStatus(429, 'later', { retryAfterMs: 30_000 })]);
    const backup = new ScriptedProvider('backup', []);
    const llm = build([spec('primary', ['m']), spec('backup', ['m'], 1, { maxOutputTokens: 50 })], [primary, backup]);

    const result = await llm.generate({ model: 'm', messages, maxTokens: 1000 });

    expect(result.provider).toBe('backup');
    expect(primary.calls).toHaveLength(1);
    expect(backup.calls[0]?.maxTokens).toBe(50);
  });

  it('stops with llm_aborted when the signal fires between attempts', async () => {
    const controller = new AbortController();
    const primary = new ScriptedProvider('primary', [unavailable()]);
    const backup = new ScriptedProvider('backup', []);
    const llm = new FallbackLlmProvider({
      catalog: new ModelCatalog([spec('primary', ['m']), spec('backup', ['m'], 1)]),
      providers: new Map([
        ['primary', primary],
        ['backup', backup],
      ]),
      retryDelayMs: 1000,
    });

    const outcome = llm.generate({ model: 'm', messages, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);

    await expect(outcome).rejects.toMatchObject({ type: 'llm_aborted' });
    expect(backup.calls).toHaveLength(0);
  });
});
