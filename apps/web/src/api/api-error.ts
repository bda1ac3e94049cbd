import type { Problem } from './types';

/** A problem+json answer (or a network failure, status 0) as a thrown value. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;
  /** Seconds from `Retry-After`, when the answer carried one. */
  readonly retryAfter: number | undefined;

  constructor(problem: Problem, retryAfter?: number) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.name = 'ApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** The message of the field `name` in `errors`, if the server named it. */
  field(name: string): string | undefined {
    return this.problem.errors?.find((e) => e.field === name)?.message;
  }
}

export const networkError = (): ApiError =>
  new ApiError({ status: 0, code: 'network', detail: 'The server cannot be reached. Check your connection.' });

export async function errorFrom(res: Response): Promise<ApiError> {
  let problem: Problem = { status: res.status, code: `http_${res.status}` };
  try {
    const body = (await res.json()) as Partial<Problem>;
    if (body && typeof body.code === 'string') problem = { ...body, status: res.status, code: body.code };
  } catch {
    // not problem+json (a proxy's page): keep the status
  }
  const retry = Number(res.headers.get('retry-after'));
  return new ApiError(problem, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}
