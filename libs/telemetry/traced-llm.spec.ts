import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Writable } from 'node:stream';
import { LlmError } from '../llm/llm.error';
import type { GenerateRequest, LlmProvider } from '../llm/llm-provider';
import { setTraceFields } from '../logging/log-context';
import { createLogger } from '../logging/logger';
import { activeTraceFields } from './otel-sdk';
import { tracedLlm } from './traced-llm';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
afterEach(() => exporter.reset());
afterAll(() => provider.shutdown());

function fakeLlm(generate: (req: GenerateRequest) => ReturnType<LlmProvider['generate']>): LlmProvider {
  return { name: 'openai', defaultModel: 'm-default', generate };
}

describe('tracedLlm', () => {
  it('puts each call in a GenAI client span: provider, models, usage, finish reason, and no message text', async () => {
    const llm = tracedLlm(
      fakeLlm(async () => ({
        content: 'secret answer',
        model: 'm1-2026',
        provider: 'openai',
        finishReason: 'length',
        usage: { promptTokens: 12, completionTokens: 34 },
      })),
    );
    await llm.generate({ model: 'm1', messages: [{ role: 'user', content: 'secret question' }], maxTokens: 34 });
    const [span, ...others] = exporter.getFinishedSpans();
    expect(others).toHaveLength(0);
    expect(span?.name).toBe('chat m1');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'm1',
      'gen_ai.request.max_tokens': 34,
      'gen_ai.response.model': 'm1-2026',
      'gen_ai.response.finish_reasons': ['length'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 34,
    });
    expect(JSON.stringify(span?.attributes)).not.toContain('secret');
  });

  it('marks a failed call with its error type and rethrows it unchanged', async () => {
    const failure = new LlmError('llm_timeout', 'the model did not answer in time', { retryable: true });
    const llm = tracedLlm(fakeLlm(() => Promise.reject(failure)));
    await expect(llm.generate({ messages: [] })).rejects.toBe(failure);
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('chat m-default');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('llm_timeout');
  });

  it('runs the call inside its span, so the log lines it writes carry the trace and span ids', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'info',
      name: 'spec',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    });
    setTraceFields(activeTraceFields);
    try {
      const llm = tracedLlm(
        fakeLlm(async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          logger.info('inside');
          return { content: '', model: 'm', provider: 'openai', finishReason: 'stop' };
        }),
      );
      await llm.generate({ messages: [] });
      logger.info('outside');
    } finally {
      setTraceFields(undefined);
    }
    const [span] = exporter.getFinishedSpans();
    expect(lines[0]).toMatchObject({ msg: 'inside', traceId: span?.spanContext().traceId });
    expect(lines[0]?.spanId).toBe(span?.spanContext().spanId);
    expect(lines[1]).toMatchObject({ msg: 'outside' });
    expect(lines[1]).not.toHaveProperty('traceId');
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
