import { ApiError, errorFrom, networkError } from './api-error';
import type { TokenPair } from './types';

/**
 * The signed-in session. The access token lives in memory only (a script injected into the page could read it, but
 * nothing persists it); the refresh token lives in sessionStorage, so a reload of this tab stays signed in while other
 * tabs and a closed browser do not. httpOnly cookies would keep both out of reach of scripts, but would need cookie
 * endpoints the API does not have (README, "Web client").
 */
const REFRESH_KEY = 'gigachat.refresh';
/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;

type Listener = (signedIn: boolean) => void;

let accessToken: string | undefined;
let expiresAt = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | undefined;
const listeners = new Set<Listener>();

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function hasSession(): boolean {
  return accessToken !== undefined || sessionStorage.getItem(REFRESH_KEY) !== null;
}

export function accessTokenNow(): string | undefined {
  return accessToken;
}

/** Keeps a new token pair and schedules its silent refresh. */
export function startSession(pair: TokenPair): void {
  accessToken = pair.accessToken;
  expiresAt = Date.now() + pair.expiresIn * 1000;
  sessionStorage.setItem(REFRESH_KEY, pair.refreshToken);
  clearTimeout(timer);
  const due = Math.max(5_000, expiresAt - Date.now() - Math.min(EARLY_MS, (pair.expiresIn * 1000) / 4));
  timer = setTimeout(() => void refresh(), due);
  for (const listener of listeners) listener(true);
}

export function endSession(): void {
  accessToken = undefined;
  expiresAt = 0;
  clearTimeout(timer);
  sessionStorage.removeItem(REFRESH_KEY);
  for (const listener of listeners) listener(false);
}

/**
 * Exchanges the refresh token for a new pair. One exchange at a time: refresh tokens rotate, and presenting a spent
 * one revokes the whole session, so concurrent callers share the same exchange.
 */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    if (!refreshToken) return false;
    let res: Response;
    try {
      res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ refreshToken }),
      });
    } catch {
      // Offline: keep the refresh token and try again shortly.
      clearTimeout(timer);
      timer = setTimeout(() => void refresh(), 10_000);
      throw networkError();
    }
    if (!res.ok) {
      const error = await errorFrom(res);
      if (error.status === 401 || error.status === 400) {
        endSession();
        return false;
      }
      throw error;
    }
    startSession((await res.json()) as TokenPair);
    return true;
  })().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

/** A usable access token: refreshed first when it is missing (after a reload) or about to expire. */
export async function validAccessToken(): Promise<string | undefined> {
  if (accessToken && Date.now() < expiresAt - 5_000) return accessToken;
  if (!sessionStorage.getItem(REFRESH_KEY)) return accessToken;
  try {
    await refresh();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  return accessToken;
}
