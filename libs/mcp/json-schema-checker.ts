import Ajv, { type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';

type AnyAjv = Ajv | Ajv2019 | Ajv2020;

/** Issues shown to the model at most; a few are enough for it to correct the call. */
const MAX_ISSUES = 5;
/** Compiled schemas kept; the oldest is dropped beyond this (users' own servers may bring many). */
const MAX_CACHED = 500;

const OPTIONS: Options = {
  allErrors: true,
  // Servers' schemas carry keywords and formats Ajv does not know (titles in odd places, "uri"...): ignore them
  // rather than refuse the tool. The server validates its input again anyway.
  strict: false,
  validateFormats: false,
};

/**
 * Compiles MCP tools' input schemas (JSON Schema, whatever draft `$schema` names; 2020-12 when none is named, as the
 * MCP specification says, falling back to draft-07) and checks arguments against them. Compiled schemas are cached
 * by their JSON text.
 */
export class JsonSchemaChecker {
  private readonly draft07 = new Ajv(OPTIONS);
  private readonly draft2019 = new Ajv2019(OPTIONS);
  private readonly draft2020 = new Ajv2020(OPTIONS);
  private readonly cache = new Map<string, { ajv: AnyAjv; schema: object; validate: ValidateFunction }>();

  /** Compiles `schema` (or finds it compiled); throws with Ajv's reason when it does not compile. */
  compile(schema: Record<string, unknown>): ValidateFunction {
    const key = JSON.stringify(schema);
    const cached = this.cache.get(key);
    if (cached) return cached.validate;
    // `$schema` chose the draft; `$id` would clash when two servers send the same one. Neither is needed to check.
    const { $schema, $id: _id, ...body } = schema;
    const drafts = this.draftsFor(typeof $schema === 'string' ? $schema : undefined);
    let lastError: unknown;
    for (const ajv of drafts) {
      try {
        const validate = ajv.compile(body);
        this.remember(key, { ajv, schema: body, validate });
        return validate;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /** The issues of `value` against `schema`, short and for the model (`/path must be string`); [] when it fits. */
  check(schema: Record<string, unknown>, value: unknown): string[] {
    const validate = this.compile(schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).slice(0, MAX_ISSUES).map(describeIssue);
  }

  private draftsFor(uri: string | undefined): AnyAjv[] {
    if (uri === undefined) return [this.draft2020, this.draft07];
    if (uri.includes('2020-12')) return [this.draft2020];
    if (uri.includes('2019-09')) return [this.draft2019];
    // draft-07, -06 and -04 (Ajv reads -04 schemas well enough without its `$schema`).
    return [this.draft07];
  }

  private remember(key: string, entry: { ajv: AnyAjv; schema: object; validate: ValidateFunction }): void {
    this.cache.set(key, entry);
    if (this.cache.size <= MAX_CACHED) return;
    const [oldestKey, oldest] = this.cache.entries().next().value as [string, typeof entry];
    this.cache.delete(oldestKey);
    oldest.ajv.removeSchema(oldest.schema);
  }
}

function describeIssue(issue: ErrorObject): string {
  const params = issue.params as { additionalProperty?: unknown; allowedValues?: unknown[] };
  const detail =
    issue.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string'
      ? ` (${params.additionalProperty})`
      : issue.keyword === 'enum' && Array.isArray(params.allowedValues)
        ? ` (${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')})`
        : '';
  const message = `${issue.message ?? 'is invalid'}${detail}`;
  return issue.instancePath ? `${issue.instancePath} ${message}` : message;
}
