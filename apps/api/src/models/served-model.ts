import { ValidationError } from '#libs/errors/app-error';
import type { ModelCatalog } from '#libs/llm/provider-registry';

/** Refuses a model no configured provider serves, before anything is written (`400 validation_failed` on `model`). */
export function requireServedModel(catalog: ModelCatalog, model: string, why = 'is not served'): void {
  if (!catalog.has(model)) {
    throw new ValidationError([{ field: 'model', message: `${why}; GET /api/v1/models lists the models` }]);
  }
}
