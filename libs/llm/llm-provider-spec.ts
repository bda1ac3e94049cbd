import { z } from 'zod';

/** One configured OpenAI-compatible provider, as read from `LLM_PROVIDERS` (or built from `LLM_BASE_URL`). */
export interface LlmProviderSpec {
  /** Unique; reported as the provider that answered, and names its circuit breaker (`llm:<name>`). */
  name: string;
  /** Base URL including the version segment, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** The models it serves; the first is the one used when this provider stands in for another model. */
  models: string[];
  /** Smaller is tried first; ties keep the order of the list. Default 0. */
  priority: number;
  /** The models' context window, as listed to clients. */
  contextTokens?: number;
  /** Caps the answer length asked of this provider. */
  maxOutputTokens?: number;
}

/** The model names clients may send (`MODEL_NAME` of the API's DTOs). */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9._:/@-]{1,100}$/;

const entrySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  apiKey: z.string().optional(),
  models: z
    .array(z.string().regex(MODEL_NAME_PATTERN, 'must be model names (letters, digits and ._:/@-)'))
    .min(1, 'must name at least one model'),
  priority: z.number().int().min(-1000).max(1000).optional(),
  contextTokens: z.number().int().min(256).max(2_000_000).optional(),
  maxOutputTokens: z.number().int().min(16).max(200_000).optional(),
});

/**
 * Reads `LLM_PROVIDERS`, a JSON array of `{name, baseUrl, apiKey?, models, priority?, contextTokens?,
 * maxOutputTokens?}`. Problems name the variable and the entry (by position and name), never a value: the text holds
 * API keys.
 */
export function parseLlmProviders(text: string): { providers: LlmProviderSpec[]; problems: string[] } {
  const variable = 'LLM_PROVIDERS';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the error, which may be a key.
    return { providers: [], problems: [`${variable}: is not valid JSON`] };
  }
  if (!Array.isArray(json)) return { providers: [], problems: [`${variable}: must be a JSON array of providers`] };
  if (json.length === 0) return { providers: [], problems: [`${variable}: must list at least one provider`] };

  const problems: string[] = [];
  const providers: LlmProviderSpec[] = [];
  json.forEach((entry: unknown, index) => {
    const label = `${variable}: entry ${index + 1}${labelOf(entry)}`;
    const parsed = entrySchema.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(`${label}${issue.path.length > 0 ? ` ${issue.path.join('.')}` : ''}: ${issue.message}`);
      }
      return;
    }
    const { apiKey, priority, models, ...rest } = parsed.data;
    if (providers.some((p) => p.name === rest.name)) problems.push(`${label}: the name is used twice`);
    if (new Set(models).size !== models.length) problems.push(`${label} models: lists a model twice`);
    providers.push({ ...rest, models, priority: priority ?? 0, ...(apiKey?.trim() ? { apiKey: apiKey.trim() } : {}) });
  });
  return problems.length > 0 ? { providers: [], problems } : { providers, problems };
}

function labelOf(entry: unknown): string {
  if (typeof entry !== 'object' || entry === null || !('name' in entry)) return '';
  const { name } = entry;
  return typeof name === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(name) ? ` ("${name}")` : '';
}
