import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { GenerateRequest, GenerateResult, LlmProvider } from '../llm/llm-provider';

/*
 * Attribute names of OpenTelemetry's GenAI semantic conventions (still "development" there, so not exported by the
 * stable @opentelemetry/semantic-conventions entry point). `gen_ai.system` is the older name of
 * `gen_ai.provider.name`; both are set so backends of either vintage group the calls.
 */
export const GEN_AI = {
  operation: 'gen_ai.operation.name',
  system: 'gen_ai.system',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  maxTokens: 'gen_ai.request.max_tokens',
  temperature: 'gen_ai.request.temperature',
  responseModel: 'gen_ai.response.model',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
} as const;

/**
 * `llm` with every call in a client span named `chat <model>` carrying the GenAI attributes: provider, requested and
 * answering model, token usage and finish reason (never the messages). The model's HTTP call (fetch) is its child.
 * Wrap the provider the worker calls (after the fallback chain, so the span names the provider that answered).
 */
export function tracedLlm(llm: LlmProvider): LlmProvider {
  const tracer = trace.getTracer('gigachat-llm');
  return {
    name: llm.name,
    defaultModel: llm.defaultModel,
    generate(req: GenerateRequest): Promise<GenerateResult> {
      const model = req.model ?? llm.defaultModel;
      const attributes = {
        [GEN_AI.operation]: 'chat',
        [GEN_AI.system]: llm.name,
        [GEN_AI.provider]: llm.name,
        [GEN_AI.requestModel]: model,
        ...(req.maxTokens !== undefined ? { [GEN_AI.maxTokens]: req.maxTokens } : {}),
        ...(req.temperature !== undefined ? { [GEN_AI.temperature]: req.temperature } : {}),
      };
      return tracer.startActiveSpan(`chat ${model}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
        try {
          const result = await llm.generate(req);
          span.setAttributes({
            [GEN_AI.system]: result.provider,
            [GEN_AI.provider]: result.provider,
            [GEN_AI.responseModel]: result.model,
            [GEN_AI.finishReasons]: [result.finishReason],
            ...(result.usage
              ? {
                  [GEN_AI.inputTokens]: result.usage.promptTokens,
                  [GEN_AI.outputTokens]: result.usage.completionTokens,
                }
              : {}),
          });
          return result;
        } catch (error) {
          const type = (error as { type?: string }).type;
          span.setAttribute('error.type', type ?? (error instanceof Error ? error.name : 'error'));
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
          throw error;
        } finally {
          span.end();
        }
      });
    },
  };
}
