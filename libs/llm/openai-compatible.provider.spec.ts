import { inspect } from 'node:util';

import { startFakeLlm, type FakeLlm } from '../../test/fakes/fake-llm.server';
import type { GenerateRequest } from './llm-provider';
import { LlmError } from './llm.error';
import { OpenAiCompatibleProvider, retryAfterMs } from './openai-compatible.provider';

const API_KEY = 'sk-test-0123456789abcdef';

describe('OpenAiCompatibleProvider (through the openai SDK against the fake server)', () => {
  let fake: FakeLlm;

  beforeAll(async () => {
    fake = await startFakeLlm({ apiKey: API_KEY });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const provider = (overrides: Partial<ConstructorParameters<typeof OpenAiCompatibleProvider>[0]> = {}) =>
    new OpenAiCompatibleProvider({
      name: 'test-llm',
      baseUrl: fake.url,
      apiKey: API_KEY,
      model: 'fake-chat',
      timeoutMs: 5_000,
      ...overrides,
    });

  const ask = (text: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: text },
    ],
    ...extra,
  });

  /** Resolves with the LlmError the call rejected with; fails the test if it resolved. */
  async function failure(promise: Promise<unknown>): Promise<LlmError> {
    const outcome = await promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
    expect(outcome.error).toBeInstanceOf(LlmError);
    return outcome.error as LlmError;
  }

  it('streams the reply delta by delta, in order, and returns it with usage', async () => {
    fake.tokenDelayMs = 2;
    const deltas: string[] = [];

    const result = await provider().generate(ask('how are you today', { onDelta: (d) => void deltas.push(d) }));

    expect(result.content).toBe('Echo: how are you today');
    expect(deltas).toEqual(['Echo: ', 'how ', 'are ', 'you ', 'today']);
    expect(result).toMatchObject({ model: 'fake-chat', provider: 'test-llm', finishReason: 'stop' });
    expect(result.usage).toEqual({ promptTokens: expect.any(Number), completionTokens: 5 });
    expect(result.usage?.promptTokens).toBeGreaterThan(0);
  });

  it('offers tools, assembles streamed tool calls, and sends the calls and their results back in the wire format', async () => {
    const tools = [
      { name: 'calculator', description: 'Arithmetic', parameters: { type: 'object', properties: {} } },
      { name: 'current_time', description: 'The time', parameters: { type: 'object', properties: {} } },
    ];
    const question = 'sum <<tool calculator {"expression":"2+2"}>> <<tool current_time {}>>';
    const first = await provider().generate(ask(question, { tools }));

    expect(first.finishReason).toBe('tool_calls');
    expect(first.content).toBe('');
    expect(first.toolCalls).toEqual([
      { id: expect.any(String), name: 'calculator', arguments: '{"expression":"2+2"}' },
      { id: expect.any(String), name: 'current_time', arguments: '{}' },
    ]);
    const sent = fake.requests[0]!.body as { tools: unknown[]; tool_choice: string };
    expect(sent.tool_choice).toBe('auto');
    expect(sent.tools[0]).toEqual({ type: 'function', function: tools[0] });

    const calls = first.toolCalls!;
    const followUp = ask(question, { tools });
    followUp.messages.push(
      { role: 'assistant', content: '', toolCalls: calls },
      { role: 'tool', toolCallId: calls[0]!.id, content: '4' },
      { role: 'tool', toolCallId: calls[1]!.id, content: 'noon' },
    );
    const second = await provider().generate(followUp);
    expect(second).toMatchObject({ content: 'Tools said: 4 | noon', finishReason: 'stop' });
    expect(second.toolCalls).toBeUndefined();
    const wire = (fake.requests[1]!.body as { messages: Record<string, unknown>[] }).messages;
    expect(wire[2]).toMatchObject({ role: 'assistant', content: null, tool_calls: [{ id: calls[0]!.id }, {}] });
    expect(wire[3]).toEqual({ role: 'tool', tool_call_id: calls[0]!.id, content: '4' });

    // `toolChoice: 'none'` (a tool loop's last step) makes the model answer in text.
    const forced = await provider().generate(ask(question, { tools, toolChoice: 'none' }));
    expect(forced.toolCalls).toBeUndefined();
    expect(forced.content).toContain('Echo: sum');
  });

  it('sends a streaming request with usage, limits, the model and the bearer key', async () => {
    await provider().generate(ask('hi', { model: 'other-model', maxTokens: 50, temperature: 0.2 }));

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.body).toMatchObject({
      model: 'other-model',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 50,
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'hi' },
      ],
    });
  });

  it('awaits an async onDelta before delivering the next delta', async () => {
    fake.reply = () => 'one two three four';
    const events: string[] = [];
    await provider().generate(
      ask('x', {
        onDelta: async (d) => {
          events.push(`start ${d.trim()}`);
          await new Promise((resolve) => setTimeout(resolve, 5));
          events.push(`end ${d.trim()}`);
        },
      }),
    );
    expect(events).toEqual([
      'start one',
      'end one',
      'start two',
      'end two',
      'start three',
      'end three',
      'start four',
      'end four',
    ]);
  });

  it('reports finish reason length when max tokens cut the reply', async () => {
    const result = await provider().generate(ask('a b c d e f', { maxTokens: 3 }));
    expect(result.content).toBe('Echo: a b ');
    expect(result.finishReason).toBe('length');
  });

  it('sends no Authorization header when no key is configured', async () => {
    fake.apiKey = undefined;
    const result = await provider({ apiKey: undefined }).generate(ask('hello'));
    expect(result.content).toBe('Echo: hello');
    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('maps 429 to a retryable llm_rate_limited with the Retry-After delay, without retrying itself', async () => {
    fake.failNext(1, 429, undefined, { 'retry-after': '2' });

    const error = await failure(provider().generate(ask('hi')));

    expect(error).toMatchObject({ type: 'llm_rate_limited', retryable: true, status: 429, retryAfterMs: 2000 });
    expect(error.message).toContain('Rate limit reached');
    expect(fake.requests).toHaveLength(1);
  });

  it('prefers retry-after-ms when the provider sends it', async () => {
    fake.failNext(1, 429, undefined, { 'retry-after-ms': '1500', 'retry-after': '9' });
    const error = await failure(provider().generate(ask('hi')));
    expect(error.retryAfterMs).toBe(1500);
  });

  it.each([500, 502, 503])('maps %i to a retryable llm_unavailable', async (status) => {
    fake.failNext(1, status);
    const error = await failure(provider().generate(ask('hi')));
    expect(error).toMatchObject({ type: 'llm_unavailable', retryable: true, status });
    expect(fake.requests).toHaveLength(1);
  });

  it('maps a plain-text 502 from a proxy to a retryable llm_unavailable', async () => {
    fake.failNext(1, 502, '<html>Bad Gateway</html>');
    const error = await failure(provider().generate(ask('hi')));
    expect(error).toMatchObject({ type: 'llm_unavailable', retryable: true, status: 502 });
  });

  it('maps 400 to a non-retryable llm_bad_request carrying the provider message', async () => {
    fake.failNext(1, 400, {
      error: { message: "This model's maximum context length is 8192 tokens", type: 'invalid_request_error' },
    });
    const error = await failure(provider().generate(ask('hi')));
    expect(error).toMatchObject({ type: 'llm_bad_request', retryable: false, status: 400 });
    expect(error.message).toContain('maximum context length');
  });

  it('maps an unknown model (404) to a non-retryable llm_bad_request', async () => {
    fake.failNext(1, 404, { error: { message: 'The model `nope` does not exist', code: 'model_not_found' } });
    const error = await failure(provider().generate(ask('hi', { model: 'nope' })));
    expect(error).toMatchObject({ type: 'llm_bad_request', retryable: false, status: 404 });
  });

  it('maps a wrong key (401 from the server) to a non-retryable llm_auth', async () => {
    const error = await failure(provider({ apiKey: 'sk-wrong-key-000000' }).generate(ask('hi')));
    expect(error).toMatchObject({ type: 'llm_auth', retryable: false, status: 401 });
  });

  it('maps 403 to a non-retryable llm_auth', async () => {
    fake.failNext(1, 403);
    const error = await failure(provider().generate(ask('hi')));
    expect(error).toMatchObject({ type: 'llm_auth', retryable: false, status: 403 });
  });

  it('never exposes the API key, even when the provider echoes it back', async () => {
    fake.failNext(1, 401, { error: { message: `Incorrect API key provided: ${API_KEY}`, code: 'invalid_api_key' } });
    const p = provider();

    const error = await failure(p.generate(ask('hi')));

    expect(error.type).toBe('llm_auth');
    expect(error.message).toContain('[redacted]');
    expect(inspect(error, { depth: 10 })).not.toContain(API_KEY);
    expect(inspect(p, { depth: 10, showHidden: true })).not.toContain(API_KEY);
    expect(JSON.stringify(p)).not.toContain(API_KEY);
  });

  it('times out with a retryable llm_timeout when the provider never answers', async () => {
    fake.hangNext();
    const started = Date.now();

    const error = await failure(provider({ timeoutMs: 150 }).generate(ask('hi')));

    expect(error).toMatchObject({ type: 'llm_timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2_000);
    await waitFor(() => fake.requests[0]?.aborted === true);
  });

  it('times out when the stream stalls midway, after delivering what arrived', async () => {
    fake.hangNext(1, { afterDeltas: 2 });
    const deltas: string[] = [];

    const error = await failure(
      provider({ timeoutMs: 150 }).generate(ask('one two three', { onDelta: (d) => void deltas.push(d) })),
    );

    expect(error).toMatchObject({ type: 'llm_timeout', retryable: true });
    expect(deltas).toEqual(['Echo: ', 'one ']);
    await waitFor(() => fake.requests[0]?.aborted === true);
  });

  it('does not time out a reply that keeps flowing for longer than timeoutMs in total', async () => {
    fake.reply = () => 'a b c d e f g h i j';
    fake.tokenDelayMs = 30;
    const result = await provider({ timeoutMs: 120 }).generate(ask('x'));
    expect(result.content).toBe('a b c d e f g h i j');
  });

  it('does not count a slow onDelta as provider silence', async () => {
    fake.reply = () => 'slow consumer here';
    const result = await provider({ timeoutMs: 100 }).generate(
      ask('x', { onDelta: () => new Promise((resolve) => setTimeout(resolve, 150)) }),
    );
    expect(result.content).toBe('slow consumer here');
  });

  it('stops the HTTP call and rejects with llm_aborted when aborted mid-stream', async () => {
    fake.reply = () => 'one two three four five six seven eight';
    fake.tokenDelayMs = 20;
    const controller = new AbortController();
    const deltas: string[] = [];

    const error = await failure(
      provider().generate(
        ask('x', {
          signal: controller.signal,
          onDelta: (d) => {
            deltas.push(d);
            if (deltas.length === 2) controller.abort();
          },
        }),
      ),
    );

    expect(error).toMatchObject({ type: 'llm_aborted', retryable: false });
    expect(deltas).toEqual(['one ', 'two ']);
    await waitFor(() => fake.requests[0]?.aborted === true);
  });

  it('rejects with llm_aborted when aborted while waiting for the first token', async () => {
    fake.firstTokenDelayMs = 5_000;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const error = await failure(provider().generate(ask('x', { signal: controller.signal })));
    expect(error.type).toBe('llm_aborted');
    await waitFor(() => fake.requests[0]?.aborted === true);
  });

  it('makes no request at all when the signal is already aborted', async () => {
    const error = await failure(provider().generate(ask('x', { signal: AbortSignal.abort() })));
    expect(error.type).toBe('llm_aborted');
    expect(fake.requests).toHaveLength(0);
  });

  it('rethrows an error from onDelta unchanged and closes the stream', async () => {
    fake.reply = () => 'one two three four five';
    fake.tokenDelayMs = 20;
    const boom = new Error('redis is down');
    await expect(
      provider().generate(
        ask('x', {
          onDelta: () => {
            throw boom;
          },
        }),
      ),
    ).rejects.toBe(boom);
    await waitFor(() => fake.requests[0]?.aborted === true);
  });

  it('maps a refused connection to a retryable llm_unavailable', async () => {
    const closed = await startFakeLlm();
    const url = closed.url;
    await closed.close();

    const error = await failure(provider({ baseUrl: url }).generate(ask('hi')));

    expect(error).toMatchObject({ type: 'llm_unavailable', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('maps a connection dropped mid-stream to a retryable llm_unavailable', async () => {
    const dropping = await startFakeLlm({ tokenDelayMs: 20 });
    dropping.reply = () => 'one two three four five';
    const deltas: string[] = [];
    try {
      const error = await failure(
        provider({ baseUrl: dropping.url }).generate(
          ask('x', {
            onDelta: (d) => {
              deltas.push(d);
              if (deltas.length === 2) void dropping.close();
            },
          }),
        ),
      );
      expect(error).toMatchObject({ type: 'llm_unavailable', retryable: true });
    } finally {
      await dropping.close();
    }
  });

  it('refuses a configuration it cannot use', () => {
    expect(() => provider({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => provider({ baseUrl: 'not a url' })).toThrow(/baseUrl/);
  });
});

describe('retryAfterMs', () => {
  it('reads retry-after-ms, seconds and HTTP dates', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250.4' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after': '0.5' }))).toBe(500);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const fromDate = retryAfterMs(new Headers({ 'retry-after': inTenSeconds })) ?? -1;
    expect(fromDate).toBeGreaterThan(8_000);
    expect(fromDate).toBeLessThanOrEqual(10_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(new Headers())).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
