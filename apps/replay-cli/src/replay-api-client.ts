import type { ReplayRequestBody, ReportFormat } from './replay-args';

/** The replay as `GET /api/v1/replays/:id` shows it (the fields the CLI reads). */
export interface ReplayState {
  id: string;
  status: 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';
  error: { code: string; detail: string } | null;
  progress: {
    conversations: { total: number; done: number; failed: number; cancelled: number; running: number; pending: number };
    turns: { done: number; failed: number };
    tokens: { prompt: number; completion: number };
    etaSeconds: number | null;
  };
}

/** The API refused a request; `status` and the problem's `code` and `detail` say why. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly fields: { field: string; message: string }[] = [],
  ) {
    super(`${status} ${code}: ${detail}`);
  }
}

/** The replay routes of the REST API, with an admin API token. */
export class ReplayApiClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.base = `${baseUrl.replace(/\/+$/, '')}/api/v1/replays`;
  }

  async create(body: ReplayRequestBody, idempotencyKey?: string): Promise<ReplayState> {
    const res = await this.request('', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      body: JSON.stringify(body),
    });
    return (await res.json()) as ReplayState;
  }

  async get(replayId: string): Promise<ReplayState> {
    return (await (await this.request(`/${encodeURIComponent(replayId)}`)).json()) as ReplayState;
  }

  async report(replayId: string, format: ReportFormat): Promise<string> {
    return (await this.request(`/${encodeURIComponent(replayId)}/report?format=${format}`)).text();
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(`${this.base}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.ok) return res;
    const text = await res.text();
    let problem: { code?: string; detail?: string; errors?: { field: string; message: string }[] } = {};
    try {
      problem = JSON.parse(text) as typeof problem;
    } catch {
      // not problem+json (a proxy's page): the status says enough
    }
    throw new ApiError(res.status, problem.code ?? 'http_error', problem.detail ?? text.slice(0, 200), problem.errors);
  }
}
