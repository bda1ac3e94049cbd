import { asyncLocalStorage, type Context } from '@temporalio/activity';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { createChatActivities } from '#activities/chat.activities';
import type { TokenCounter } from '../chat/token-counter';
import type { ChatTurnInput, LoadedContext } from '../contracts/chat-turn.contract';
import { LlmError } from '../llm/llm.error';
import type { GenerateRequest, LlmProvider } from '../llm/llm-provider';
import type { Logger } from '../logging/logger';
import { compareStreamIds, createTurnEventSink, TurnEventLog, TurnEventName, TurnEventSink } from './turn-event-log';

const silent = { debug() {}, info() {}, warn: jest.fn(), error() {}, child: () => silent } as unknown as Logger & {
  warn: jest.Mock;
};

const turn: ChatTurnInput = {
  turnId: 't-1',
  userId: 'u-1',
  conversationId: 'c-1',
  userMessageId: 'm-1',
  assistantMessageId: 'm-2',
  requestId: 'r-1',
};
const context: LoadedContext = { messages: [{ role: 'user', content: 'hi' }], droppedMessages: 0, promptTokens: 1 };

function recordingSink(): TurnEventSink & { events: { event: TurnEventName; data: unknown }[] } {
  const events: { event: TurnEventName; data: unknown }[] = [];
  return {
    events,
    async append(_turnId, event, data) {
      events.push({ event, data });
    },
    async finish(_turnId, more) {
      events.push(...more);
    },
  };
}

/** A provider that delivers `pieces` as fast as it can (no awaits between them), then optionally fails. */
function burstProvider(pieces: string[], failAfter = false): LlmProvider {
  return {
    name: 'burst',
    defaultModel: 'burst-1',
    async generate(req: GenerateRequest) {
      for (const piece of pieces) await req.onDelta?.(piece);
      if (failAfter) throw new LlmError('llm_unavailable', 'connection reset', { retryable: true });
      return { content: pieces.join(''), model: 'burst-1', provider: 'burst', finishReason: 'stop' };
    },
  };
}

function inActivity<T>(attempt: number, fn: () => Promise<T>): Promise<T> {
  const ctx = {
    info: { attempt },
    cancellationSignal: new AbortController().signal,
    heartbeat: () => undefined,
  } as unknown as Context;
  return asyncLocalStorage.run(ctx, fn);
}

function activities(llm: LlmProvider, events: TurnEventSink) {
  return createChatActivities({
    db: {} as DataSource,
    llm,
    tokens: {} as TokenCounter,
    logger: silent,
    contextTokens: 4096,
    maxOutputTokens: 256,
    events,
  });
}

const tokenText = (events: { event: string; data: unknown }[]): string =>
  events
    .filter((e) => e.event === 'token')
    .map((e) => (e.data as { delta: string }).delta)
    .join('');

describe('chat activities → turn events', () => {
  const pieces = Array.from({ length: 100 }, (_, i) => `t${i} `);

  it('batches token deltas (not one append per delta) and keeps their order and text', async () => {
    const sink = recordingSink();
    const out = await inActivity(1, () => activities(burstProvider(pieces), sink).generate({ turn, context }));
    expect(sink.events[0]).toEqual({ event: 'step', data: { name: 'generation', status: 'running' } });
    expect(sink.events.at(-1)).toEqual({ event: 'step', data: { name: 'generation', status: 'completed' } });
    const tokens = sink.events.filter((e) => e.event === 'token');
    expect(tokens.length).toBeLessThanOrEqual(Math.ceil(pieces.length / 32) + 1);
    expect(tokenText(sink.events)).toBe(out.content);
  });

  it('announces a retried generation with step generation restarted, before anything else', async () => {
    const sink = recordingSink();
    await inActivity(2, () => activities(burstProvider(['a', 'b']), sink).generate({ turn, context }));
    expect(sink.events.slice(0, 2)).toEqual([
      { event: 'step', data: { name: 'generation', status: 'restarted' } },
      { event: 'step', data: { name: 'generation', status: 'running' } },
    ]);
  });

  it('still delivers the text generated before a failure', async () => {
    const sink = recordingSink();
    await expect(
      inActivity(1, () => activities(burstProvider(['x', 'y', 'z'], true), sink).generate({ turn, context })),
    ).rejects.toThrow('connection reset');
    expect(tokenText(sink.events)).toBe('xyz');
  });

  it('ends a failed turn with turn.failed (after the failed step)', async () => {
    const sink = recordingSink();
    const db = { getRepository: () => ({ update: async () => undefined }) } as unknown as DataSource;
    const acts = createChatActivities({
      db,
      llm: burstProvider([]),
      tokens: {} as TokenCounter,
      logger: silent,
      contextTokens: 4096,
      maxOutputTokens: 256,
      events: sink,
    });
    await acts.markTurnFailed({
      turn,
      code: 'llm_bad_request',
      detail: 'no',
      steps: [{ name: 'generation', status: 'failed' }],
    });
    expect(sink.events).toEqual([
      { event: 'step', data: { name: 'generation', status: 'failed' } },
      { event: 'turn.failed', data: { code: 'llm_bad_request', detail: 'no' } },
    ]);
  });
});

describe('turn event sink', () => {
  it('never throws: a Redis failure is logged, live events pause, final events are still tried', async () => {
    let calls = 0;
    const broken = {
      xadd: async () => {
        calls += 1;
        throw new Error('connection is closed');
      },
      multi: () => ({
        xadd() {},
        expire() {},
        exec: async () => [[new Error('connection is closed'), null]],
      }),
    } as unknown as Redis;
    silent.warn.mockClear();
    const sink = createTurnEventSink(new TurnEventLog(broken), silent);
    await expect(sink.append('t-1', 'token', { delta: 'a' })).resolves.toBeUndefined();
    // Redis is down: the next live events are dropped at once instead of each waiting for a timeout.
    await expect(sink.append('t-1', 'token', { delta: 'b' })).resolves.toBeUndefined();
    expect(calls).toBe(1);
    await expect(sink.finish('t-1', [{ event: 'turn.failed', data: {} }])).resolves.toBeUndefined();
    expect(silent.warn).toHaveBeenCalledTimes(2);
  });

  it('orders stream ids numerically', () => {
    expect(compareStreamIds('999-5', '1000-0')).toBeLessThan(0);
    expect(compareStreamIds('1000-10', '1000-9')).toBeGreaterThan(0);
    expect(compareStreamIds('1000-1', '1000-1')).toBe(0);
  });
});
