import type { GenerateRequest, GenerateResult, LlmProvider } from '../llm/llm-provider';
import type { WorkerMetrics } from './metrics';

/** A model name as a label: the provider's own spelling when it is a plain name, else `other`. */
function modelLabel(model: string): string {
  return /^[A-Za-z0-9._:/@-]{1,64}$/.test(model) ? model : 'other';
}

/**
 * `llm` with every call counted: by provider, model and outcome, its duration, its time to first token and its tokens
 * in and out. Providers and models come from the deployment's configuration, so the labels stay few.
 */
export function meteredLlm(llm: LlmProvider, metrics: WorkerMetrics): LlmProvider {
  return {
    name: llm.name,
    defaultModel: llm.defaultModel,
    async generate(req: GenerateRequest): Promise<GenerateResult> {
      const started = performance.now();
      let firstToken: number | undefined;
      const onDelta = req.onDelta;
      try {
        const result = await llm.generate({
          ...req,
          onDelta: (delta) => {
            firstToken ??= performance.now();
            return onDelta?.(delta);
          },
        });
        const provider = modelLabel(result.provider);
        metrics.generations.inc({ provider, model: modelLabel(result.model), outcome: 'completed' });
        metrics.generationSeconds.observe({ provider }, (performance.now() - started) / 1000);
        if (firstToken !== undefined) metrics.firstTokenSeconds.observe({ provider }, (firstToken - started) / 1000);
        if (result.usage) {
          metrics.tokens.inc({ provider, direction: 'in' }, result.usage.promptTokens);
          metrics.tokens.inc({ provider, direction: 'out' }, result.usage.completionTokens);
        }
        return result;
      } catch (error) {
        const aborted = (error as { type?: string }).type === 'llm_aborted';
        metrics.generations.inc({
          provider: modelLabel(llm.name),
          model: modelLabel(req.model ?? llm.defaultModel),
          outcome: aborted ? 'cancelled' : 'failed',
        });
        throw error;
      }
    },
  };
}
