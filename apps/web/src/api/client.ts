import { ApiError, errorFrom, networkError } from './api-error';
import { endSession, refresh, validAccessToken } from './session';

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send without a token (sign-in, registration). */
  anonymous?: boolean;
}

/**
 * Calls the API (`/api/v1` + path) with the session's bearer token. A `401 token_expired` refreshes the session once
 * and repeats the call; any other 401 ends the session. Errors are thrown as ApiError (problem+json).
 */
export async function call(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const send = async (): Promise<Response> => {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (!options.anonymous) {
      const token = await validAccessToken();
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    try {
      return await fetch(`/api/v1${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw networkError();
    }
  };
  let res = await send();
  if (res.status === 401 && !options.anonymous) {
    const error = await errorFrom(res);
    if (error.code === 'token_expired' && (await refresh().catch(() => false))) res = await send();
    else {
      if (error.code !== 'mfa_required' && error.code !== 'invalid_credentials') endSession();
      throw error;
    }
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

export async function getJson<T>(path: string, options?: RequestOptions): Promise<T> {
  return (await (await call('GET', path, options)).json()) as T;
}

export async function sendJson<T>(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<T> {
  const res = await call(method, path, { ...options, body });
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Query string from the defined, non-empty values. */
export function query(values: Record<string, string | number | boolean | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export { ApiError };
